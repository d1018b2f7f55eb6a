-- The pseudonymisation key's check value (issue 14 item 7): an HMAC of a fixed label
-- with the key, so that opening the database with another key, or without the key
-- file it was made with, is refused instead of silently cutting every pupil's old
-- pseudonyms off from new ones. One row; the key itself is never stored.
CREATE TABLE key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value TEXT NOT NULL,
    created INTEGER NOT NULL
);

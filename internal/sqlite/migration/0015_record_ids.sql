-- Record ids merged, not inserted at random (issue 16). A record id is a SAML assertion
-- id or a log's own: random, so a UNIQUE (id) index took each new row at a random page,
-- and every 20,000-line commit rewrote thousands of its pages (at 10M diverse records
-- most of the ingest's time). Now:
--   * a row is unique by (time, id), an index that grows at its end like the log it is
--     read from: an identical record ingested again (same id, same time) is found there
--     at once and is a duplicate, and one with the same id and time but other content
--     an id conflict, as before;
--   * every id is also kept once in record_ids, merged in id order when an ingest ends
--     (or when an audit starts, after a killed ingest): a new row whose id a row with
--     another time holds already is an id conflict found there, deleted and rejected
--     with its source and line, which each row keeps for that.
-- The index on (time) alone is dropped: (time, id) serves the same range scans.
-- seq is AUTOINCREMENT so that a seq, once used, never comes back: the watermarks below
-- and roles_watermark count on it (a purge or a rejected row could free the last one).

CREATE TABLE releases_v15 (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT NOT NULL,
	time         INTEGER NOT NULL,        -- unix nanoseconds, UTC
	sp           INTEGER NOT NULL,        -- names
	controller   INTEGER NOT NULL,        -- names
	subject      TEXT NOT NULL,           -- pseudonym
	role         INTEGER NOT NULL,        -- 0 no role, 1 non-learner, 2 learner
	shape        INTEGER NOT NULL,        -- shapes
	fingerprints BLOB NOT NULL,           -- 8 bytes per attribute of the shape, in name order
	school       INTEGER NOT NULL DEFAULT 0, -- names: the school's code or OID; 0 none
	source       INTEGER NOT NULL DEFAULT 0, -- sources: the file the row was read from; 0 unknown
	line         INTEGER NOT NULL DEFAULT 0, -- its line there
	UNIQUE (time, id)
);
INSERT INTO releases_v15 (seq, id, time, sp, controller, subject, role, shape, fingerprints, school)
	SELECT seq, id, time, sp, controller, subject, role, shape, fingerprints, school FROM releases ORDER BY seq;
DROP TABLE releases;
ALTER TABLE releases_v15 RENAME TO releases;
CREATE INDEX releases_controller_time ON releases (controller, time, sp);

CREATE TABLE uses_v15 (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL,
	time       INTEGER NOT NULL,
	sp         INTEGER NOT NULL,          -- names
	controller INTEGER,                   -- names; NULL: the subject's latest release to the SP decides
	subject    TEXT NOT NULL,
	purpose    INTEGER NOT NULL,          -- names
	shape      INTEGER NOT NULL,          -- shapes: the attribute names the use names
	source     INTEGER NOT NULL DEFAULT 0,
	line       INTEGER NOT NULL DEFAULT 0,
	UNIQUE (time, id)
);
INSERT INTO uses_v15 (seq, id, time, sp, controller, subject, purpose, shape)
	SELECT seq, id, time, sp, controller, subject, purpose, shape FROM uses ORDER BY seq;
DROP TABLE uses;
ALTER TABLE uses_v15 RENAME TO uses;
CREATE INDEX uses_controller_time ON uses (controller, time);

-- The names of the files rows were read from ("-" stdin, "request" a POST body): kept
-- apart from names, which are what records name (an audit's controller is looked up there).
CREATE TABLE sources (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

-- Every stored id once per kind (0 releases, 1 uses) and the seq of the row holding it.
-- An entry whose row a purge deleted is stale: the merge takes it for absent.
CREATE TABLE record_ids (
	kind INTEGER NOT NULL,
	id   TEXT NOT NULL,
	seq  INTEGER NOT NULL,
	PRIMARY KEY (kind, id)
) WITHOUT ROWID;
INSERT INTO record_ids (kind, id, seq) SELECT 0, id, seq FROM releases ORDER BY id;
INSERT INTO record_ids (kind, id, seq) SELECT 1, id, seq FROM uses ORDER BY id;

-- Up to which seq each kind's ids are merged into record_ids.
CREATE TABLE ids_watermark (
	kind INTEGER PRIMARY KEY,
	seq  INTEGER NOT NULL
);
INSERT INTO ids_watermark (kind, seq) VALUES
	(0, (SELECT COALESCE(MAX(seq), 0) FROM releases)),
	(1, (SELECT COALESCE(MAX(seq), 0) FROM uses));

-- subject_roles is brought up to date set-wise (one GROUP BY over the new releases)
-- rather than with an upsert per release: up to which release seq it is up to date.
CREATE TABLE roles_watermark (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO roles_watermark (id, seq) VALUES (1, 0);

-- Records as the auditor keeps them: attribute values are reduced to facts (JSON)
-- and subjects to keyed pseudonyms before they reach this database.
CREATE TABLE releases (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	time       INTEGER NOT NULL,          -- unix nanoseconds, UTC
	sp         TEXT NOT NULL,
	controller TEXT NOT NULL,
	subject    TEXT NOT NULL,             -- pseudonym
	role       INTEGER NOT NULL,          -- 0 no role, 1 non-learner, 2 learner
	attributes TEXT NOT NULL,             -- {"<canonical name>": facts}
	fingerprints TEXT NOT NULL            -- {"<canonical name>": keyed fingerprint of its values}
);
-- sp too, so a report counts a controller-month per SP from the index alone
CREATE INDEX releases_controller_time ON releases (controller, time, sp);
CREATE INDEX releases_time ON releases (time);

CREATE TABLE uses (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	time       INTEGER NOT NULL,
	sp         TEXT NOT NULL,
	controller TEXT,                      -- NULL: the subject's latest release to the SP decides
	subject    TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	attributes TEXT NOT NULL              -- ["<canonical name>", ...]
);
CREATE INDEX uses_time ON uses (time);
CREATE INDEX uses_controller_time ON uses (controller, time);

-- What all releases of a subject to an SP say of its role, and the controller of the
-- latest one: the learner presumption and a use's controller come from here.
CREATE TABLE subject_roles (
	subject         TEXT NOT NULL,
	sp              TEXT NOT NULL,
	learner         INTEGER NOT NULL,     -- 1 when any release showed a learner role
	role_known      INTEGER NOT NULL,     -- 1 when any release showed a role
	last_time       INTEGER NOT NULL,
	last_controller TEXT NOT NULL,
	PRIMARY KEY (subject, sp)
) WITHOUT ROWID;

-- Rejected lines: where and why, and the line's digest; never the text, which may hold
-- the very data the auditor must not keep.
CREATE TABLE rejections (
	id       INTEGER PRIMARY KEY,
	source   TEXT NOT NULL,
	line     INTEGER NOT NULL,
	field    TEXT NOT NULL,
	reason   TEXT NOT NULL,
	digest   TEXT NOT NULL,
	rejected INTEGER NOT NULL,
	UNIQUE (source, line, digest)
);

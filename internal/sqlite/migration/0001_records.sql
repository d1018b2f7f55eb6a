-- Records as the auditor keeps them: attribute values are reduced to facts and subjects
-- to keyed pseudonyms before they reach this database. A national audit reads tens of
-- millions of rows, so rows are small: names and fact shapes are stored once and
-- referred to by number.

-- SP ids, controller OIDs and purpose keys, each stored once.
CREATE TABLE names (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

-- The attribute facts of a record, without fingerprints: {"<canonical name>": facts}.
-- Many records share one shape; the policies judge a shape, never a value.
CREATE TABLE shapes (
	id    INTEGER PRIMARY KEY,
	facts TEXT NOT NULL UNIQUE
);

CREATE TABLE releases (
	seq          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	time         INTEGER NOT NULL,        -- unix nanoseconds, UTC
	sp           INTEGER NOT NULL,        -- names
	controller   INTEGER NOT NULL,        -- names
	subject      TEXT NOT NULL,           -- pseudonym
	role         INTEGER NOT NULL,        -- 0 no role, 1 non-learner, 2 learner
	shape        INTEGER NOT NULL,        -- shapes
	fingerprints BLOB NOT NULL            -- 8 bytes per attribute of the shape, in name order
);
-- sp too, so a report counts a controller-month per SP from the index alone
CREATE INDEX releases_controller_time ON releases (controller, time, sp);
CREATE INDEX releases_time ON releases (time);

CREATE TABLE uses (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	time       INTEGER NOT NULL,
	sp         INTEGER NOT NULL,          -- names
	controller INTEGER,                   -- names; NULL: the subject's latest release to the SP decides
	subject    TEXT NOT NULL,
	purpose    INTEGER NOT NULL,          -- names
	shape      INTEGER NOT NULL           -- shapes: the attribute names the use names
);
CREATE INDEX uses_time ON uses (time);
CREATE INDEX uses_controller_time ON uses (controller, time);

-- What all releases of a subject to an SP say of its role, and the controller of the
-- latest one: the learner presumption and a use's controller come from here.
CREATE TABLE subject_roles (
	subject         TEXT NOT NULL,
	sp              INTEGER NOT NULL,
	learner         INTEGER NOT NULL,     -- 1 when any release showed a learner role
	role_known      INTEGER NOT NULL,     -- 1 when any release showed a role
	last_time       INTEGER NOT NULL,
	last_controller INTEGER NOT NULL,
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

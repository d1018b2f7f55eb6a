-- What `registry import` brings from MPASSid's management service and OPH's
-- organisation service (RECORDS.md "The registry from MPASSid's own systems").
ALTER TABLE controllers ADD COLUMN names TEXT NOT NULL DEFAULT '{}';          -- JSON {fi, sv, en}
ALTER TABLE controllers ADD COLUMN permission_data INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schools ADD COLUMN school_oid TEXT NOT NULL DEFAULT '';
ALTER TABLE schools ADD COLUMN names TEXT NOT NULL DEFAULT '{}';
ALTER TABLE schools ADD COLUMN parent TEXT NOT NULL DEFAULT '';
ALTER TABLE service_providers ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';  -- JSON: protocol, vendor, phase, sets

CREATE TABLE registry_sources (
	version INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	name    TEXT NOT NULL,
	digest  TEXT NOT NULL,
	PRIMARY KEY (version, seq)
);

CREATE TABLE permissions (
	version    INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	controller TEXT NOT NULL,
	sp         TEXT NOT NULL,
	set_id     TEXT NOT NULL,
	valid_from INTEGER NOT NULL,   -- UTC nanoseconds
	valid_to   INTEGER,            -- NULL: still allowed
	source     TEXT NOT NULL,
	PRIMARY KEY (version, seq)
);

CREATE TABLE identity_providers (
	version    INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	controller TEXT NOT NULL,
	flow       TEXT NOT NULL,
	idp_id     TEXT NOT NULL,
	type       TEXT NOT NULL,
	PRIMARY KEY (version, seq)
);

CREATE TABLE service_sets (
	version INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	id      TEXT NOT NULL,
	name    TEXT NOT NULL,
	PRIMARY KEY (version, id)
);

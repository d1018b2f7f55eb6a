-- Registry versions: every load is a new version; audits record the one they used.
CREATE TABLE registry_versions (
	version INTEGER PRIMARY KEY,
	loaded  INTEGER NOT NULL,
	digest  TEXT NOT NULL
);

CREATE TABLE controllers (
	version INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	oid     TEXT NOT NULL,
	name    TEXT NOT NULL,
	PRIMARY KEY (version, oid)
);

CREATE TABLE schools (
	version    INTEGER NOT NULL,
	controller TEXT NOT NULL,
	code       TEXT NOT NULL,
	name       TEXT NOT NULL,
	PRIMARY KEY (version, controller, code),
	FOREIGN KEY (version, controller) REFERENCES controllers (version, oid) ON DELETE CASCADE
);

CREATE TABLE service_providers (
	version    INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	name       TEXT NOT NULL,
	commercial INTEGER NOT NULL,
	valid_from TEXT NOT NULL,
	valid_to   TEXT NOT NULL,
	attributes TEXT NOT NULL,             -- JSON array of canonical names
	purposes   TEXT NOT NULL,             -- JSON array of purpose keys
	PRIMARY KEY (version, id)
);

CREATE TABLE agreements (
	version    INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	controller TEXT NOT NULL,
	sp         TEXT NOT NULL,
	valid_from TEXT NOT NULL,
	valid_to   TEXT NOT NULL,
	attributes TEXT NOT NULL,
	purposes   TEXT NOT NULL,
	PRIMARY KEY (version, seq)
);

CREATE TABLE consents (
	version   INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	seq       INTEGER NOT NULL,
	subject   TEXT NOT NULL,                -- pseudonym
	sp        TEXT NOT NULL,
	purpose   TEXT NOT NULL,
	given_by  TEXT NOT NULL,
	given     INTEGER NOT NULL,
	withdrawn INTEGER,
	PRIMARY KEY (version, seq)
);

CREATE TABLE exceptions (
	version    INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	id         TEXT NOT NULL,
	term       TEXT NOT NULL,
	rule       TEXT NOT NULL,
	sp         TEXT NOT NULL,
	controller TEXT NOT NULL,
	attribute  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	expires    TEXT NOT NULL,
	PRIMARY KEY (version, id)
);

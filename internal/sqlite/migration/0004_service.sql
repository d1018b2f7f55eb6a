-- API tokens: only a hash of the secret is kept; the id is public and finds the row.
CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	hash        TEXT NOT NULL,            -- SHA-256 of the secret part, hex
	role        TEXT NOT NULL,            -- dpo | auditor | ingest
	controllers TEXT NOT NULL,            -- JSON array of OIDs (dpo)
	name        TEXT NOT NULL,
	created     INTEGER NOT NULL,
	revoked     INTEGER
);

-- Web sessions after a token login; the cookie holds the secret, the table its hash.
CREATE TABLE sessions (
	hash     TEXT PRIMARY KEY,
	token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
	csrf     TEXT NOT NULL,
	expires  INTEGER NOT NULL
);

-- PDF reports the scheduled audits stored, by run, controller, period and language.
CREATE TABLE stored_reports (
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	controller TEXT NOT NULL,
	period     TEXT NOT NULL,
	lang       TEXT NOT NULL,
	pdf        BLOB NOT NULL,
	PRIMARY KEY (run_id, controller, period, lang)
);

-- When the scheduler last handled a due time, so a missed one runs once after a restart.
CREATE TABLE schedule_state (
	schedule TEXT PRIMARY KEY,
	handled  INTEGER NOT NULL
);

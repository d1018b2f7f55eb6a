-- Audit runs and every finding they made (never capped).
CREATE TABLE runs (
	id               INTEGER PRIMARY KEY,
	started          INTEGER NOT NULL,
	finished         INTEGER,
	status           TEXT NOT NULL,       -- running | finished | failed
	controller       TEXT NOT NULL,       -- '' = all
	from_day         TEXT NOT NULL,       -- '' = unbounded
	to_day           TEXT NOT NULL,
	policy_digest    TEXT NOT NULL,
	registry_version INTEGER NOT NULL,
	summary          TEXT NOT NULL DEFAULT '{}',
	previous         INTEGER,
	error            TEXT NOT NULL DEFAULT '',
	pid              INTEGER NOT NULL DEFAULT 0 -- the auditing process, to tell an interrupted run
);
CREATE INDEX runs_scope ON runs (controller, from_day, to_day, id);

CREATE TABLE findings (
	run_id                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	finding               TEXT NOT NULL,
	term                  TEXT NOT NULL,
	rule                  TEXT NOT NULL,
	result                TEXT NOT NULL,
	severity              TEXT NOT NULL,
	message               TEXT NOT NULL,
	record                TEXT NOT NULL,
	kind                  TEXT NOT NULL,
	time                  INTEGER NOT NULL,
	sp                    TEXT NOT NULL,
	controller            TEXT NOT NULL,
	subject               TEXT NOT NULL,
	attribute             TEXT NOT NULL,
	fingerprint           TEXT NOT NULL,
	exception             TEXT NOT NULL,
	exception_not_applied TEXT NOT NULL,
	change                TEXT NOT NULL,
	PRIMARY KEY (run_id, finding)
);
CREATE INDEX findings_order ON findings (run_id, term, rule, sp, record, attribute);
CREATE INDEX findings_controller ON findings (run_id, controller);

-- Per run, controller and SP: what was released and used over the whole run, and the
-- results, for the reports and for summaries limited to a reader's controllers.
CREATE TABLE run_stats (
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	controller  TEXT NOT NULL,
	sp          TEXT NOT NULL,
	releases    INTEGER NOT NULL,
	uses        INTEGER NOT NULL,
	attributes  TEXT NOT NULL,            -- {"<name>": releases carrying it}
	disclosures TEXT NOT NULL,            -- {"<name>": approved age-indicative releases}
	summary     TEXT NOT NULL,            -- {"pass": n, "fail": n, ...}
	PRIMARY KEY (run_id, controller, sp)
);


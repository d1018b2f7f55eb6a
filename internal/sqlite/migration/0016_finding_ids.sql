-- A run's findings by their stable id, in a table of their own filled in id order
-- when the run's findings are stored (issue 16). As the primary key of findings,
-- (run_id, finding) took each finding at a random page of an index larger than any
-- cache: at 10M diverse records half of the time storing 2.1 million findings took.
-- findings keep their listing order (FindingWriter stores them in it); seq, the rowid
-- made explicit, is what finding_ids refers to (an implicit rowid may change in a VACUUM).
CREATE TABLE findings_v16 (
	seq                   INTEGER PRIMARY KEY,
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
	purpose               TEXT NOT NULL DEFAULT ''
);
INSERT INTO findings_v16 (run_id, finding, term, rule, result, severity, message, record, kind, time, sp, controller,
		subject, attribute, fingerprint, exception, exception_not_applied, change, purpose)
	SELECT run_id, finding, term, rule, result, severity, message, record, kind, time, sp, controller,
		subject, attribute, fingerprint, exception, exception_not_applied, change, purpose
	FROM findings ORDER BY run_id, term, rule, sp, record, attribute, finding;
DROP TABLE findings;
ALTER TABLE findings_v16 RENAME TO findings;
CREATE INDEX findings_order ON findings (run_id, term, rule, sp, record, attribute);
CREATE INDEX findings_controller ON findings (run_id, controller);

-- One row per finding of a run: its stable id and its row. The primary key keeps a
-- finding id once per run, as the old primary key of findings did.
CREATE TABLE finding_ids (
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	finding TEXT NOT NULL,
	seq     INTEGER NOT NULL,         -- findings
	PRIMARY KEY (run_id, finding)
) WITHOUT ROWID;
INSERT INTO finding_ids (run_id, finding, seq) SELECT run_id, finding, seq FROM findings ORDER BY run_id, finding;

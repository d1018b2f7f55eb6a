-- Findings by reference (issue 16). A finding row repeated its decision's texts (term,
-- rule, result, severity, message, attribute, exceptions) and its SP, controller and
-- purpose as text: about 400 bytes a row, and the listing-order index 185 more. At 10M
-- diverse records a run's 2.1 million findings were 1.4 GB to sort, write and index,
-- a third of the audit, on one core. Now a finding refers to its decision (a few
-- hundred a run) and to names, about 130 bytes.
--
-- A run's findings are stored in listing order (term, rule, SP, record, attribute,
-- finding: FindingWriter, and migration 0016 for older runs), so seq order within a
-- run is listing order and needs no index of its texts. The controller of each
-- finding is also kept apart, in controller order, for a DPO's queries: an index of
-- findings by controller would take each finding at a random page as a run is stored.
CREATE TABLE decisions (
	id                    INTEGER PRIMARY KEY,
	term                  TEXT NOT NULL,
	rule                  TEXT NOT NULL,
	result                TEXT NOT NULL,
	severity              TEXT NOT NULL,
	message               TEXT NOT NULL,
	attribute             TEXT NOT NULL,
	exception             TEXT NOT NULL,
	exception_not_applied TEXT NOT NULL,
	UNIQUE (term, rule, result, severity, message, attribute, exception, exception_not_applied)
);
INSERT INTO decisions (term, rule, result, severity, message, attribute, exception, exception_not_applied)
	SELECT DISTINCT term, rule, result, severity, message, attribute, exception, exception_not_applied FROM findings
	ORDER BY term, rule, attribute, result, severity, message, exception, exception_not_applied;

-- names the findings hold that no record does ('' is no name: 0)
INSERT INTO names (name)
	SELECT sp FROM findings WHERE sp != '' UNION SELECT controller FROM findings WHERE controller != ''
	UNION SELECT purpose FROM findings WHERE purpose != ''
	ON CONFLICT DO NOTHING;

CREATE TABLE findings_v17 (
	seq         INTEGER PRIMARY KEY,
	run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	finding     TEXT NOT NULL,
	decision    INTEGER NOT NULL REFERENCES decisions (id),
	record      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	time        INTEGER NOT NULL,         -- unix nanoseconds, UTC
	sp          INTEGER NOT NULL,         -- names; 0 none
	controller  INTEGER NOT NULL,         -- names; 0 none (a use whose controller is unknown)
	subject     TEXT NOT NULL,            -- pseudonym
	fingerprint TEXT NOT NULL,
	change      TEXT NOT NULL,
	purpose     INTEGER NOT NULL          -- names; 0 none
);
INSERT INTO findings_v17 (seq, run_id, finding, decision, record, kind, time, sp, controller, subject, fingerprint, change, purpose)
	SELECT f.seq, f.run_id, f.finding, d.id, f.record, f.kind, f.time, COALESCE(s.id, 0), COALESCE(c.id, 0), f.subject,
		f.fingerprint, f.change, COALESCE(p.id, 0)
	FROM findings f
	JOIN decisions d ON d.term = f.term AND d.rule = f.rule AND d.result = f.result AND d.severity = f.severity
		AND d.message = f.message AND d.attribute = f.attribute AND d.exception = f.exception
		AND d.exception_not_applied = f.exception_not_applied
	LEFT JOIN names s ON s.name = f.sp AND f.sp != ''
	LEFT JOIN names c ON c.name = f.controller AND f.controller != ''
	LEFT JOIN names p ON p.name = f.purpose AND f.purpose != ''
	ORDER BY f.seq;
DROP TABLE findings;
ALTER TABLE findings_v17 RENAME TO findings;
CREATE INDEX findings_run ON findings (run_id);

-- A run's findings by controller, for the queries of a DPO.
CREATE TABLE finding_controllers (
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	controller INTEGER NOT NULL,          -- names; 0 none
	seq        INTEGER NOT NULL,          -- findings
	PRIMARY KEY (run_id, controller, seq)
) WITHOUT ROWID;
INSERT INTO finding_controllers (run_id, controller, seq) SELECT run_id, controller, seq FROM findings ORDER BY run_id, controller, seq;

-- The findings as they read: what every reader selects from.
CREATE VIEW finding_rows AS
	SELECT f.seq, f.run_id, f.finding, d.term, d.rule, d.result, d.severity, d.message, f.record, f.kind, f.time,
		COALESCE(s.name, '') AS sp, COALESCE(c.name, '') AS controller, f.subject, d.attribute, f.fingerprint,
		d.exception, d.exception_not_applied, f.change, COALESCE(p.name, '') AS purpose
	FROM findings f
	JOIN decisions d ON d.id = f.decision
	LEFT JOIN names s ON s.id = f.sp
	LEFT JOIN names c ON c.id = f.controller
	LEFT JOIN names p ON p.id = f.purpose;

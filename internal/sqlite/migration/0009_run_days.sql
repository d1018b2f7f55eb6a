-- What a run judged, per controller and UTC day, stored at the run's end so that its
-- reports are frozen: a report of any period inside the run's scope is drawn from these
-- rows and never from the record tables, which later ingests add to and purges empty.
-- One row per run, controller and day (not per SP): a national month of a generated
-- workload has half a million controller–SP–day–kind cells, too many rows to write at
-- the end of an audit, while its controller-days are a few thousand.
CREATE TABLE run_days (
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	controller INTEGER NOT NULL,   -- names; 0: uses whose controller could not be found
	day        INTEGER NOT NULL,   -- UTC days since 1970-01-01
	releases   INTEGER NOT NULL,   -- the day's releases, all SPs
	uses       INTEGER NOT NULL,   -- the day's uses, all SPs
	-- the day's first and last release and use, unix nanoseconds (0: none of the kind):
	-- what a report's evidence says of each source
	release_first INTEGER NOT NULL,
	release_last  INTEGER NOT NULL,
	use_first     INTEGER NOT NULL,
	use_last      INTEGER NOT NULL,
	-- per SP and kind, uvarints: SP (names id), kind (0 release, 1 use), records
	sps        BLOB NOT NULL,
	-- per school the releases name, uvarints: school (names id: code or OID as the
	-- releases name it; 0 none), releases
	schools    BLOB NOT NULL,
	PRIMARY KEY (run_id, controller, day)
) WITHOUT ROWID;

-- 1 when the run stored its run_days: a run before this migration has none, and its
-- reports cannot be drawn without reading the (changed) records again.
ALTER TABLE runs ADD COLUMN frozen INTEGER NOT NULL DEFAULT 0;

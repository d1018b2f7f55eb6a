-- A run's findings by their stable id: `runs diff` and the resolved findings of a run
-- look a finding up in another run by it.
CREATE INDEX findings_id ON findings (run_id, finding);

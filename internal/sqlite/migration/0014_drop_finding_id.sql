-- findings_id (0013) repeated the primary key's own index, sqlite_autoindex_findings_1
-- on (run_id, finding), which already serves a lookup by stable id: every finding paid
-- for a second random-order index (issue 16).
DROP INDEX IF EXISTS findings_id;

-- A use's finding names the purpose it judged, so a report's row says what to fix
-- (the English message said it only in prose). '' for releases and older runs.
ALTER TABLE findings ADD COLUMN purpose TEXT NOT NULL DEFAULT '';

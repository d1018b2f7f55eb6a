-- The school a release names (names: its 5-digit code or its OID; 0 none), counted per
-- school in reports, where a code and an OID of one school are one school.
ALTER TABLE releases ADD COLUMN school INTEGER NOT NULL DEFAULT 0;

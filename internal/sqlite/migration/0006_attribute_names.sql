-- A registry version's name map: another deployment's attribute names and the canonical
-- name each means (RECORDS.md "Every name an attribute has gone by").
CREATE TABLE attribute_names (
	version   INTEGER NOT NULL REFERENCES registry_versions (version) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	canonical TEXT NOT NULL,
	PRIMARY KEY (version, name)
);

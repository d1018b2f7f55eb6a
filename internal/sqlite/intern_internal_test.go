package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestEncodeFindsWhatIsStored: the ids Encode finds by hash for a stored record's names
// and shape are the ones the database holds, for names a digit apart and a school that
// is the prefix of another; and a value never stored (a name a byte short or a space
// long of a stored one) finds none.
func TestEncodeFindsWhatIsStored(t *testing.T) {
	db := mustOpen(t, NewDB(t.TempDir()+"/encode.db"))
	var recs []mpass.Record
	for i := range 300 {
		r := idRecord(fmt.Sprintf("_%d", i), i%60, fmt.Sprintf("%032x", i), "a.jsonl", i+1, i%7 == 0)
		r.SP = fmt.Sprintf("https://sp%d.example.fi", i%13)
		r.School = fmt.Sprintf("%05d", 3000+i%23)
		if i%5 == 0 {
			r.School = r.School[:4] // a prefix of another school
		}
		if r.Kind == mpass.KindRelease {
			r.Attributes = map[string]mpass.AttributeFacts{"urn:oid:2.5.4.42": {Values: true}, fmt.Sprintf("urn:x:%d", i%17): {Values: i%2 == 0}}
		}
		recs = append(recs, r)
	}
	insert(t, db, recs...)
	for i := range recs {
		r := recs[i]
		if r.Kind == mpass.KindRelease {
			r.Attributes = map[string]mpass.AttributeFacts{"urn:oid:2.5.4.42": {Values: true}, fmt.Sprintf("urn:x:%d", i%17): {Values: i%2 == 0}}
		} else {
			r.Attributes = map[string]mpass.AttributeFacts{}
		}
		facts, _, err := encode(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		row, err := db.Encode(&r)
		if err != nil {
			t.Fatal(err)
		}
		want := rowIDs{sp: stored(t, db, "names", "name", r.SP), controller: stored(t, db, "names", "name", r.Controller),
			purpose: stored(t, db, "names", "name", r.Purpose), shape: stored(t, db, "shapes", "facts", string(facts)), source: row.ids.source}
		if r.School != "" {
			want.school = stored(t, db, "names", "name", r.School)
		}
		if row.ids != want || want.sp == 0 || want.shape == 0 || want.school == 0 {
			t.Fatalf("record %d: Encode found %+v, the stored ids are %+v", i, row.ids, want)
		}
	}
	for _, v := range []string{"", "https://sp13.example.fi", "https://sp1.example.f", "030", "03000 "} {
		if id := db.names.id(v); id != 0 {
			t.Errorf("id(%q) = %d, never stored", v, id)
		}
	}
}

// stored is the id the database holds for v in table's column, 0 for none.
func stored(t *testing.T, db *DB, table, column, v string) int64 {
	t.Helper()
	var id int64
	err := db.db.QueryRow(`SELECT id FROM `+table+` WHERE `+column+` = ?`, v).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return id
}

package sqlite

import (
	"fmt"
	"testing"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// TestEncodeFindsWhatIsStored: the ids Encode finds by hash for a stored record's names
// and shape are the ones the string-keyed map holds, for names a digit apart and a
// school that is the prefix of another; and a value never stored (a name a byte short
// or a space long of a stored one) finds none.
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
		want := rowIDs{sp: db.names.id(r.SP), controller: db.names.id(r.Controller), purpose: db.names.id(r.Purpose), shape: db.shapes.id(string(facts)), source: row.ids.source}
		if r.School != "" {
			want.school = db.names.id(r.School)
		}
		if row.ids != want || want.sp == 0 || want.shape == 0 || want.school == 0 {
			t.Fatalf("record %d: Encode found %+v, the stored ids are %+v", i, row.ids, want)
		}
	}
	for _, v := range []string{"", "https://sp13.example.fi", "https://sp1.example.f", "030", "03000 "} {
		db.names.mu.RLock()
		id := db.names.hashed(v)
		db.names.mu.RUnlock()
		if id != 0 {
			t.Errorf("hashed(%q) = %d, never stored", v, id)
		}
	}
}

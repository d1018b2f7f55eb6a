package sqlite

import (
	"context"
	"hash/maphash"
	"path/filepath"
	"slices"
	"testing"
)

// TestRoleSetTellsWhenItCannotTell: a pair's flags come from its entry, a pair with no
// entry has neither flag, and two pairs whose hashes collide with other flags make
// Lookup say it cannot tell (the caller then asks the table) instead of answering
// with the other pair's flags; a collision with the same flags answers.
func TestRoleSetTellsWhenItCannotTell(t *testing.T) {
	s := &RoleSet{seed: maphash.MakeSeed()}
	a, b, c := []byte("0aaa"), []byte("1bbb"), []byte("2ccc") // all in the first half
	ha, hb, hc := s.hash(a, 1), s.hash(b, 1), s.hash(c, 7)
	s.halves[0] = []uint32{ha | roleLearner | roleKnownFlag, hb | roleKnownFlag, hc | roleKnownFlag, hc | roleLearner | roleKnownFlag}
	slices.Sort(s.halves[0])
	for _, tc := range []struct {
		name               string
		subject            []byte
		sp                 int64
		learner, known, ok bool
	}{
		{"learner", a, 1, true, true, true},
		{"staff", b, 1, false, true, true},
		{"another SP: no entry", a, 2, false, false, true},
		{"a collision with other flags", c, 7, false, false, false},
	} {
		learner, known, ok := s.Lookup(tc.subject, tc.sp)
		if learner != tc.learner || known != tc.known || ok != tc.ok {
			t.Errorf("%s: learner %v, known %v, ok %v; want %v %v %v", tc.name, learner, known, ok, tc.learner, tc.known, tc.ok)
		}
	}
	s.halves[0] = []uint32{hc | roleKnownFlag, hc | roleKnownFlag}
	if learner, known, ok := s.Lookup(c, 7); learner || !known || !ok {
		t.Errorf("a collision with the same flags: %v %v %v", learner, known, ok)
	}
	// three pairs of one hash, the third with other flags (found by a review)
	s.halves[0] = []uint32{hc | roleKnownFlag, hc | roleKnownFlag, hc | roleLearner | roleKnownFlag}
	if _, _, ok := s.Lookup(c, 7); ok {
		t.Error("three pairs of one hash, one a learner: answered instead of asking the table")
	}
}

// TestRoleSetAgreesWithTheTable: a set read from subject_roles gives every pair's
// flags as the table does, and one over its bound is not read at all (nil), so that
// the audit reads the table instead.
func TestRoleSetAgreesWithTheTable(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, NewDB(filepath.Join(t.TempDir(), "roles.db")))
	pairs := []struct {
		subject       string
		sp            int64
		learner, know bool
	}{{"0a", 1, true, true}, {"0a", 2, false, true}, {"9b", 1, false, false}, {"f0", 3, true, true}, {"", 1, false, true}}
	for _, p := range pairs {
		if _, err := db.db.Exec(`INSERT INTO subject_roles (subject, sp, learner, role_known, last_time, last_controller) VALUES (?, ?, ?, ?, 0, 0)`,
			p.subject, p.sp, p.learner, p.know); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.RoleSet(ctx)
	if err != nil || s.Len() != len(pairs) {
		t.Fatalf("set of %d pairs, %v", s.Len(), err)
	}
	for _, p := range pairs {
		learner, known, ok := s.Lookup([]byte(p.subject), p.sp)
		if !ok || learner != p.learner || known != p.know {
			t.Errorf("%q at %d: %v %v %v, want %v %v", p.subject, p.sp, learner, known, ok, p.learner, p.know)
		}
	}
	db.maxRoleSetPairs = int64(len(pairs) - 1)
	if s, err := db.RoleSet(ctx); err != nil || s != nil {
		t.Errorf("over the bound: %v, %v; want no set", s, err)
	}
}

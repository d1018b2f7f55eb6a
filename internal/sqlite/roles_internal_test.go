package sqlite

import (
	"hash/maphash"
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
	s.halves[0] = []uint64{ha | roleLearner | roleKnownFlag, hb | roleKnownFlag, hc | roleKnownFlag, hc | roleLearner | roleKnownFlag}
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
	s.halves[0] = []uint64{hc | roleKnownFlag, hc | roleKnownFlag}
	if learner, known, ok := s.Lookup(c, 7); learner || !known || !ok {
		t.Errorf("a collision with the same flags: %v %v %v", learner, known, ok)
	}
}

package sqlite

import (
	"context"
	"fmt"
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
	s.index()
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
	s.index()
	if learner, known, ok := s.Lookup(c, 7); learner || !known || !ok {
		t.Errorf("a collision with the same flags: %v %v %v", learner, known, ok)
	}
	// three pairs of one hash, the third with other flags (found by a review)
	s.halves[0] = []uint32{hc | roleKnownFlag, hc | roleKnownFlag, hc | roleLearner | roleKnownFlag}
	s.index()
	if _, _, ok := s.Lookup(c, 7); ok {
		t.Error("three pairs of one hash, one a learner: answered instead of asking the table")
	}
}

// TestRoleSetDirectoryFindsEveryPair: with enough pairs for a directory of thousands
// of buckets, every pair is found in its bucket with its own flags (or, for a hash
// shared with other flags, the set says it cannot tell), including the pairs at a
// bucket's first and last entry, and a pair not held finds no entry.
func TestRoleSetDirectoryFindsEveryPair(t *testing.T) {
	s := &RoleSet{seed: maphash.MakeSeed()}
	type pair struct {
		subject []byte
		sp      int64
		flags   uint32
	}
	var pairs []pair
	for i := range 200_000 {
		p := pair{subject: fmt.Appendf(nil, "%x", maphash.Bytes(s.seed, []byte{byte(i), byte(i >> 8), byte(i >> 16)})), sp: int64(i % 97), flags: uint32(i) & roleFlags}
		pairs = append(pairs, p)
		x := half(p.subject)
		s.halves[x] = append(s.halves[x], s.hash(p.subject, p.sp)|p.flags)
	}
	for i := range s.halves {
		slices.Sort(s.halves[i])
	}
	s.index()
	if s.shift >= 32 || len(s.starts[0]) < 1000 {
		t.Fatalf("directory of %d buckets (shift %d): the test does not reach it", len(s.starts[0]), s.shift)
	}
	flagsOf := map[[2]uint32]uint32{} // half and hash → flags, or 4 when they differ
	for x, keys := range s.halves {
		for _, k := range keys {
			h := [2]uint32{uint32(x), k &^ roleFlags}
			if f, seen := flagsOf[h]; seen && f != k&roleFlags {
				flagsOf[h] = 4
			} else if !seen {
				flagsOf[h] = k & roleFlags
			}
		}
	}
	for _, p := range pairs {
		learner, known, ok := s.Lookup(p.subject, p.sp)
		if flagsOf[[2]uint32{uint32(half(p.subject)), s.hash(p.subject, p.sp)}] == 4 {
			if ok {
				t.Errorf("%s at %d: answered for a hash with two flags", p.subject, p.sp)
			}
			continue
		}
		if !ok || learner != (p.flags&roleLearner != 0) || known != (p.flags&roleKnownFlag != 0) {
			t.Fatalf("%s at %d: %v %v %v, want flags %b", p.subject, p.sp, learner, known, ok, p.flags)
		}
	}
	missing := 0
	for i := range 10_000 {
		subject := fmt.Appendf(nil, "%x", maphash.String(s.seed, fmt.Sprint("absent", i)))
		if _, held := flagsOf[[2]uint32{uint32(half(subject)), s.hash(subject, 1000)}]; held {
			continue // shares a held pair's hash: answers its flags, as documented
		}
		if learner, known, ok := s.Lookup(subject, 1000); learner || known || !ok {
			t.Fatalf("a pair not held: %v %v %v", learner, known, ok)
		}
		missing++
	}
	if missing < 9_000 {
		t.Fatalf("only %d absent pairs tried", missing)
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

package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// RoleSet is what subject_roles says of every subject–SP pair (the learner
// presumption's input), held in memory for one audit: 4 bytes a pair, a 30-bit hash of
// the pair with its two flags in the low bits, sorted. Most releases of the diverse
// workload carry no role attribute and look their pair up; a B-tree search per release
// in a table larger than any cache (3.7 million pairs, 220 MB, at 10M records) was a
// fifth of the audit's time; here it is a search of one bucket of the directory
// (starts), a cache miss or two.
//
// It is exact for the pairs it holds: pairs whose hashes are equal but whose flags
// differ (a few thousand of 3.7 million) make Lookup say it cannot tell, and the
// caller asks the table. A pair it does not hold may take another's flags, so it is
// read only after the audit's ranges are fixed: every release in them has its pair in
// subject_roles by then (UpdateRoles moves the watermark with the pairs, and nothing
// deletes a pair). 8-byte entries, which would not need that, put the 10M diverse
// audit's heap at its limit.
type RoleSet struct {
	seed maphash.Seed
	// halves are the pairs of subjects before "8" and from "8" on, each sorted: read
	// at once, and kept apart so that they are never copied into one (a second copy
	// under the heap's limit)
	halves [2][]uint32
	// starts index each half by the top bits of the hash: bucket b's entries are
	// halves[i][starts[i][b]:starts[i][b+1]]. A binary search over millions of entries
	// missed the cache at nearly every step (6 of 107 s of CPU in a 10M diverse audit);
	// a bucket of about 16 entries is one or two cache lines
	starts [2][]uint32
	shift  uint8 // 32 - the directory's bits
}

// half is the index of the half that holds subject's pairs.
func half(subject []byte) int {
	if len(subject) > 0 && subject[0] >= '8' {
		return 1
	}
	return 0
}

const (
	roleLearner   = 1 << 1
	roleKnownFlag = 1 << 0
	roleFlags     = roleLearner | roleKnownFlag
)

func (s *RoleSet) hash(subject []byte, sp int64) uint32 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.Write(subject)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(sp))
	h.Write(b[:])
	return uint32(h.Sum64()>>32) &^ roleFlags
}

// Lookup says what all releases of subject to sp say of the role, for a pair the set
// holds (see RoleSet). ok is false when the set cannot tell (pairs with the hash of
// this one and other flags): ask SubjectRole. A hash no pair has answers neither flag,
// as the table does for a pair it lacks; a pair the set does not hold may yet share
// another's hash, which is why it is read only after the audit's ranges are fixed.
func (s *RoleSet) Lookup(subject []byte, sp int64) (learner, roleKnown, ok bool) {
	x := half(subject)
	h, keys := s.hash(subject, sp), s.halves[x]
	b := h >> s.shift
	lo, hi := s.starts[x][b], s.starts[x][b+1]
	i, _ := slices.BinarySearch(keys[lo:hi], h)
	i += int(lo)
	if i == len(keys) || keys[i]&^roleFlags != h {
		return false, false, true
	}
	k := keys[i]
	// every entry of this hash (sorted, so they follow one another) must agree: two
	// pairs with the same flags may sit between this one and a third with others
	for j := i + 1; j < len(keys) && keys[j]&^roleFlags == h; j++ {
		if keys[j] != k {
			return false, false, false
		}
	}
	return k&roleLearner != 0, k&roleKnownFlag != 0, true
}

// Len is how many pairs the set holds (0 for a nil set).
func (s *RoleSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.halves[0]) + len(s.halves[1])
}

// MaxRoleSetPairs bounds a RoleSet: 4 million pairs, 16 MB of the audit's 192 MiB heap.
// A national month has more pairs (a subject per five records, each at a few SPs) and
// few releases without a role; its audit reads the table instead.
const MaxRoleSetPairs = 4 << 20

// errTooManyPairs stops a RoleSet's reading at MaxRoleSetPairs.
var errTooManyPairs = errors.New("more subject-SP pairs than a RoleSet holds")

// RoleSet reads subject_roles into a RoleSet, in two halves of the subjects at once
// (pseudonyms are hex digits of a keyed hash: "8" splits them in two); nil, and no
// error, when the table has more than MaxRoleSetPairs pairs. Settle first: the set is
// what the table says when it is read.
func (db *DB) RoleSet(ctx context.Context) (*RoleSet, error) {
	s := &RoleSet{seed: maphash.MakeSeed()}
	errs := [2]error{}
	var pairs atomic.Int64
	limit := int64(MaxRoleSetPairs)
	if db.maxRoleSetPairs > 0 {
		limit = db.maxRoleSetPairs
	}
	var wg sync.WaitGroup
	for i, q := range [2]string{
		`SELECT subject, sp, learner, role_known FROM subject_roles WHERE subject < '8'`,
		`SELECT subject, sp, learner, role_known FROM subject_roles WHERE subject >= '8'`,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var subject sql.RawBytes
			var sp, learner, known int64
			errs[i] = db.queryEach(ctx, q, nil, []any{&subject, &sp, &learner, &known}, func() error {
				k := s.hash(subject, sp)
				if learner != 0 {
					k |= roleLearner
				}
				if known != 0 {
					k |= roleKnownFlag
				}
				s.halves[i] = append(s.halves[i], k)
				if pairs.Add(1) > limit {
					return errTooManyPairs
				}
				return nil
			})
			slices.Sort(s.halves[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, errTooManyPairs) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	s.index()
	return s, nil
}

// index builds the directory of both halves (starts): 2^bits buckets, about one per
// 16 entries of the larger half, at most 2^20 (4 MiB).
func (s *RoleSet) index() {
	n := max(len(s.halves[0]), len(s.halves[1]))
	dir := min(bits.Len(uint(n/16)), 20)
	s.shift = uint8(32 - dir)
	for i, keys := range s.halves {
		starts := make([]uint32, 1<<dir+1)
		for _, k := range keys {
			starts[k>>s.shift+1]++
		}
		for b := 1; b < len(starts); b++ {
			starts[b] += starts[b-1]
		}
		s.starts[i] = starts
	}
}

// SubjectRole reads what subject_roles says of one pair: the answer where a RoleSet
// cannot tell.
func (db *DB) SubjectRole(ctx context.Context, subject []byte, sp int64) (learner, roleKnown bool, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT learner, role_known FROM subject_roles WHERE subject = ? AND sp = ?`, subject, sp).Scan(&learner, &roleKnown)
	if err == sql.ErrNoRows {
		return false, false, nil
	}
	return learner, roleKnown, err
}

// WithoutLearnerRole counts, among the first n releases from seq lo on, those that
// show no learner role: each of them looks its subject up. An audit reads a RoleSet
// only when they are many (the set costs a read of the whole table).
func (db *DB) WithoutLearnerRole(ctx context.Context, lo int64, n int) (without, read int, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(role <> 2), 0), COUNT(*) FROM
		(SELECT role FROM releases WHERE seq >= ? ORDER BY seq LIMIT ?)`, lo, n).Scan(&without, &read)
	return without, read, err
}

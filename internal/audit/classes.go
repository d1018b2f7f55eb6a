package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// dayClasses splits time at the registry's dates: within one class every comparison a
// policy makes of a day with a registry date (valid from, valid to, expires) comes out
// the same.
type dayClasses struct {
	changes []int64 // days on which a comparison flips, sorted
}

func newDayClasses(reg *mpass.Registry) *dayClasses {
	var changes []int64
	from := func(d string) { // day ≥ from flips on from
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			changes = append(changes, t.Unix()/86400)
		}
	}
	to := func(d string) { // day ≤ to flips the day after
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			changes = append(changes, t.Unix()/86400+1)
		}
	}
	for _, sp := range reg.ServiceProviders {
		from(sp.Valid.From)
		to(sp.Valid.To)
	}
	for _, a := range reg.Agreements {
		from(a.Valid.From)
		to(a.Valid.To)
	}
	for _, e := range reg.Exceptions {
		to(e.Expires)
	}
	slices.Sort(changes)
	return &dayClasses{changes: slices.Compact(changes)}
}

// class is how many change days are on or before day.
func (c *dayClasses) class(day int64) int {
	i, found := slices.BinarySearch(c.changes, day)
	if found {
		i++
	}
	return i
}

// controllerClasses names, per controller and SP, the registry entries that name the
// controller there: agreements and exceptions. Controllers with the same entries get
// the same decisions (see main.rego's decision_time).
type controllerClasses struct {
	mu    sync.RWMutex
	reg   *mpass.Registry
	names map[[2]string]string
}

func newControllerClasses(reg *mpass.Registry) *controllerClasses {
	return &controllerClasses{reg: reg, names: map[[2]string]string{}}
}

func (c *controllerClasses) class(controller, sp string) string {
	k := [2]string{controller, sp}
	c.mu.RLock()
	name, ok := c.names[k]
	c.mu.RUnlock()
	if ok {
		return name
	}
	var entries []any
	for _, a := range c.reg.Agreements {
		if a.Controller == controller && a.SP == sp {
			entries = append(entries, a)
		}
	}
	for _, e := range c.reg.Exceptions {
		if e.Controller == controller && e.SP == sp {
			entries = append(entries, e)
		}
	}
	if len(entries) > 0 {
		b, _ := json.Marshal(entries)
		sum := sha256.Sum256(b)
		name = hex.EncodeToString(sum[:8])
	}
	c.mu.Lock()
	c.names[k] = name
	c.mu.Unlock()
	return name
}

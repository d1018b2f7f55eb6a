package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
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

// controllerClasses numbers, per controller and SP, the registry entries that name the
// controller there: agreements, exceptions and whether its allowed services were loaded.
// Controllers with the same entries get the same decisions (see main.rego's
// decision_time); the permissions' instants are not in the class but in each record's
// key, as whether a permission covers the record (controllerClass.allows).
type controllerClasses struct {
	mu      sync.RWMutex
	reg     *mpass.Registry
	db      *sqlite.DB
	classes map[[2]int64]controllerClass
	ids     map[string]int // entries' digest → class; class 0 is "no entries"
	// permissions by controller OID and SP id; withData: controllers with permission data
	permissions map[[2]string][]mpass.Permission
	withData    map[string]bool
}

// controllerClass is a controller's class at one SP and its permissions there.
type controllerClass struct {
	class       int
	permissions []mpass.Permission
}

// allows reports whether a permission covers the instant t (UTC nanoseconds), as
// lib.allowed_service does.
func (c controllerClass) allows(t int64) bool {
	for _, p := range c.permissions {
		if p.Allows(time.Unix(0, t)) {
			return true
		}
	}
	return false
}

func newControllerClasses(reg *mpass.Registry, db *sqlite.DB) *controllerClasses {
	c := &controllerClasses{reg: reg, db: db, classes: map[[2]int64]controllerClass{}, ids: map[string]int{"": 0},
		permissions: map[[2]string][]mpass.Permission{}, withData: map[string]bool{}}
	for _, ctl := range reg.Controllers {
		if ctl.PermissionData {
			c.withData[ctl.OID] = true
		}
	}
	for _, p := range reg.Permissions {
		k := [2]string{p.Controller, p.SP}
		c.permissions[k] = append(c.permissions[k], p)
	}
	return c
}

func (c *controllerClasses) class(ctx context.Context, controller, sp int64) (controllerClass, error) {
	k := [2]int64{controller, sp}
	c.mu.RLock()
	class, ok := c.classes[k]
	c.mu.RUnlock()
	if ok {
		return class, nil
	}
	var ctl, spName string
	var err error
	if controller != 0 {
		if ctl, err = c.db.Name(ctx, controller); err != nil {
			return controllerClass{}, err
		}
	}
	if spName, err = c.db.Name(ctx, sp); err != nil {
		return controllerClass{}, err
	}
	var entries []any
	for _, a := range c.reg.Agreements {
		if a.Controller == ctl && a.SP == spName {
			entries = append(entries, a)
		}
	}
	for _, e := range c.reg.Exceptions {
		if e.Controller != "" && e.Controller == ctl && e.SP == spName {
			entries = append(entries, e)
		}
	}
	if c.withData[ctl] {
		entries = append(entries, "permission data")
	}
	digest := ""
	if len(entries) > 0 {
		b, _ := json.Marshal(entries)
		sum := sha256.Sum256(b)
		digest = hex.EncodeToString(sum[:])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[digest]
	if !ok {
		id = len(c.ids)
		c.ids[digest] = id
	}
	class = controllerClass{class: id, permissions: c.permissions[[2]string{ctl, spName}]}
	c.classes[k] = class
	return class, nil
}

package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/policy"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

// dayClasses splits time, for each SP, at the dates of the registry entries a policy
// compares a record's day with (see main.rego's decision_time): the SP's validity, its
// agreements (with any controller) and its exceptions. Within one class every such
// comparison comes out the same. Split at every SP's dates alike, a month with a few
// agreements ending in it was split for every SP: at 1M diverse records 37 % of the
// evaluations were of shapes that differed in their day class alone.
type dayClasses struct {
	bySP map[string][]int64 // SP id → days on which a comparison flips, sorted
}

func newDayClasses(reg *mpass.Registry) *dayClasses {
	bySP := map[string][]int64{}
	add := func(sp, d string, after int64) { // day ≥ from flips on from, day ≤ to the day after
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			bySP[sp] = append(bySP[sp], t.Unix()/86400+after)
		}
	}
	for _, sp := range reg.ServiceProviders {
		add(sp.ID, sp.Valid.From, 0)
		add(sp.ID, sp.Valid.To, 1)
	}
	for _, a := range reg.Agreements {
		add(a.SP, a.Valid.From, 0)
		add(a.SP, a.Valid.To, 1)
	}
	for _, e := range reg.Exceptions {
		add(e.SP, e.Expires, 1)
	}
	for sp, days := range bySP {
		slices.Sort(days)
		bySP[sp] = slices.Compact(days)
	}
	return &dayClasses{bySP: bySP}
}

// dayClass is how many of changes (an SP's, sorted) are on or before day.
func dayClass(changes []int64, day int64) int {
	i, found := slices.BinarySearch(changes, day)
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
	db      *sqlite.DB
	days    *dayClasses
	classes map[[2]int64]controllerClass
	ids     map[string]int // entries' digest → class; class 0 is "no entries"
	// permissions by controller OID and SP id; withData: controllers with permission data
	permissions map[[2]string][]mpass.Permission
	withData    map[string]bool
	// entries: by controller OID and SP id, the agreements and then the exceptions that
	// name both, in registry order, each without the controller (a copy)
	entries map[[2]string][]any
}

// controllerClass is a controller's class at one SP, its permissions there and the
// SP's days on which a policy's comparison of dates flips (dayClasses).
type controllerClass struct {
	class       int
	permissions []mpass.Permission
	days        []int64
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
	c := &controllerClasses{db: db, days: newDayClasses(reg), classes: map[[2]int64]controllerClass{}, ids: map[string]int{"": 0},
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
	// looked up once per pair: 57,000 pairs of a 1M diverse audit each went through
	// every agreement and exception
	c.entries = map[[2]string][]any{}
	for _, a := range reg.Agreements {
		k := [2]string{a.Controller, a.SP}
		a.Controller = ""
		c.entries[k] = append(c.entries[k], a)
	}
	for _, e := range reg.Exceptions {
		if e.Controller != "" {
			k := [2]string{e.Controller, e.SP}
			e.Controller = ""
			c.entries[k] = append(c.entries[k], e)
		}
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
	// the entries without the controller they name (a copy each): controllers whose
	// agreements and exceptions at the SP say the same share a class (with it, every
	// controller with an agreement had a class of its own: 18 % of the evaluations at 1M
	// diverse records)
	entries := c.entries[[2]string{ctl, spName}]
	if c.withData[ctl] {
		entries = append(entries[:len(entries):len(entries)], "permission data")
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
	class = controllerClass{class: id, permissions: c.permissions[[2]string{ctl, spName}], days: c.days.bySP[spName]}
	c.classes[k] = class
	return class, nil
}

// factsClasses numbers the stored shapes by what the policies read of them (their
// attribute_facts promise, policy.Engine.FactsClass): shapes that differ only in facts
// no policy reads share a class, and so their decisions. At 1M diverse records half of
// the evaluations were of shapes that differed in a learner's grade level alone.
// Without the promise a shape is its own class.
type factsClasses struct {
	engine   *policy.Engine
	promised bool
	db       *sqlite.DB
	mu       sync.Mutex
	ofShape  map[int64]int64  // shape id → class
	ids      map[string]int64 // FactsClass → class
}

func newFactsClasses(engine *policy.Engine, db *sqlite.DB) *factsClasses {
	_, promised := engine.FactsClass(nil)
	return &factsClasses{engine: engine, promised: promised, db: db, ofShape: map[int64]int64{}, ids: map[string]int64{}}
}

// class is the class of a stored shape: the shape id itself without the promise, else
// a number of the run's own (from 1).
func (c *factsClasses) class(ctx context.Context, shape int64) (int64, error) {
	if !c.promised {
		return shape, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ofShape[shape]; ok {
		return id, nil
	}
	facts, err := c.db.Shape(ctx, shape)
	if err != nil {
		return 0, err
	}
	var attrs map[string]mpass.AttributeFacts
	if err := json.Unmarshal([]byte(facts), &attrs); err != nil {
		return 0, fmt.Errorf("shape %d: %w", shape, err)
	}
	key, _ := c.engine.FactsClass(attrs)
	id, ok := c.ids[key]
	if !ok {
		id = int64(len(c.ids) + 1)
		c.ids[key] = id
	}
	c.ofShape[shape] = id
	return id, nil
}

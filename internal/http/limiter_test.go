package http

import (
	"strconv"
	"testing"
	"time"
)

// clock is a settable time for the limiter: the tests never sleep.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.9:1234":             "198.51.100.9",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2::1]:1":           "2001:db8:1:2::/64",
		"[::ffff:198.51.100.9]:1":       "198.51.100.9",
		"[fe80::1%eth0]:1":              "fe80::/64",
		"not an address":                "not an address",
		"[2001:db8:1:3:ffff::1]:65535":  "2001:db8:1:3::/64",
		"[2001:db8:1:2:ffff:ffff::]:80": "2001:db8:1:2::/64",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLimiterSlidingWindow: ten failures in a minute throttle; each failure ages out on
// its own, and the entry goes once its newest failure is a window old.
func TestLimiterSlidingWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(10, time.Minute, 100, c.now)
	for i := range 10 {
		if l.fail("a") {
			t.Fatalf("failure %d already throttled", i+1)
		}
		c.t = c.t.Add(time.Second)
	}
	if !l.throttled("a") || !l.fail("a") {
		t.Fatal("not throttled after ten failures")
	}
	// the first failure (at 0 s) ages out at 60 s; the second (1 s) still holds nine
	// plus the eleventh (10 s): still ten in the window
	c.t = c.t.Add(50 * time.Second) // 60 s
	if !l.throttled("a") {
		t.Error("throttled until ten failures are a minute old")
	}
	c.t = c.t.Add(2 * time.Second) // 62 s: failures at 0, 1 s are gone, eight left
	if l.throttled("a") {
		t.Error("still throttled once failures aged out")
	}
	c.t = c.t.Add(time.Minute) // every failure is older than the window
	l.fail("b")
	if l.len() != 1 {
		t.Errorf("%d keys, want 1: the stale key was not dropped", l.len())
	}
}

// TestLimiterFloodKeepsThrottled: a flood of distinct addresses (each failing once)
// keeps the table at its cap and never frees an address that is throttled; the flood
// addresses age out individually rather than the table being cleared.
func TestLimiterFloodKeepsThrottled(t *testing.T) {
	c := &clock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(10, time.Minute, 1000, c.now)
	for range 10 {
		l.fail("victim")
	}
	for i := range 100_000 {
		l.fail("flood-" + strconv.Itoa(i))
		if n := l.len(); n > 1000 {
			t.Fatalf("%d keys after %d flood addresses, cap 1000", n, i+1)
		}
	}
	if !l.throttled("victim") {
		t.Error("the flood freed a throttled address")
	}
	// the newest flood addresses are still counted: nothing was cleared wholesale
	if e := l.keys["flood-99999"]; e == nil {
		t.Error("the newest flood address was dropped")
	}
	// when every key is throttled, the oldest throttled one goes first
	l2 := newLimiter(2, time.Minute, 2, c.now)
	for _, k := range []string{"x", "x", "y", "y", "z", "z"} {
		c.t = c.t.Add(time.Millisecond)
		l2.fail(k)
	}
	if l2.len() != 2 || l2.keys["x"] != nil || !l2.throttled("y") || !l2.throttled("z") {
		t.Errorf("keys %v: want y and z, both throttled", l2.keys)
	}
}

// TestFailedLoginsMillionAddresses: a million distinct IPv6 /64s against the
// production limits keep the table at FailedLoginKeys.
func TestFailedLoginsMillionAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("a million failures")
	}
	c := &clock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}
	f := newFailedLogins(c.now)
	for range MaxFailedLogins {
		f.fail("203.0.113.5", "")
	}
	for i := range 1_000_000 {
		f.fail(addrKey("[2001:db8:"+strconv.FormatInt(int64(i>>16), 16)+":"+strconv.FormatInt(int64(i&0xffff), 16)+"::1]:1"), "")
	}
	if n := f.byAddr.len(); n != FailedLoginKeys {
		t.Errorf("%d addresses counted, want the cap %d", n, FailedLoginKeys)
	}
	if !f.fail("203.0.113.5", "") {
		t.Error("the throttled address was freed by the flood")
	}
}

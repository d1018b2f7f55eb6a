package http_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRateLimitOnBadTokens: past ten failures an address's failures answer 429, and a
// token id's failures from any address do too; other addresses are not affected.
func TestRateLimitOnBadTokens(t *testing.T) {
	e := newEnv(t)
	const addr = "198.51.100.9"
	for i := range 10 {
		if w := e.doFrom(t, addr, "forged", "GET", "/api/v1/runs", ""); w.Code != 401 {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	w := e.doFrom(t, addr, "forged", "GET", "/api/v1/runs", "")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" {
		t.Errorf("11th bad token: %d (Retry-After %q), want 429 with Retry-After 60", w.Code, w.Header().Get("Retry-After"))
	}
	if w := e.doFrom(t, addr, "none", "GET", "/api/v1/runs", ""); w.Code != 401 {
		t.Errorf("no credentials from the throttled address: %d, want 401 (nothing was tried)", w.Code)
	}
	// the forged token's id has failed ten times: from a fresh address it is refused too
	if w := e.doFrom(t, "198.51.100.77", "forged", "GET", "/api/v1/runs", ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("the throttled token id from another address: %d, want 429", w.Code)
	}
	// a malformed token from a fresh address fails like any other
	e.tokens["junk"] = "not-a-token"
	if w := e.doFrom(t, "198.51.100.10", "junk", "GET", "/api/v1/runs", ""); w.Code != 401 {
		t.Errorf("a malformed token from another address: %d, want 401", w.Code)
	}
	if w := e.doFrom(t, "198.51.100.10", "auditor", "GET", "/api/v1/runs", ""); w.Code != 200 {
		t.Errorf("another address: %d", w.Code)
	}
}

// TestRateLimitSchoolNAT: a school's pupils and staff share one NAT address. Ten bad
// tokens from it (a pupil probing) must not lock out the staff behind it: a valid token
// and a valid session from the same address are served, the login form with a valid
// token still logs in, and only failures answer 429.
func TestRateLimitSchoolNAT(t *testing.T) {
	e := newEnv(t)
	const nat = "203.0.113.5"
	// a teacher logged in before the pupil started
	b := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}, addr: nat + ":40000"}
	m := csrfField.FindStringSubmatch(b.do("GET", "/login", nil).Body.String())
	if w := b.do("POST", "/login", url.Values{"token": {e.tokens["dpo-city"]}, "csrf": {m[1]}}); w.Code != http.StatusSeeOther || b.cookies["mpass_session"] == nil {
		t.Fatalf("login: %d", w.Code)
	}
	for i := range 10 {
		if w := e.doFrom(t, nat, "forged", "GET", "/api/v1/runs", ""); w.Code != 401 {
			t.Fatalf("bad token %d: %d", i, w.Code)
		}
	}
	if w := e.doFrom(t, nat, "forged", "GET", "/api/v1/runs", ""); w.Code != http.StatusTooManyRequests {
		t.Fatalf("11th bad token: %d, want 429", w.Code)
	}
	if w := e.doFrom(t, nat, "auditor", "GET", "/api/v1/runs", ""); w.Code != 200 {
		t.Errorf("a valid token from the NAT address: %d, want 200", w.Code)
	}
	if w := b.do("GET", "/", nil); w.Code != 200 {
		t.Errorf("a valid session from the NAT address: %d, want 200", w.Code)
	}
	// a second teacher logs in from the same address with the form
	b2 := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}, addr: nat + ":40001"}
	m = csrfField.FindStringSubmatch(b2.do("GET", "/login", nil).Body.String())
	if w := b2.do("POST", "/login", url.Values{"token": {e.tokens["auditor"]}, "csrf": {m[1]}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Errorf("login with a valid token from the NAT address: %d to %q, want 303 to /", w.Code, w.Header().Get("Location"))
	}
	if w := b2.do("GET", "/", nil); w.Code != 200 {
		t.Errorf("the new session: %d", w.Code)
	}
	// a wrong token in the form from there answers 429 now
	m = csrfField.FindStringSubmatch(b2.do("GET", "/login", nil).Body.String())
	if w := b2.do("POST", "/login", url.Values{"token": {e.tokens["forged"]}, "csrf": {m[1]}}); w.Code != http.StatusTooManyRequests {
		t.Errorf("a wrong token in the login form: %d, want 429", w.Code)
	}
	// a forged session cookie counts as a failure and answers 429 there
	b3 := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{"mpass_session": {Name: "mpass_session", Value: "forged"}}, addr: nat + ":40002"}
	if w := b3.do("GET", "/", nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("a forged session from the NAT address: %d, want 429", w.Code)
	}
}

// TestRateLimitIPv6Per64: addresses in one /64 share a counter, so an attacker does
// not get ten fresh attempts from each of its 2^64 addresses; another /64 does not.
func TestRateLimitIPv6Per64(t *testing.T) {
	e := newEnv(t)
	e.tokens["junk"] = "mpa_x_y"
	for i := range 10 {
		addr := "[2001:db8:1:2::" + itoa(int64(i+1)) + "]"
		if w := e.doFrom(t, addr, "junk", "GET", "/api/v1/runs", ""); w.Code != 401 {
			t.Fatalf("attempt %d: %d", i, w.Code)
		}
	}
	if w := e.doFrom(t, "[2001:db8:1:2:ffff:ffff:ffff:fffe]", "junk", "GET", "/api/v1/runs", ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("another address in the same /64: %d, want 429", w.Code)
	}
	if w := e.doFrom(t, "[2001:db8:1:3::1]", "junk", "GET", "/api/v1/runs", ""); w.Code != 401 {
		t.Errorf("an address in the next /64: %d, want 401", w.Code)
	}
	if w := e.doFrom(t, "[2001:db8:1:2::1]", "auditor", "GET", "/api/v1/runs", ""); w.Code != 200 {
		t.Errorf("a valid token from the throttled /64: %d, want 200", w.Code)
	}
}

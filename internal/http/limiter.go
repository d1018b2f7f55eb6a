package http

import (
	"container/list"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limits of the failed-login counters.
const (
	// MaxFailedLogins is how many failed authentications an address or a token id may
	// have in FailedLoginWindow before further failures answer 429.
	MaxFailedLogins   = 10
	FailedLoginWindow = time.Minute
	// FailedLoginKeys caps the addresses and the token ids counted (each): about 250
	// bytes a key, so some 25 MB for both tables at most, whatever an attacker sends.
	FailedLoginKeys = 50_000
)

// failedLogins counts failed authentications per client address and per token id.
//
// It only decides how a request that did not authenticate is answered (429 instead of
// 401 or the login page); a request with a valid token or session is served whatever
// its address or token id has seen. A school's pupils and staff share one NAT address
// with whoever probes from it, so counting per address alone would lock them out; the
// secrets are 256 bits, so the counters are there to make guessing loud and cheap to
// refuse, not to protect a guessable secret.
type failedLogins struct {
	byAddr  *limiter // IPv4 per address, IPv6 per /64 (one host's usual allocation)
	byToken *limiter // the id part of mpa_<id>_<secret>, when well-formed
}

func newFailedLogins(now func() time.Time) *failedLogins {
	return &failedLogins{
		byAddr:  newLimiter(MaxFailedLogins, FailedLoginWindow, FailedLoginKeys, now),
		byToken: newLimiter(MaxFailedLogins, FailedLoginWindow, FailedLoginKeys, now),
	}
}

// fail counts one failed authentication from addr with tokenID ("" for none) and
// reports whether either was already throttled, so the request answers 429.
func (f *failedLogins) fail(addr, tokenID string) (throttled bool) {
	throttled = f.byAddr.fail(addr)
	if tokenID != "" && f.byToken.fail(tokenID) {
		throttled = true
	}
	return throttled
}

// addrKey is the key a client address is counted under: an IPv4 address as it is, an
// IPv6 address by its /64, as a single host or home usually gets a whole /64 and could
// otherwise count afresh from each of its 2^64 addresses. An IPv4-mapped IPv6 address
// counts as its IPv4 address.
func addrKey(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// limiter counts failures per key in a sliding window, in bounded memory: at most cap
// keys, each with the times of its last max failures.
//
// Entries age out one by one once their newest failure is older than the window (each
// list is ordered by newest failure, so the stale ones are at its back). When the table
// is full, the key to forget is the one with the oldest newest failure among those not
// throttled, and only when every key is throttled the oldest throttled one: a flood of
// fresh addresses, each failing once, then never frees an address that is throttled.
// (Clearing the whole map, as before, let an attacker reset its own count.)
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	cap    int
	now    func() time.Time
	keys   map[string]*list.Element
	// counting and full hold *failures, the most recent failure first: full those
	// throttled when they last failed, counting the others.
	counting, full list.List
}

// failures is one key's entry: the times of its last max failures, oldest first.
type failures struct {
	key   string
	times []int64 // Unix nanoseconds
	full  bool    // in limiter.full: throttled at its last failure
}

func newLimiter(max int, window time.Duration, cap int, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, cap: cap, now: now, keys: map[string]*list.Element{}}
}

// over reports whether f holds max failures within the window before now.
func (l *limiter) over(f *failures, now int64) bool {
	return len(f.times) >= l.max && now-f.times[0] < int64(l.window)
}

// expire drops the entries whose newest failure is older than the window.
func (l *limiter) expire(now int64) {
	for _, ls := range []*list.List{&l.counting, &l.full} {
		for e := ls.Back(); e != nil; e = ls.Back() {
			f := e.Value.(*failures)
			if now-f.times[len(f.times)-1] < int64(l.window) {
				break
			}
			ls.Remove(e)
			delete(l.keys, f.key)
		}
	}
}

func (l *limiter) throttled(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	l.expire(now)
	e := l.keys[key]
	return e != nil && l.over(e.Value.(*failures), now)
}

// fail counts a failure of key and reports whether key was already throttled.
func (l *limiter) fail(key string) (throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	l.expire(now)
	var f *failures
	if e := l.keys[key]; e != nil {
		f = e.Value.(*failures)
		throttled = l.over(f, now)
		l.list(f).Remove(e)
	} else {
		if len(l.keys) >= l.cap {
			l.evict()
		}
		f = &failures{key: key, times: make([]int64, 0, l.max)}
	}
	if len(f.times) == l.max {
		f.times = append(f.times[:0], f.times[1:]...)
	}
	f.times = append(f.times, now)
	f.full = l.over(f, now)
	l.keys[key] = l.list(f).PushFront(f)
	return throttled
}

func (l *limiter) list(f *failures) *list.List {
	if f.full {
		return &l.full
	}
	return &l.counting
}

// evict forgets the key least worth keeping: the one not throttled whose newest failure
// is oldest, else the throttled one whose newest failure is oldest.
func (l *limiter) evict() {
	e := l.counting.Back()
	ls := &l.counting
	if e == nil {
		e, ls = l.full.Back(), &l.full
	}
	if e == nil {
		return
	}
	ls.Remove(e)
	delete(l.keys, e.Value.(*failures).key)
}

// len is how many keys are counted.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

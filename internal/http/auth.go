package http

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

const (
	sessionCookie = "mpass_session"
	loginCSRF     = "mpass_login_csrf"
)

type sessionKey struct{}

// authenticate admits a request with a valid bearer token or session cookie, and puts
// the token in its context. A cookie-authenticated POST must carry the session's CSRF
// token. Failed attempts are rate limited per client address.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		if !s.limiter.allow(ip) {
			s.error(w, r, mpass.Errorf(errTooMany, "too many failed attempts; try again later"))
			return
		}
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			t, err := s.DB.Authenticate(ctx, strings.TrimSpace(secret))
			if !ok || err != nil {
				s.limiter.fail(ip)
				s.error(w, r, mpass.Errorf(mpass.EUNAUTHORIZED, "invalid or revoked token"))
				return
			}
			next.ServeHTTP(w, r.WithContext(mpass.NewContextWithToken(ctx, t)))
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			s.unauthenticated(w, r)
			return
		}
		sess, err := s.DB.FindSession(ctx, c.Value)
		if err != nil {
			s.limiter.fail(ip)
			s.unauthenticated(w, r)
			return
		}
		if r.Method == http.MethodPost && !validCSRF(r, sess.CSRF) {
			s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "missing or wrong CSRF token; reload the page"))
			return
		}
		ctx = mpass.NewContextWithToken(ctx, sess.Token)
		next.ServeHTTP(w, r.WithContext(withSession(ctx, sess)))
	})
}

func validCSRF(r *http.Request, want string) bool {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxFormBytes)
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// unauthenticated sends pages to the login page and API callers a 401.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		s.error(w, r, mpass.Errorf(mpass.EUNAUTHORIZED, "authentication required: Authorization: Bearer <token>"))
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// secure reports whether the request came over TLS, so cookies get Secure.
func secure(r *http.Request) bool { return r.TLS != nil }

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Value: token, Path: "/login", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, "login.html", map[string]any{"CSRF": token, "Error": r.URL.Query().Get("error") != ""})
}

// handleLogin turns a token into a session cookie. The form carries a CSRF value that
// must match a cookie set with the form (double submit), so no other site can log a
// browser in with its own token.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if !s.limiter.allow(ip) {
		s.error(w, r, mpass.Errorf(errTooMany, "too many failed attempts; try again later"))
		return
	}
	c, err := r.Cookie(loginCSRF)
	if err != nil || !validCSRF(r, c.Value) {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "missing or wrong CSRF token; reload the login page"))
		return
	}
	t, err := s.DB.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if err != nil || t.Role == mpass.RoleIngest {
		s.limiter.fail(ip)
		http.Redirect(w, r, "/login?error=1", http.StatusSeeOther)
		return
	}
	secret, _, err := s.DB.CreateSession(r.Context(), t, SessionTTL)
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int(SessionTTL.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Value: "", Path: "/login", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.DB.DeleteSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// limiter counts failed authentications per client address in a sliding window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
	now    func() time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}, now: time.Now}
}

func (l *limiter) recent(ip string) []time.Time {
	cut := l.now().Add(-l.window)
	f := l.fails[ip]
	i := 0
	for i < len(f) && f[i].Before(cut) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, ip)
	} else {
		l.fails[ip] = f
	}
	return f
}

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(ip)) < l.max
}

func (l *limiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[ip] = append(l.recent(ip), l.now())
	if len(l.fails) > 100_000 { // bounded memory under a spray of addresses
		clear(l.fails)
	}
}

package http

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
)

const (
	sessionCookie = "mpass_session"
	loginCSRF     = "mpass_login_csrf"
)

type sessionKey struct{}

// authenticate admits a request with a valid bearer token or session cookie, and puts
// the token in its context. A cookie-authenticated POST must carry the session's CSRF
// token. Credentials are always checked, so a valid one is served from an address or
// for a token id that others have failed from (a school's NAT); a failure is counted
// per address and token id and, past the limit, answers 429 instead of 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := addrKey(r.RemoteAddr)
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			secret = strings.TrimSpace(secret)
			id, wellFormed := sqlite.TokenID(secret)
			if ok && wellFormed {
				t, err := s.DB.Authenticate(ctx, secret)
				if err == nil {
					next.ServeHTTP(w, r.WithContext(mpass.NewContextWithToken(ctx, t)))
					return
				}
				if mpass.ErrorCode(err) != mpass.EUNAUTHORIZED { // the store failed, not the caller
					s.error(w, r, fmt.Errorf("authenticate: %w", err))
					return
				}
			}
			// a token without the shape of one is never looked up: it cannot be valid
			if s.logins.fail(addr, id) {
				s.tooMany(w, r)
				return
			}
			s.error(w, r, mpass.Errorf(mpass.EUNAUTHORIZED, "invalid or revoked token"))
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			s.unauthenticated(w, r)
			return
		}
		sess, err := s.DB.FindSession(ctx, c.Value)
		if err != nil {
			if mpass.ErrorCode(err) != mpass.EUNAUTHORIZED {
				s.error(w, r, fmt.Errorf("find session: %w", err))
				return
			}
			if s.logins.fail(addr, "") {
				s.tooMany(w, r)
				return
			}
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

// tooMany answers a failed authentication from an address or for a token id that has
// failed too often: 429 with the window as Retry-After.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", strconv.Itoa(int(FailedLoginWindow.Seconds())))
	s.error(w, r, mpass.Errorf(errTooMany, "too many failed attempts; try again later"))
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
	c, err := r.Cookie(loginCSRF)
	if err != nil || !validCSRF(r, c.Value) {
		s.error(w, r, mpass.Errorf(mpass.EFORBIDDEN, "missing or wrong CSRF token; reload the login page"))
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	id, wellFormed := sqlite.TokenID(token)
	var t *mpass.Token
	if wellFormed {
		if t, err = s.DB.Authenticate(r.Context(), token); err != nil && mpass.ErrorCode(err) != mpass.EUNAUTHORIZED {
			s.error(w, r, fmt.Errorf("authenticate: %w", err))
			return
		}
	}
	if t == nil {
		if s.logins.fail(addrKey(r.RemoteAddr), id) {
			s.tooMany(w, r)
			return
		}
		http.Redirect(w, r, "/login?error=1", http.StatusSeeOther)
		return
	}
	if t.Role == mpass.RoleIngest { // a valid token, but not one for the pages
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

package http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// errTooMany is the code of a rate-limited request.
const errTooMany = "too_many_requests"

var statuses = map[string]int{
	mpass.EINVALID:      http.StatusBadRequest,
	mpass.ENOTFOUND:     http.StatusNotFound,
	mpass.EUNAUTHORIZED: http.StatusUnauthorized,
	mpass.EFORBIDDEN:    http.StatusForbidden,
	mpass.ECONFLICT:     http.StatusConflict,
	mpass.EINTERNAL:     http.StatusInternalServerError,
	errTooMany:          http.StatusTooManyRequests,
}

// error answers with the status of the error's code: JSON for the API, a page for
// people. Internal errors are logged and shown only as "internal error".
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := mpass.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == mpass.EINTERNAL {
		s.Logger.Error("request failed", "id", middleware.GetReqID(r.Context()), "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mpass-audit"`)
	}
	if isAPI(r) {
		writeJSON(w, status, map[string]string{"error": mpass.ErrorMessage(err)})
		return
	}
	// The error's own message is English, written for scripts and logs: a page in
	// another language says what the status means in the reader's words instead (a
	// page route with a reason to give gives it through errorPage).
	detail := ""
	if lang(w, r) == "en" && status != http.StatusInternalServerError {
		detail = mpass.ErrorMessage(err)
	}
	s.errorPage(w, r, status, detail, nil)
}

// backLink is where an error page sends its reader back to.
type backLink struct{ Href, Text string }

// errorPage renders the error page: the status in the reader's words, detail (already
// in the reader's language) and a link back, home when back is nil.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, detail string, back *backLink) {
	t := wordsOf(lang(w, r)).T
	text, ok := t[fmt.Sprintf("status_%d", status)]
	if !ok {
		text = t["status_500"]
		if status < 500 {
			text = t["status_400"]
		}
	}
	if back == nil {
		back = &backLink{Href: "/", Text: t["back"]}
	}
	s.renderStatus(w, r, status, "error.html", map[string]any{"Status": status, "StatusText": text, "Detail": detail, "Back": back})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func withSession(ctx context.Context, s *mpass.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionFrom(ctx context.Context) *mpass.Session {
	s, _ := ctx.Value(sessionKey{}).(*mpass.Session)
	return s
}

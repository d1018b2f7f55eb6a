// Package http is the service: the JSON API that OPH's scripts use, the web pages where
// data-protection officers log in and download their reports, and scheduled audits.
// Every query a caller triggers is limited to the controllers its token may see, in the
// store's queries themselves; another controller's data answers 404 exactly as missing
// data does.
package http

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/reports"
)

// Limits of the service.
const (
	MaxBodyBytes   = 64 << 20 // POST /api/v1/records
	MaxFormBytes   = 64 << 10
	MaxHeaderBytes = 32 << 10
	SessionTTL     = 8 * time.Hour
)

// Server serves the API and the pages.
type Server struct {
	DB        *sqlite.DB
	Auditor   *audit.Auditor
	Extractor *facts.Extractor
	Logger    *slog.Logger
	// Langs are the report languages a scheduled audit stores (default all).
	Langs []string
	// MaxBody limits POST /api/v1/records (default MaxBodyBytes).
	MaxBody int64
	// Render draws a report (default reports.RenderContext); tests inject one that
	// fails for a controller to see that the failure stays that report's.
	Render func(ctx context.Context, w io.Writer, d *reports.Data, lang string) error

	router chi.Router
	server *http.Server
	ln     net.Listener
	logins *failedLogins
	// auditing lets one audit run at a time, scheduled or started over the API.
	auditing sync.Mutex
	wg       sync.WaitGroup
	stop     context.CancelFunc
	ctx      context.Context
}

// NewServer builds the routes.
func NewServer(db *sqlite.DB, a *audit.Auditor, x *facts.Extractor, logger *slog.Logger) *Server {
	s := &Server{DB: db, Auditor: a, Extractor: x, Logger: logger, MaxBody: MaxBodyBytes, logins: newFailedLogins(time.Now)}
	s.ctx, s.stop = context.WithCancel(context.Background())
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.accessLog, middleware.Recoverer, securityHeaders, middleware.Timeout(5*time.Minute))
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/assets/*", s.handleAsset)
	r.Get("/login", s.handleLoginPage)
	r.Post("/login", s.handleLogin)
	r.Group(func(r chi.Router) {
		r.Use(s.authenticate)
		r.Post("/logout", s.handleLogout)
		r.Get("/", s.handleHome)
		r.Get("/runs/{id}", s.handleRunPage)
		r.Get("/runs/{id}/findings.csv", s.handleFindingsCSV)
		r.Post("/runs", s.handleStartRunForm)
		r.Get("/report", s.handleReportForm)
		r.Get("/stats", s.handleStatsPage)
		r.Route("/api/v1", func(r chi.Router) {
			r.Get("/runs", s.handleRuns)
			r.Get("/runs/{id}", s.handleRun)
			r.Get("/runs/{id}/findings.csv", s.handleRunCSV)
			r.Get("/rejections", s.handleRejections)
			r.Post("/runs", s.handleStartRun)
			r.Get("/reports/{controller}/{period}", s.handleReport)
			r.Post("/records", s.handleRecords)
		})
	})
	s.router = r
	return s
}

// ServeHTTP serves one request (tests call it directly).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Open listens on addr (TLS when cert and key are given) and serves in the background.
func (s *Server) Open(addr, certFile, keyFile string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.server = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      6 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		var err error
		if certFile != "" {
			s.server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			err = s.server.ServeTLS(ln, certFile, keyFile)
		} else {
			err = s.server.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting requests, lets running ones and background audits finish
// (until ctx ends), and returns.
func (s *Server) Close(ctx context.Context) error {
	var err error
	if s.server != nil {
		err = s.server.Shutdown(ctx)
	}
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return err
}

// HSTS is the Strict-Transport-Security header sent over TLS: browsers then use only
// HTTPS for the service for a year, so a network attacker cannot strip TLS on a later
// visit and read the session cookie.
const HSTS = "max-age=31536000"

// securityHeaders keeps the pages to themselves: no framing, no foreign scripts or
// styles, no referrer, no content sniffing; and, when the service terminates TLS
// itself, HSTS. Not on plain HTTP: browsers ignore it there, and behind a proxy the
// proxy, which owns the HTTPS origin, is the one to send it (as with Secure cookies).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", HSTS)
		}
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// accessLog logs one line per request: never a token, a cookie, a query string (it may
// hold a filter on a pseudonym) or a body.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := r.URL.Path
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.Logger.Info("request", "id", middleware.GetReqID(r.Context()), "method", r.Method, "route", route,
			"status", ww.Status(), "bytes", ww.BytesWritten(), "ms", time.Since(start).Milliseconds())
	})
}

package http_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/audit"
	apihttp "github.com/opetushallitus/mpass-audit/internal/http"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

// TestNoSecretsInLogs: tokens, session cookies, CSRF values and query strings (which
// may filter on a pupil's pseudonym) never reach a log line.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.srv = apihttp.NewServer(e.db, &audit.Auditor{DB: e.db, Engine: testenv.MustEngine(t)}, testenv.MustExtractor(t), slog.New(slog.NewJSONHandler(&logs, nil)))
	pseudonym := testenv.MustExtractor(t).Pseudonym("MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900")
	e.do(t, "dpo-city", "GET", "/api/v1/runs/"+itoa(e.runs["all"])+"?sp="+pseudonym, "")
	e.do(t, "forged", "GET", "/api/v1/runs", "")
	b := &client{t: t, srv: e.srv, cookies: map[string]*http.Cookie{}}
	m := csrfField.FindStringSubmatch(b.do("GET", "/login", nil).Body.String())
	b.do("POST", "/login", url.Values{"token": {e.tokens["auditor"]}, "csrf": {m[1]}})
	b.do("GET", "/runs/"+itoa(e.runs["all"])+"?sp="+pseudonym, nil)
	if logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	secrets := []string{e.tokens["dpo-city"], e.tokens["forged"], e.tokens["auditor"], m[1], pseudonym}
	for _, c := range b.cookies {
		secrets = append(secrets, c.Value)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs.String(), s) {
			t.Errorf("a log line holds %q", s)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t)
	e.srv.MaxBody = 2000
	line := `{"kind":"use","id":"u-%d","time":"2026-10-09T12:00:00Z","sp":"s","subject":"x","purpose":"analytics"}` + "\n"
	var body strings.Builder
	for i := range 100 {
		fmt.Fprintf(&body, line, i)
	}
	w := e.do(t, "ingest", "POST", "/api/v1/records", body.String())
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "larger than 2000 bytes") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// TestHeaderLimitAndTimeouts: a real listener refuses oversized headers.
func TestHeaderLimit(t *testing.T) {
	e := newEnv(t)
	if err := e.srv.Open("127.0.0.1:0", "", ""); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", e.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 2*apihttp.MaxHeaderBytes))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %d, want 431", resp.StatusCode)
	}
	e.srv.Close(context.Background())
}

package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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

// TestHSTSUnderTLS: a service started with a certificate sends Strict-Transport-Security
// (max-age one year); the same service over plain HTTP does not.
func TestHSTSUnderTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	e := newEnv(t)
	if err := e.srv.Open("127.0.0.1:0", certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	defer e.srv.Close(context.Background())
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get("https://" + e.srv.Addr() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("over TLS: Strict-Transport-Security %q, want max-age=31536000", got)
	}

	plain := newEnv(t)
	if err := plain.srv.Open("127.0.0.1:0", "", ""); err != nil {
		t.Fatal(err)
	}
	defer plain.srv.Close(context.Background())
	resp, err = (&http.Client{Timeout: 10 * time.Second}).Get("http://" + plain.srv.Addr() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("over plain HTTP: Strict-Transport-Security %q, want none", got)
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

package ingest

import (
	"fmt"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// shibbolethParser reads the Shibboleth IdP audit log: fields separated by '|', values
// within a field by ','. The log holds attribute names only, never values.
type shibbolethParser struct {
	*normalizer
	fields     int
	index      map[string]int // field code (%T, %u, ...) → position
	controller string
	scopes     map[string]string
}

func newShibbolethParser(n *normalizer, o Options) (*shibbolethParser, error) {
	format := o.LogFormat
	if format == "" {
		format = DefaultShibbolethFormat
	}
	codes := strings.Split(format, "|")
	p := &shibbolethParser{normalizer: n, fields: len(codes), index: map[string]int{}, controller: o.Controller, scopes: o.Scopes}
	for i, c := range codes {
		p.index[strings.TrimSpace(c)] = i
	}
	for _, need := range []string{"%T", "%u", "%SP", "%attr"} {
		if _, ok := p.index[need]; !ok {
			return nil, mpass.Errorf(mpass.EINVALID, "log format %q lacks %s", format, need)
		}
	}
	if o.Controller != "" && !mpass.ValidControllerOID(o.Controller) {
		return nil, mpass.Errorf(mpass.EINVALID, "--controller %q is not an OPH organisation OID", o.Controller)
	}
	return p, nil
}

func (p *shibbolethParser) get(f []string, code string) string {
	if i, ok := p.index[code]; ok {
		return strings.TrimSpace(f[i])
	}
	return ""
}

func (p *shibbolethParser) parse(source string, l line) parsed {
	if bad, ok := checkLine(source, l); !ok {
		return bad
	}
	if blank(l.text) {
		return parsed{}
	}
	f := strings.Split(string(l.text), "|")
	if len(f) != p.fields {
		return reject(source, l, "", fmt.Sprintf("%d fields where the log format has %d", len(f), p.fields))
	}
	// Only successful responses released attributes. An empty status is success: IdPs
	// leave it empty for a response without a SAML status (OIDC).
	if status := p.get(f, "%S"); status != "" && !strings.HasSuffix(status, ":Success") && status != "Success" {
		return parsed{skipped: true}
	}
	ts, err := shibbolethTime(p.get(f, "%T"))
	if err != nil {
		return reject(source, l, "%T", fmt.Sprintf("%q is not a time", truncate(p.get(f, "%T"))))
	}
	principal := p.get(f, "%u")
	controller := p.controller
	if controller == "" {
		_, scope, _ := strings.Cut(principal, "@")
		if controller = p.scopes[scope]; controller == "" && mpass.ValidControllerOID(scope) {
			controller = scope
		}
	}
	if controller == "" {
		return reject(source, l, "controller", "not in the line: give --controller OID or a scope mapping")
	}
	rec := fields{kind: "release", id: p.get(f, "%i"), time: ts, sp: p.get(f, "%SP"), controller: controller, subject: principal, values: map[string][]string{}}
	for _, name := range strings.Split(p.get(f, "%attr"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			rec.values[name] = nil
		}
	}
	if i := strings.IndexByte(rec.id, ','); i >= 0 {
		rec.id = rec.id[:i] // several assertions: the first names the release
	}
	return p.record(source, l, rec)
}

// shibbolethTime accepts the IdP's ISO 8601 instants and the compact form of IdP 2/3.
func shibbolethTime(s string) (string, error) {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s, nil
	}
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		return "", err
	}
	return t.Format(time.RFC3339), nil
}

package ingest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Names of the built-in Shibboleth audit log formats (--log-format).
const (
	LogFormatIdP4 = "idp4" // the default; IdP 5 writes the same ("idp5" is taken too)
	LogFormatIdP3 = "idp3"
)

// IdP3ShibbolethFormat is the audit log format of Shibboleth IdP 3, which MPASSid's
// proxy long ran. It ends in '|', and so does every line it writes: both split into the
// same number of fields, the last one empty.
const IdP3ShibbolethFormat = "%T|%b|%I|%SP|%P|%IDP|%bb|%III|%u|%ac|%attr|%n|%i|"

// Field counts of the built-in formats.
var (
	idp3Fields = strings.Count(IdP3ShibbolethFormat, "|") + 1
	idp4Fields = strings.Count(DefaultShibbolethFormat, "|") + 1
)

// ShibbolethFormat is the format string a --log-format value stands for: the IdP 4
// (also IdP 5) or IdP 3 default by name, else the value itself. Empty is idp4.
func ShibbolethFormat(name string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", LogFormatIdP4, "idp5":
		return DefaultShibbolethFormat, nil
	case LogFormatIdP3:
		return IdP3ShibbolethFormat, nil
	}
	if !strings.Contains(name, "%") {
		return "", mpass.Errorf(mpass.EINVALID, "log format %q is neither idp3, idp4 nor a format string of %%-codes", truncate(name))
	}
	return name, nil
}

// CheckShibbolethOptions reports what is wrong with the Shibboleth options of o (log
// format, controller, flow and scope maps, subject field), as ingest would, so that a
// command can refuse them before it reads anything.
func CheckShibbolethOptions(o Options) error {
	_, err := newShibbolethParser(nil, o)
	return err
}

// shibbolethCode is a field code as options give it: "flow" means "%flow".
func shibbolethCode(s string) string {
	if s = strings.TrimSpace(s); s != "" && !strings.HasPrefix(s, "%") {
		s = "%" + s
	}
	return s
}

// shibbolethParser reads the Shibboleth IdP audit log: fields separated by '|', values
// within a field by ','. The log holds attribute names only, never values.
type shibbolethParser struct {
	*normalizer
	fields int
	// lastFree: the format ends in %UA, the user agent, which a browser or a script may
	// fill with anything, '|' too: the line's fields beyond the format's are its own
	lastFree bool
	// positions of the fields read; -1 where the format has none
	time, sp, attr, id, status, profile, principal, subject, flow int
	controller                                                    string
	flowCode                                                      string
	flows                                                         map[string]string // flow value → controller
	scopes                                                        map[string]string // lower-case scope → controller
}

func newShibbolethParser(n *normalizer, o Options) (*shibbolethParser, error) {
	format, err := ShibbolethFormat(o.LogFormat)
	if err != nil {
		return nil, err
	}
	codes := strings.Split(format, "|")
	index := make(map[string]int, len(codes))
	for i, c := range codes {
		if c = strings.TrimSpace(c); c != "" {
			if _, dup := index[c]; !dup {
				index[c] = i // the first of a repeated code counts
			}
		}
	}
	at := func(code string) int {
		if i, ok := index[code]; ok {
			return i
		}
		return -1
	}
	p := &shibbolethParser{normalizer: n, fields: len(codes),
		time: at("%T"), sp: at("%SP"), attr: at("%attr"), id: at("%i"), status: at("%S"),
		profile: at("%P"), principal: at("%u"), subject: at("%u"), flow: -1,
		controller: strings.TrimSpace(o.Controller), lastFree: strings.TrimSpace(codes[len(codes)-1]) == "%UA"}
	shown := truncate(o.LogFormat) // as given: a name or a format string
	if shown == "" {
		shown = LogFormatIdP4
	}
	if s := shibbolethCode(o.SubjectField); s != "" {
		if p.subject = at(s); p.subject < 0 {
			return nil, mpass.Errorf(mpass.EINVALID, "log format %q has no %s (the subject field)", shown, s)
		}
	}
	for _, need := range []struct {
		code string
		i    int
	}{{"%T", p.time}, {"%SP", p.sp}, {"%attr", p.attr}, {"%u", p.subject}} {
		if need.i < 0 {
			return nil, mpass.Errorf(mpass.EINVALID, "log format %q lacks %s", shown, need.code)
		}
	}
	if p.controller != "" {
		if err := mpass.CheckControllerOID(p.controller); err != nil {
			return nil, mpass.Errorf(mpass.EINVALID, "--controller %v", err)
		}
	}
	if p.flowCode = shibbolethCode(o.FlowField); p.flowCode != "" {
		if p.flow = at(p.flowCode); p.flow < 0 {
			return nil, mpass.Errorf(mpass.EINVALID, "log format %q has no %s (the flow field)", shown, p.flowCode)
		}
	} else if len(o.Flows) > 0 {
		return nil, mpass.Errorf(mpass.EINVALID, "flows are mapped to controllers but no flow field names where a line holds its flow (--flow-field CODE)")
	}
	p.flows = make(map[string]string, len(o.Flows))
	for name, oid := range o.Flows {
		if strings.TrimSpace(name) == "" {
			return nil, mpass.Errorf(mpass.EINVALID, "--flow: an empty flow name")
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			return nil, mpass.Errorf(mpass.EINVALID, "--flow %s: %v", truncate(name), err)
		}
		p.flows[strings.TrimSpace(name)] = oid
	}
	p.scopes = make(map[string]string, len(o.Scopes))
	for scope, oid := range o.Scopes {
		// DNS names: one scope in any letter case
		s := strings.ToLower(strings.TrimSpace(scope))
		if s == "" {
			return nil, mpass.Errorf(mpass.EINVALID, "--scope: an empty scope")
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			return nil, mpass.Errorf(mpass.EINVALID, "--scope %s: %v", truncate(scope), err)
		}
		if prev, ok := p.scopes[s]; ok && prev != oid {
			return nil, mpass.Errorf(mpass.EINVALID, "--scope %s: mapped to both %s and %s", truncate(scope), prev, oid)
		}
		p.scopes[s] = oid
	}
	return p, nil
}

func shibbolethField(f []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(f[i])
}

func (p *shibbolethParser) parse(source string, l line) parsed {
	if bad, ok := checkLine(source, l); !ok {
		return bad
	}
	if blank(l.text) {
		return parsed{}
	}
	var f []string
	if p.lastFree {
		f = strings.SplitN(string(l.text), "|", p.fields)
	} else {
		f = strings.Split(string(l.text), "|")
	}
	if len(f) != p.fields {
		// the commonest cause is the other default format: say so
		hint := ""
		switch len(f) {
		case idp3Fields:
			hint = " (an IdP 3 log? --log-format idp3)"
		case idp4Fields:
			hint = " (an IdP 4 or 5 log? --log-format idp4)"
		}
		return reject(source, l, "", fmt.Sprintf("%d fields where the log format has %d%s", len(f), p.fields, hint))
	}
	// Only successful responses released attributes. An empty status is success: IdPs
	// leave it empty for a response without a SAML status (OIDC) and IdP 3 logs none.
	if status := shibbolethField(f, p.status); status != "" && !hasSuffixFold(status, ":success") && !strings.EqualFold(status, "success") {
		return parsed{skipped: true}
	}
	// A success that released nothing (a logout, an artifact resolution, a back-channel
	// query) is no release: stored, it would count as one to every term.
	if hasSuffixFold(shibbolethField(f, p.profile), "/logout") { // …/saml2/logout, …/SAML2/Logout
		return parsed{skipped: true}
	}
	var names []string
	for _, name := range strings.Split(f[p.attr], ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return parsed{skipped: true}
	}
	for _, name := range names {
		// a misaligned format could put a principal or a name id here: never take value
		// text for an attribute name (nor quote it)
		if !facts.WellFormedName(name) {
			return reject(source, l, "%attr", "an attribute id is not a name (RECORDS.md \"CSV\" says what a name is); is --log-format the log's format?")
		}
	}
	ts, err := shibbolethTime(shibbolethField(f, p.time))
	if err == errTimeRange {
		return reject(source, l, "%T", reasonTimeRange)
	} else if err != nil {
		return reject(source, l, "%T", "not a time (RFC 3339, an offset such as +0300, or yyyyMMdd'T'HHmmss'Z')")
	}
	subject := shibbolethField(f, p.subject)
	if subject == "" { // before the controller, which an empty principal cannot give
		return reject(source, l, "subject", "required and non-empty")
	}
	controller, why := p.controllerOf(f)
	if controller == "" {
		return reject(source, l, "controller", why)
	}
	rec := fields{kind: "release", id: shibbolethField(f, p.id), time: ts, sp: shibbolethField(f, p.sp), controller: controller,
		subject: subject, values: make(map[string][]string, len(names))}
	for _, name := range names {
		rec.values[name] = nil
	}
	if i := strings.IndexByte(rec.id, ','); i >= 0 {
		rec.id = strings.TrimSpace(rec.id[:i]) // several assertions: the first names the release
	}
	return p.record(source, l, rec)
}

// controllerOf finds a line's controller: --controller, else the line's flow through
// the flow map, else the principal's scope through the scope map, else a scope that is
// an organisation OID. Where none gives one, it says why without quoting the line (a
// flow or scope field may hold a user id).
func (p *shibbolethParser) controllerOf(f []string) (controller, why string) {
	if p.controller != "" {
		return p.controller, ""
	}
	var missed []string
	if p.flow >= 0 {
		flow := shibbolethField(f, p.flow)
		if c := p.flows[flow]; c != "" {
			return c, ""
		}
		if flow == "" {
			missed = append(missed, "its "+p.flowCode+" is empty")
		} else {
			missed = append(missed, "its "+p.flowCode+" is not mapped by --flow")
		}
	}
	// the scope is the principal's, also where the subject is another field
	principal := shibbolethField(f, p.principal)
	if p.principal < 0 {
		principal = shibbolethField(f, p.subject)
	}
	if at := strings.LastIndexByte(principal, '@'); at >= 0 && at < len(principal)-1 {
		scope := principal[at+1:]
		if c := p.scopes[strings.ToLower(scope)]; c != "" {
			return c, ""
		}
		// an OID scope is taken even with a wrong check digit, so that the record is
		// rejected with the digit it should end in
		if strings.HasPrefix(scope, mpass.OrganisationArc) || strings.HasPrefix(scope, mpass.TestOrganisationArc) {
			return scope, ""
		}
		missed = append(missed, "its principal's scope is neither mapped by --scope nor an organisation OID")
	} else {
		missed = append(missed, "its principal has no @scope")
	}
	return "", "not found: " + strings.Join(missed, ", ") +
		"; give --controller OID, --flow-field CODE with --flow NAME=OID, or --scope SCOPE=OID for principals user@SCOPE"
}

// shibbolethLayouts are the %T shapes IdPs write: RFC 3339 with any fraction (also a
// comma), an offset with or without its colon, and IdP 3's compact UTC form.
var shibbolethLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"20060102T150405Z",
}

// errTimeRange is a %T the store cannot hold exactly (Storable).
var errTimeRange = errors.New(reasonTimeRange)

// shibbolethTime gives a %T value as an RFC 3339 time in UTC.
func shibbolethTime(s string) (string, error) {
	s = strings.ToUpper(s) // RFC 3339 allows a lower-case t and z; the layouts have upper
	var err error
	for _, layout := range shibbolethLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			if !Storable(t) {
				return "", errTimeRange
			}
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	}
	return "", err
}

// rotatedLog reports whether name is a log rotated by a suffix after ".log": a date or
// a number (idp-audit.log.2026-10-07, idp-audit.log.3).
func rotatedLog(name string) bool {
	i := strings.LastIndex(strings.ToLower(name), ".log.")
	if i < 0 || strings.ContainsAny(name[i:], `/\`) {
		return false
	}
	rest := name[i+len(".log."):]
	for _, r := range rest {
		if (r < '0' || r > '9') && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return rest != ""
}

// hasSuffixFold is strings.HasSuffix without regard to ASCII case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

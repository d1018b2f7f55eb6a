package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// serviceJSON is what `registry import` reads of one element of the management
// service's services export, `{"services":[…]}` (MPASSid-hallintapalvelu: the loader
// ServiceProviderLoader, its test resources saml_services.json and oidc_services.json,
// and the Integration schema of mpassid-voh-ui/schemas/schema.json). Every other field
// (certificates, redirect URIs, secrets) is skipped unread.
type serviceJSON struct {
	ID                  json.RawMessage `json:"id"` // the integration id: a number, or a string of digits
	ConfigurationEntity struct {
		SP *struct {
			Type string `json:"type"` // saml | oidc
			Name string `json:"name"`
			// The provisioning export puts the id in metadata; the API's Integration
			// schema beside it (entityId, clientId): either is read.
			EntityID string `json:"entityId"`
			ClientID string `json:"clientId"`
			Metadata *struct {
				EntityID string `json:"entityId"`
				ClientID string `json:"client_id"`
			} `json:"metadata"`
		} `json:"sp"`
		Attributes []attributeJSON `json:"attributes"`
	} `json:"configurationEntity"`
	Organization      *organizationRef `json:"organization"`
	IntegrationGroups []struct {
		ID json.RawMessage `json:"id"`
	} `json:"integrationGroups"`
	DeploymentPhase json.RawMessage `json:"deploymentPhase"` // 0 test, 1 production, 2 pre-production, 3 reserved
}

// attributeJSON is a configuration attribute, {"name","content","type"}; some test
// resources hold {"datasource":"opinsys"} instead, which has no name and is skipped.
type attributeJSON struct {
	Name    string          `json:"name"`
	Content json.RawMessage `json:"content"`
}

// organizationRef is an integration's organisation: its OID and business id.
type organizationRef struct {
	OID        string `json:"oid"`
	BusinessID string `json:"ytunnus"`
}

// services is what the services export gives: the SPs, and the integration ids and
// set memberships that identity providers' permissions refer to.
type services struct {
	sps           map[string]*mpass.ServiceProvider // by SP id (entityID or client_id)
	byIntegration map[string]string                 // integration id → SP id
	members       map[string][]string               // set id → SP ids, sorted
	paths         map[string]string                 // SP id → the JSON path it was first read at
}

// ProtocolSAML and ProtocolOIDC are the management service's SP types, and the keys of
// the data model's attributes by protocol.
const (
	ProtocolSAML = "saml"
	ProtocolOIDC = "oidc"
)

// readServices streams the services export. An SP's id is its SAML entityId or its
// OIDC client_id; its approved attributes are the data model's of its protocol
// (dataModel) and its purposes identification and access rights, as every MPASSid
// service receives them. Its validity is left open: the export's deploymentDate and
// acceptanceDate are when the integration went live and was accepted, not the bounds of
// an agreement, and a release outside them is not against the MPASSid terms; the
// overlay's `valid` sets an agreement's bounds where one has them.
//
// Errors (with file and JSON path): a missing integration id or SP id, a type other
// than saml or oidc, a vendor OID or business id with a wrong check digit, a
// deployment phase or allowtestlearnerid of the wrong kind, an integration id twice. An
// SP id under two integrations (a test and a production integration of one service)
// is one SP, the production one's name winning, with a warning.
func readServices(ctx context.Context, r io.Reader, fe *fileErrors, dataModel map[string][]string, warn func(string, ...any)) (*services, error) {
	s := &services{sps: map[string]*mpass.ServiceProvider{}, byIntegration: map[string]string{}, members: map[string][]string{}, paths: map[string]string{}}
	integrationPaths := map[string]string{}
	err := streamArray(ctx, r, fe, "services", "a services export of the MPASSid management service", func(path string, dec *json.Decoder) error {
		var v serviceJSON
		if ok, err := decodeElement(dec, fe, path, &v); !ok {
			return err
		}
		integration, ok := integrationID(v.ID)
		switch {
		case !ok:
			fe.add(path+".id", "%s is not an integration id (digits)", abbreviate(v.ID))
		case integration == "":
			fe.add(path+".id", "required")
		case integrationPaths[integration] != "":
			fe.add(path+".id", "integration %s twice (also %s)", integration, integrationPaths[integration])
		default:
			integrationPaths[integration] = path
		}
		sp := v.ConfigurationEntity.SP
		if sp == nil {
			fe.add(path+".configurationEntity.sp", "required: an element of services is a service provider integration")
			return nil
		}
		var id, idPath string
		switch sp.Type {
		case ProtocolSAML:
			id, idPath = sp.EntityID, path+".configurationEntity.sp.metadata.entityId"
			if sp.Metadata != nil && sp.Metadata.EntityID != "" {
				id = sp.Metadata.EntityID
			}
		case ProtocolOIDC:
			id, idPath = sp.ClientID, path+".configurationEntity.sp.metadata.client_id"
			if sp.Metadata != nil && sp.Metadata.ClientID != "" {
				id = sp.Metadata.ClientID
			}
		default:
			fe.add(path+".configurationEntity.sp.type", "%q: want saml or oidc", sp.Type)
			return nil
		}
		if id = strings.TrimSpace(id); id == "" {
			fe.add(idPath, "required")
			return nil
		}
		m := mpass.ServiceProvider{
			ID: id, Name: strings.TrimSpace(sp.Name), Protocol: sp.Type,
			Attributes: slices.Sorted(slices.Values(dataModel[sp.Type])),
			Purposes:   []string{PurposeAuthentication, PurposeAuthorization},
		}
		if v.Organization != nil {
			if o := strings.TrimSpace(v.Organization.OID); o != "" {
				if err := mpass.CheckControllerOID(o); err != nil {
					fe.add(path+".organization.oid", "%v", err)
				}
				m.VendorOID = o
			}
			if b := strings.TrimSpace(v.Organization.BusinessID); b != "" {
				if err := CheckBusinessID(b); err != nil {
					fe.add(path+".organization.ytunnus", "%v", err)
				}
				m.BusinessID = b
			}
		}
		phase, ok := smallInt(v.DeploymentPhase)
		if !ok {
			fe.add(path+".deploymentPhase", "%s is not a deployment phase (0 test, 1 production, 2 pre-production)", abbreviate(v.DeploymentPhase))
		}
		m.DeploymentPhase = phase
		for i, a := range v.ConfigurationEntity.Attributes {
			if a.Name != "allowtestlearnerid" {
				continue
			}
			b, ok := jsonBool(a.Content)
			if !ok {
				fe.add(fmt.Sprintf("%s.configurationEntity.attributes[%d].content", path, i), "%s: want \"true\" or \"false\"", abbreviate(a.Content))
			}
			m.TestLearnerID = b
		}
		for i, g := range v.IntegrationGroups {
			set, ok := integrationID(g.ID)
			if !ok || set == "" {
				fe.add(fmt.Sprintf("%s.integrationGroups[%d].id", path, i), "%s is not a set's integration id", abbreviate(g.ID))
				continue
			}
			m.Sets = append(m.Sets, set)
		}
		slices.Sort(m.Sets)
		m.Sets = slices.Compact(m.Sets)
		if integration != "" {
			s.byIntegration[integration] = id
		}
		if old := s.sps[id]; old != nil {
			warn("%s: %s: %s is also the service of %s: read as one service", fe.name, path, id, s.paths[id])
			mergeService(old, &m)
			return nil
		}
		s.sps[id], s.paths[id] = &m, path
		return nil
	})
	for id, sp := range s.sps {
		for _, set := range sp.Sets {
			s.members[set] = append(s.members[set], id)
		}
	}
	for _, ids := range s.members {
		slices.Sort(ids)
	}
	return s, err
}

// mergeService folds a second integration of one SP id into the first: the sets of
// both, and the name and details of the production one (deployment phase 1).
func mergeService(old, m *mpass.ServiceProvider) {
	sets := append(old.Sets, m.Sets...)
	slices.Sort(sets)
	if m.DeploymentPhase != nil && *m.DeploymentPhase == 1 && (old.DeploymentPhase == nil || *old.DeploymentPhase != 1) {
		*old = *m
	}
	old.Sets = slices.Compact(sets)
}

// sorted returns the SPs in id order.
func (s *services) sorted() []mpass.ServiceProvider {
	out := make([]mpass.ServiceProvider, 0, len(s.sps))
	for _, id := range slices.Sorted(maps.Keys(s.sps)) {
		out = append(out, *s.sps[id])
	}
	return out
}

// The purposes every MPASSid service is approved for (TERMS.md identification-only).
const (
	PurposeAuthentication = "essential.service.authentication"
	PurposeAuthorization  = "essential.service.authorization"
)

// jsonBool reads a configuration attribute's content, "true" or "false" (the exports'
// strings) or a JSON boolean.
func jsonBool(raw json.RawMessage) (v, ok bool) {
	var s any
	if err := json.Unmarshal(raw, &s); err != nil {
		return false, false
	}
	switch x := s.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, true
		case "false", "":
			return false, true
		}
	}
	return false, false
}

// abbreviate quotes a raw JSON value for a message, cut short: an export's values are
// the management service's configuration, never a pupil's data, but may be long.
func abbreviate(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "nothing"
	}
	if len(s) > 40 {
		s = s[:37] + "…"
	}
	return s
}

// CheckBusinessID returns nil when s is a Finnish business id (y-tunnus) with a valid
// check digit: seven digits, a hyphen and the check digit. The digits are weighted 7,
// 9, 10, 5, 8, 4, 2 and summed; of the sum mod 11, 0 gives check digit 0, 1 is never
// given, and any other r gives 11 − r (Finnish Tax Administration, "Y-tunnuksen
// tarkistusmerkin laskenta").
func CheckBusinessID(s string) error {
	digits, check, ok := strings.Cut(s, "-")
	if !ok || len(digits) != 7 || len(check) != 1 || strings.Trim(digits+check, "0123456789") != "" {
		return mpass.Errorf(mpass.EINVALID, "%s is not a business id (y-tunnus: 1234567-8)", quoteDigits(s))
	}
	weights := [7]int{7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
	}
	want := 0
	switch r := sum % 11; r {
	case 0:
	case 1:
		return mpass.Errorf(mpass.EINVALID, "%q is not a business id: no check digit makes %s valid", s, digits)
	default:
		want = 11 - r
	}
	if int(check[0]-'0') != want {
		return mpass.Errorf(mpass.EINVALID, "%q has a wrong check digit: it should end in %d (%s-%d)", s, want, digits, want)
	}
	return nil
}

// quoteDigits quotes s where it is digits and hyphens only: what stood in a business
// id's place may be anything.
func quoteDigits(s string) string {
	if s == "" || len(s) > 20 || strings.Trim(s, "0123456789-") != "" {
		return "the value"
	}
	return fmt.Sprintf("%q", s)
}

// spRef reads an SP reference of a permission or an allowedServiceProviders list:
// {"type":"saml","entityId":…} or {"type":"oidc","clientId":…}.
type spRef struct {
	Type     string `json:"type"`
	EntityID string `json:"entityId"`
	ClientID string `json:"clientId"`
}

// id is the SP id the reference names: the entityId of a SAML SP, the clientId of an
// OIDC one; of a reference without a type, whichever is given.
func (r spRef) id() string {
	switch r.Type {
	case ProtocolSAML:
		return strings.TrimSpace(r.EntityID)
	case ProtocolOIDC:
		return strings.TrimSpace(r.ClientID)
	}
	return strings.TrimSpace(cmp.Or(r.EntityID, r.ClientID))
}

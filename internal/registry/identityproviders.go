package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// identityProviderJSON is what `registry import` reads of one element of the management
// service's identity-provider export, `{"identityProviders":[…]}` (MPASSid-hallintapalvelu:
// IdentityProviderLoader, its test resources *_home_organizations.json, and the
// Integration and IntegrationPermission schemas of mpassid-voh-ui/schemas/schema.json).
// Credentials, logos and attribute mappings are skipped unread.
type identityProviderJSON struct {
	ConfigurationEntity struct {
		IdP *struct {
			Type     string `json:"type"` // azure, opinsys, wilma, adfs, gsuite
			IdpID    string `json:"idpId"`
			FlowName string `json:"flowName"`
			// Opinsys' own list of the services its users may reach, without times.
			// A pointer: an empty list is data, an absent one is none.
			AllowedServiceProviders *[]spRef `json:"allowedServiceProviders"`
		} `json:"idp"`
	} `json:"configurationEntity"`
	DiscoveryInformation *struct {
		CustomDisplayName string   `json:"customDisplayName"`
		Title             string   `json:"title"`
		Schools           []string `json:"schools"` // 5-digit school codes (oppilaitosnumero)
	} `json:"discoveryInformation"`
	Organization *organizationRef `json:"organization"`
	// The services the controller allows (management service 2.0, January 2024). A
	// pointer: absent means the export has none; an empty list means every service
	// (Integration.java: "empty permissions list indicates all permissions").
	Permissions *[]permissionJSON `json:"permissions"`
}

// permissionJSON is an IntegrationPermission as IntegrationPermissionSerializer writes
// it: the integration allowed (a set, with its members' SP ids, or one service) and
// lastUpdatedOn, a java.time.LocalDateTime of the management service (no zone: its
// clock is Finnish time).
type permissionJSON struct {
	To *struct {
		ID           json.RawMessage `json:"id"`
		Integrations []spRef         `json:"integrations"`
	} `json:"to"`
	LastUpdatedOn *string `json:"lastUpdatedOn"`
}

// Where a permission came from (mpass.Permission.Source).
const (
	// SourcePermissions: the identity provider's permissions, each with its time.
	SourcePermissions = "permissions"
	// SourceAllowedSPs: an Opinsys identity provider's allowedServiceProviders.
	SourceAllowedSPs = "allowedServiceProviders"
	// SourceAllServices: a permissions list that allows every service (empty, or the
	// user-attribute test service alone), expanded to every imported service.
	SourceAllServices = "all-services"
)

// UserAttributeTestService is the integration id of MPASSid's user-attribute test
// service. A permissions list that holds it alone is how the management service's UI
// switches "all services" on (mpassid-voh-ui: config.ts mpassIdUserAttributeTestService,
// IntegrationTab's activateAllServices), so it allows every service, as an empty list does.
const UserAttributeTestService = "3000001"

// Epoch is the From of a permission without a time of its own (allowedServiceProviders,
// every service): 1970-01-01T00:00:00Z, before any MPASSid record, so such a permission
// covers every release. The zero time.Time would not do: the database stores instants as
// Unix nanoseconds, which cannot hold the year 1.
func Epoch() time.Time { return time.Unix(0, 0).UTC() }

// grant is one service a controller allows, as an export gives it.
type grant struct {
	controller, sp, set, source string
	from                        time.Time
	// timeless: the export gives no time (allowedServiceProviders, every service); see
	// mergeHistory for when it counts from Epoch.
	timeless bool
}

// controllerData is what the identity providers tell of one controller.
type controllerData struct {
	displayName    string   // discoveryInformation.customDisplayName or title: a name where the organisation service gives none
	codes          []string // discovery's school codes
	codePaths      map[string]string
	permissionData bool
	allServices    bool
}

// identityProviders is what the identity-provider export gives.
type identityProviders struct {
	controllers map[string]*controllerData
	idps        []mpass.IdentityProvider
	grants      []grant
}

// readIdentityProviders streams the identity-provider export. A controller is the
// organisation of an identity provider (organization.oid); its schools are the
// discovery's school codes. Its allowed services are each identity provider's
// permissions (a permission to a set allows every member of the set: the services whose
// integrationGroups name it, and those the permission itself lists) and Opinsys'
// allowedServiceProviders. A controller has permission data when any of its identity
// providers has either list, even an empty one; an empty permissions list, or one that
// holds the user-attribute test service alone, allows every service.
//
// Errors (file and JSON path): an element that is no identity provider, a missing or
// malformed organisation OID, a school code that is not 5 digits, a permission without
// its target, a lastUpdatedOn that is not a LocalDateTime, an allowedServiceProviders
// entry with no id. A permission to an integration that neither the services nor the
// sets export has, or to an SP id the services export lacks, is a warning.
func readIdentityProviders(ctx context.Context, r io.Reader, fe *fileErrors, svc *services, sets map[string]string, helsinki *time.Location, warn func(string, ...any)) (*identityProviders, error) {
	out := &identityProviders{controllers: map[string]*controllerData{}}
	err := streamArray(ctx, r, fe, "identityProviders", "an identity-provider export of the MPASSid management service", func(path string, dec *json.Decoder) error {
		var v identityProviderJSON
		if ok, err := decodeElement(dec, fe, path, &v); !ok {
			return err
		}
		idp := v.ConfigurationEntity.IdP
		if idp == nil {
			fe.add(path+".configurationEntity.idp", "required: an element of identityProviders is an identity provider")
			return nil
		}
		oid := ""
		if v.Organization != nil {
			oid = strings.TrimSpace(v.Organization.OID)
		}
		if oid == "" {
			fe.add(path+".organization.oid", "required: the controller")
			return nil
		}
		if err := mpass.CheckControllerOID(oid); err != nil {
			fe.add(path+".organization.oid", "%v", err)
			return nil
		}
		c := out.controllers[oid]
		if c == nil {
			c = &controllerData{codePaths: map[string]string{}}
			out.controllers[oid] = c
		}
		out.idps = append(out.idps, mpass.IdentityProvider{Controller: oid, Flow: strings.TrimSpace(idp.FlowName), IdpID: strings.TrimSpace(idp.IdpID), Type: strings.TrimSpace(idp.Type)})
		if d := v.DiscoveryInformation; d != nil {
			if c.displayName == "" {
				c.displayName = strings.TrimSpace(d.CustomDisplayName)
			}
			for i, code := range d.Schools {
				code = strings.TrimSpace(code)
				if !schoolCode(code) {
					fe.add(fmt.Sprintf("%s.discoveryInformation.schools[%d]", path, i), "%s is not a 5-digit school code", quoteDigits(code))
					continue
				}
				if _, seen := c.codePaths[code]; !seen {
					c.codes = append(c.codes, code)
					c.codePaths[code] = fmt.Sprintf("%s.discoveryInformation.schools[%d]", path, i)
				}
			}
		}
		if v.Permissions != nil {
			c.permissionData = true
			perms := *v.Permissions
			if allServices(perms) {
				c.allServices = true
			} else {
				for i, p := range perms {
					out.grants = append(out.grants, permissionGrants(fe, fmt.Sprintf("%s.permissions[%d]", path, i), oid, p, svc, sets, helsinki, warn)...)
				}
			}
		}
		if idp.AllowedServiceProviders != nil {
			c.permissionData = true
			for i, ref := range *idp.AllowedServiceProviders {
				p := fmt.Sprintf("%s.configurationEntity.idp.allowedServiceProviders[%d]", path, i)
				id := ref.id()
				if id == "" {
					fe.add(p, "want an entityId (saml) or a clientId (oidc)")
					continue
				}
				if svc.sps[id] == nil {
					warn("%s: %s: %s is not in the services export: allowed all the same", fe.name, p, id)
				}
				out.grants = append(out.grants, grant{controller: oid, sp: id, source: SourceAllowedSPs, from: Epoch(), timeless: true})
			}
		}
		return nil
	})
	return out, err
}

// allServices reports whether a permissions list allows every service: it is empty, or
// holds the user-attribute test service alone.
func allServices(perms []permissionJSON) bool {
	if len(perms) == 0 {
		return true
	}
	if len(perms) != 1 || perms[0].To == nil {
		return false
	}
	id, _ := integrationID(perms[0].To.ID)
	return id == UserAttributeTestService
}

// permissionGrants resolves one permission to the services it allows: one service when
// its target is a service's integration id, else every member of the set it names.
func permissionGrants(fe *fileErrors, path, controller string, p permissionJSON, svc *services, sets map[string]string, helsinki *time.Location, warn func(string, ...any)) []grant {
	if p.To == nil {
		fe.add(path+".to", "required: the integration allowed")
		return nil
	}
	target, ok := integrationID(p.To.ID)
	if !ok || target == "" {
		fe.add(path+".to.id", "%s is not an integration id (digits)", abbreviate(p.To.ID))
		return nil
	}
	g := grant{controller: controller, source: SourcePermissions}
	if p.LastUpdatedOn == nil || strings.TrimSpace(*p.LastUpdatedOn) == "" {
		warn("%s: %s: no lastUpdatedOn: allowed since before any record", fe.name, path)
		g.from, g.timeless = Epoch(), true
	} else if t, err := parseLocalDateTime(*p.LastUpdatedOn, helsinki); err != nil {
		fe.add(path+".lastUpdatedOn", "%v", err)
		return nil
	} else {
		g.from = t
	}
	if sp, ok := svc.byIntegration[target]; ok {
		g.sp = sp
		return []grant{g}
	}
	_, known := sets[target]
	members := slices.Clone(svc.members[target])
	if !known && len(members) == 0 {
		if len(p.To.Integrations) == 0 {
			warn("%s: %s.to.id: integration %s is neither a service nor a set of the exports: skipped", fe.name, path, target)
			return nil
		}
		warn("%s: %s.to.id: set %s is in neither the sets nor the services export: its members are the permission's integrations", fe.name, path, target)
	}
	for i, ref := range p.To.Integrations {
		id := ref.id()
		if id == "" {
			fe.add(fmt.Sprintf("%s.to.integrations[%d]", path, i), "want an entityId (saml) or a clientId (oidc)")
			continue
		}
		if svc.sps[id] == nil {
			warn("%s: %s.to.integrations[%d]: %s is not in the services export: allowed all the same", fe.name, path, i, id)
		}
		members = append(members, id)
	}
	if len(members) == 0 {
		warn("%s: %s.to.id: set %s has no member service in the exports: allows nothing", fe.name, path, target)
	}
	slices.Sort(members)
	out := make([]grant, 0, len(members))
	for _, sp := range slices.Compact(members) {
		g.sp, g.set = sp, target
		out = append(out, g)
	}
	return out
}

// parseLocalDateTime reads a java.time.LocalDateTime as Jackson writes it
// ("2024-08-12T09:41:07", a fraction and the seconds optional) as Finnish time
// (Europe/Helsinki), and returns it in UTC. A time that does carry a zone (RFC 3339)
// is taken as it says. In the hour that autumn's change to winter time repeats, the
// earlier of the two instants is taken: a permission then counts from the earliest
// moment it can have been given.
func parseLocalDateTime(s string, helsinki *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		t, err := time.ParseInLocation(layout, s, helsinki)
		if err != nil {
			continue
		}
		wall := t.Format(time.DateTime)
		if e := t.Add(-time.Hour); e.Format(time.DateTime) == wall {
			t = e
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a LocalDateTime (2006-01-02T15:04:05, Finnish time)", cut(s, 40))
}

// schoolCode reports whether s is a 5-digit school code (oppilaitosnumero).
func schoolCode(s string) bool {
	return len(s) == 5 && strings.Trim(s, "0123456789") == ""
}

// cut shortens s to n runes for a message.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

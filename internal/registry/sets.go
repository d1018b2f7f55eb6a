package registry

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// setJSON is what `registry import` reads of one element of the management service's
// service sets, `{"integrationGroups":[…]}` (MPASSid-hallintapalvelu: SetLoader and its
// test resources set/integration_sets.json). A set groups one vendor's services; a
// controller that allows the set allows every member, and the members are the services
// whose integrationGroups name the set.
type setJSON struct {
	ID                  json.RawMessage `json:"id"`
	ConfigurationEntity struct {
		Set *struct {
			Name string `json:"name"`
		} `json:"set"`
	} `json:"configurationEntity"`
	Organization *organizationRef `json:"organization"`
}

// readSets streams the sets file: set id → name. Errors: a missing or malformed id, an
// id twice, an element that is no set, a vendor OID with a wrong check digit.
func readSets(ctx context.Context, r io.Reader, fe *fileErrors) (map[string]string, error) {
	sets := map[string]string{}
	paths := map[string]string{}
	err := streamArray(ctx, r, fe, "integrationGroups", "the service sets of the MPASSid management service", func(path string, dec *json.Decoder) error {
		var v setJSON
		if ok, err := decodeElement(dec, fe, path, &v); !ok {
			return err
		}
		id, ok := integrationID(v.ID)
		switch {
		case !ok:
			fe.add(path+".id", "%s is not an integration id (digits)", abbreviate(v.ID))
			return nil
		case id == "":
			fe.add(path+".id", "required")
			return nil
		case paths[id] != "":
			fe.add(path+".id", "set %s twice (also %s)", id, paths[id])
			return nil
		}
		paths[id] = path
		if v.ConfigurationEntity.Set == nil {
			fe.add(path+".configurationEntity.set", "required: an element of integrationGroups is a service set")
			return nil
		}
		if v.Organization != nil && strings.TrimSpace(v.Organization.OID) != "" {
			if err := mpass.CheckControllerOID(strings.TrimSpace(v.Organization.OID)); err != nil {
				fe.add(path+".organization.oid", "%v", err)
			}
		}
		sets[id] = strings.TrimSpace(v.ConfigurationEntity.Set.Name)
		return nil
	})
	return sets, err
}

package ingest

import (
	"context"
	"slices"

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// NameMaps gives the name map of the registry version in use (sqlite.DB).
type NameMaps interface {
	// LatestNames is the newest registry version's name map; nil where none is loaded.
	LatestNames(ctx context.Context) (map[string]string, error)
}

// WithNames returns x reading with the name map of the newest registry version (if any
// is loaded) and with extra (`ingest --names FILE.yaml`), so that another deployment's
// attribute ids mean the same attribute in records as in the registry (RECORDS.md
// "Every name an attribute has gone by"). A name mapped to two attributes is an error.
// It reads the name map alone, not the registry: the service calls it per request.
func WithNames(ctx context.Context, registries NameMaps, x *facts.Extractor, extra map[string]string) (*facts.Extractor, error) {
	names, err := registries.LatestNames(ctx)
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = map[string]string{}
	}
	cat := x.Catalog()
	for k, v := range extra {
		if was, ok := names[k]; ok && was != cat.Canonical(v) {
			return nil, mpass.Errorf(mpass.EINVALID, "name %s: the registry maps it to %s, the name map to %s", k, was, cat.Canonical(v))
		}
		names[k] = v
	}
	nx, err := x.WithNames(names)
	if err != nil {
		return nil, mpass.Errorf(mpass.EINVALID, "name map: %v", err)
	}
	return nx, nil
}

// RegistryFlows maps the authentication flows (flowName) and upstream identity provider
// ids (idpId) of a registry's imported identity providers to their controllers, for
// Shibboleth lines whose flow field names one (RECORDS.md, Shibboleth: "mapped to a
// controller by the registry's identity-provider flows"). A name of two controllers is
// left out and returned in ambiguous: it cannot tell them apart.
func RegistryFlows(reg *mpass.Registry) (flows map[string]string, ambiguous []string) {
	flows = map[string]string{}
	bad := map[string]bool{}
	for _, idp := range reg.IdentityProviders {
		for _, name := range []string{idp.Flow, idp.IdpID} {
			if name == "" {
				continue
			}
			if was, ok := flows[name]; ok && was != idp.Controller {
				bad[name] = true
			}
			flows[name] = idp.Controller
		}
	}
	for name := range bad {
		delete(flows, name)
		ambiguous = append(ambiguous, name)
	}
	slices.Sort(ambiguous)
	return flows, ambiguous
}

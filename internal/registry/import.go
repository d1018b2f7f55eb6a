package registry

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Helsinki for lastUpdatedOn, on hosts without zoneinfo

	"github.com/opetushallitus/mpass-audit/internal/facts"
	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// Kinds of the files a registry version is built from (mpass.Source.Kind), in the
// order the registry's digest covers them.
const (
	SourceKindRegistry          = "registry" // the YAML of `registry load`
	SourceKindServices          = "services"
	SourceKindIdentityProviders = "identity-providers"
	SourceKindSets              = "sets"
	SourceKindOrganisations     = "organisations"
	SourceKindOverlay           = "overlay"
)

// Input is one file of an import: Name is used in messages and kept in the registry's
// sources (as given: a path or a name), R gives its bytes. An Input whose R is nil was
// not given.
type Input struct {
	Name string
	R    io.Reader
}

// Sources are the files `registry import` builds a registry version from
// (RECORDS.md "The registry from MPASSid's own systems"; samples of each shape in
// ../shared/samples/mpassid/):
//   - Services (required): the management service's services export, {"services":[…]}.
//   - IdentityProviders (required): its identity-provider export, {"identityProviders":[…]},
//     with each controller's permissions and Opinsys' allowedServiceProviders.
//   - Sets: its service sets, {"integrationGroups":[…]}, for the sets' names and to tell a
//     permission to a set from one to an unknown integration.
//   - Organisations: the organisation service's hierarchy, {"organisaatiot":[…]}, for the
//     controllers' names in fi/sv/en and their schools by code and OID.
//   - Overlay: a registry YAML of what no OPH system holds (see Overlay).
type Sources struct {
	Services, IdentityProviders, Sets, Organisations, Overlay Input
}

// Importer builds registry versions from MPASSid's exports, with the policies' view of
// names and purposes.
type Importer struct {
	Extractor  *facts.Extractor // attribute catalog, and pseudonyms for the overlay's consents
	Vocabulary Vocabulary       // purposes and rules the overlay may name
	// DataModel is the data model's canonical attribute names by protocol (saml, oidc):
	// what every imported SP is approved for (policy.Engine.DataModel).
	DataModel map[string][]string
}

// Import builds one registry version from src. The JSON exports are streamed, one
// array element at a time, never read whole. prev is the newest registry version (nil
// when there is none): its permissions give the new version's history (mergeHistory).
// now is the time of the import, UTC; a permission no export has any more is closed at
// now.
//
// The version's Sources are the files with the SHA-256 of each, and its Digest the
// SHA-256 over the sources' kinds and digests in a fixed order (SourceKind*): importing
// the same files again gives the same digest, whatever their names or prev.
//
// Errors are an *mpass.Error (EINVALID) of one line per problem, each naming the file
// and the JSON path (`services.json: $.services[3].configurationEntity.sp.metadata.entityId:
// required`), or the overlay's file and line; every file is read and all of its errors
// reported (at most 50 a file), the overlay only once the exports are sound. Warnings
// (an SP id a permission names that the services export lacks, a controller without a
// name, …) do not stop the import; they are returned with the registry only.
func (im *Importer) Import(ctx context.Context, src Sources, prev *mpass.Registry, now time.Time) (*mpass.Registry, []string, error) {
	if src.Services.R == nil || src.IdentityProviders.R == nil {
		return nil, nil, mpass.Errorf(mpass.EINVALID, "registry import needs both the services and the identity-provider exports")
	}
	for _, protocol := range []string{ProtocolSAML, ProtocolOIDC} {
		if len(im.DataModel[protocol]) == 0 {
			return nil, nil, mpass.Errorf(mpass.EINVALID, "the policies in use give no data model for %s (data.mpass.catalog.data_model)", protocol)
		}
	}
	for _, p := range []string{PurposeAuthentication, PurposeAuthorization} {
		if !im.Vocabulary.Purposes[p] {
			return nil, nil, mpass.Errorf(mpass.EINVALID, "the policies in use do not know the purpose %s", p)
		}
	}
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		return nil, nil, fmt.Errorf("registry import: %w", err)
	}

	var warnings, problems []string
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }
	digests := map[string]mpass.Source{}
	// read streams one export through fn, hashing its bytes on the way
	read := func(kind string, in Input, fn func(r io.Reader, fe *fileErrors) error) error {
		h := sha256.New()
		fe := &fileErrors{name: in.Name}
		r := io.TeeReader(in.R, h)
		if err := fn(r, fe); err != nil && !errors.Is(err, errStop) {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil { // what follows a syntax error, for the digest
			return fmt.Errorf("%s: read: %w", in.Name, err)
		}
		problems = append(problems, fe.lines()...)
		digests[kind] = mpass.Source{Kind: kind, Name: in.Name, Digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}
		return nil
	}

	var svc *services
	if err := read(SourceKindServices, src.Services, func(r io.Reader, fe *fileErrors) (err error) {
		svc, err = readServices(ctx, r, fe, im.DataModel, warn)
		return err
	}); err != nil {
		return nil, nil, err
	}
	var sets map[string]string
	if src.Sets.R != nil {
		if err := read(SourceKindSets, src.Sets, func(r io.Reader, fe *fileErrors) (err error) {
			sets, err = readSets(ctx, r, fe)
			return err
		}); err != nil {
			return nil, nil, err
		}
		for _, id := range slices.Sorted(maps.Keys(svc.members)) {
			if _, ok := sets[id]; !ok {
				warn("%s: set %s of the services' integrationGroups is not in %s", src.Services.Name, id, src.Sets.Name)
			}
		}
	}
	var idps *identityProviders
	if err := read(SourceKindIdentityProviders, src.IdentityProviders, func(r io.Reader, fe *fileErrors) (err error) {
		idps, err = readIdentityProviders(ctx, r, fe, svc, sets, helsinki, warn)
		return err
	}); err != nil {
		return nil, nil, err
	}
	orgs := &organisations{}
	if src.Organisations.R != nil {
		controllers := map[string]bool{}
		for oid := range idps.controllers {
			controllers[oid] = true
		}
		if err := read(SourceKindOrganisations, src.Organisations, func(r io.Reader, fe *fileErrors) (err error) {
			orgs, err = readOrganisations(ctx, r, fe, controllers)
			return err
		}); err != nil {
			return nil, nil, err
		}
		if orgs.ignored > 0 {
			warn("%s: %d schools are under no controller of %s: skipped", src.Organisations.Name, orgs.ignored, src.IdentityProviders.Name)
		}
	}

	reg := &mpass.Registry{Loaded: now, ServiceProviders: svc.sorted(), Agreements: []mpass.Agreement{}, Consents: []mpass.Consent{}, Exceptions: []mpass.Exception{}}
	reg.Controllers = buildControllers(idps, orgs, src.IdentityProviders.Name, src.Organisations, warn)
	reg.IdentityProviders = sortedIdentityProviders(idps.idps)
	for _, id := range slices.Sorted(maps.Keys(sets)) {
		reg.Sets = append(reg.Sets, mpass.ServiceSet{ID: id, Name: sets[id]})
	}
	if src.Overlay.R != nil {
		data, err := io.ReadAll(src.Overlay.R)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: read: %w", src.Overlay.Name, err)
		}
		sum := sha256.Sum256(data)
		digests[SourceKindOverlay] = mpass.Source{Kind: SourceKindOverlay, Name: src.Overlay.Name, Digest: "sha256:" + hex.EncodeToString(sum[:])}
		if len(problems) == 0 {
			merged, w, err := Overlay(src.Overlay.Name, data, reg, im.Extractor, im.Vocabulary)
			if err != nil {
				problems = append(problems, strings.Split(mpass.ErrorMessage(err), "\n")...)
			} else {
				reg, warnings = merged, append(warnings, w...)
			}
		}
	}
	if len(problems) > 0 {
		// no warnings: those that follow from a broken file would only hide its errors
		return nil, nil, invalid(problems)
	}

	// permissions, once the overlay has added its SPs: "all services" covers them too
	grants := idps.grants
	withData := map[string]bool{}
	for _, c := range reg.Controllers {
		withData[c.OID] = c.PermissionData
		if d := idps.controllers[c.OID]; d != nil && d.allServices {
			for _, sp := range reg.ServiceProviders {
				grants = append(grants, grant{controller: c.OID, sp: sp.ID, source: SourceAllServices, from: Epoch(), timeless: true})
			}
		}
	}
	reg.Permissions = mergeHistory(prev, grants, withData, now)
	reg.Controllers = keepJudged(prev, reg.Controllers, withData, warn)

	h := sha256.New()
	reg.Sources = nil
	for _, kind := range []string{SourceKindServices, SourceKindIdentityProviders, SourceKindSets, SourceKindOrganisations, SourceKindOverlay} {
		if s, ok := digests[kind]; ok {
			reg.Sources = append(reg.Sources, s)
			fmt.Fprintf(h, "%s %s\n", s.Kind, s.Digest)
		}
	}
	reg.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return reg, warnings, nil
}

// buildControllers makes the controllers of the identity providers, named and given
// their schools by the organisation hierarchy. A school the discovery names by code and
// the hierarchy by OID and code is one school. A discovery code the controller's part of
// the hierarchy lacks is taken from elsewhere in the hierarchy (with a warning: the
// school lies under another organisation there), else kept by its code alone.
func buildControllers(idps *identityProviders, orgs *organisations, idpName string, orgInput Input, warn func(string, ...any)) []mpass.Controller {
	out := make([]mpass.Controller, 0, len(idps.controllers))
	for _, oid := range slices.Sorted(maps.Keys(idps.controllers)) {
		d := idps.controllers[oid]
		c := mpass.Controller{OID: oid, Names: orgs.names[oid], PermissionData: d.permissionData}
		c.Name = cmp.Or(defaultName(c.Names), d.displayName)
		if c.Name == "" {
			warn("controller %s has no name: give --organisations, or name it in the overlay", oid)
		}
		c.Schools = slices.Clone(orgs.schools[oid])
		for _, code := range d.codes {
			if slices.ContainsFunc(c.Schools, func(s mpass.School) bool { return s.Code == code }) {
				continue
			}
			s, ok := orgs.byCode[code]
			switch {
			case ok:
				warn("%s: %s: school %s is under another organisation in %s: kept as %s's all the same", idpName, d.codePaths[code], code, orgInput.Name, oid)
			case orgInput.R != nil:
				warn("%s: %s: school %s is not in %s: known by its code alone", idpName, d.codePaths[code], code, orgInput.Name)
				s = mpass.School{Code: code}
			default:
				s = mpass.School{Code: code}
			}
			c.Schools = append(c.Schools, s)
		}
		sortSchools(c.Schools)
		out = append(out, c)
	}
	return out
}

// sortedIdentityProviders orders identity providers by controller, flow, id and type,
// each once.
func sortedIdentityProviders(idps []mpass.IdentityProvider) []mpass.IdentityProvider {
	out := slices.Clone(idps)
	slices.SortFunc(out, func(a, b mpass.IdentityProvider) int {
		return cmp.Or(cmp.Compare(a.Controller, b.Controller), cmp.Compare(a.Flow, b.Flow), cmp.Compare(a.IdpID, b.IdpID), cmp.Compare(a.Type, b.Type))
	})
	return slices.Compact(out)
}

// permissionKey is what makes two permissions the same across imports.
type permissionKey struct{ controller, sp, set, source string }

// mergeHistory makes a version's permissions from this import's grants and prev's
// permissions (prev nil: none), so that the registry keeps every change it has seen:
//
//   - A grant prev had open keeps prev's From: the earliest time this registry knows
//     it by (the export's time may have moved on, or be Epoch for a timeless grant).
//   - A permission prev had open that no grant gives any more is kept, closed at now.
//     One prev had closed is kept as it is.
//   - A new grant counts from its time; one given again after prev closed it, from no
//     earlier than that close. A timeless grant (allowedServiceProviders, every service)
//     counts from Epoch, unless prev already had permission data for its controller:
//     then it was added since prev was loaded, and counts from prev's Loaded.
//
// Grants of one key (two identity providers of one controller) are one permission,
// from the earliest. The result is sorted by controller, SP, set, source and From.
func mergeHistory(prev *mpass.Registry, grants []grant, withData map[string]bool, now time.Time) []mpass.Permission {
	cur := map[permissionKey]grant{}
	for _, g := range grants {
		k := permissionKey{g.controller, g.sp, g.set, g.source}
		if old, ok := cur[k]; !ok || g.from.Before(old.from) {
			cur[k] = g
		}
	}
	var out []mpass.Permission
	open := map[permissionKey]time.Time{}      // prev's open permissions still granted: their From
	lastClose := map[permissionKey]time.Time{} // prev's latest To of each key
	knew := map[string]bool{}
	var prevLoaded time.Time
	if prev != nil {
		prevLoaded = prev.Loaded
		for _, c := range prev.Controllers {
			knew[c.OID] = c.PermissionData
		}
		for _, p := range prev.Permissions {
			k := permissionKey{p.Controller, p.SP, p.Set, p.Source}
			if !withData[p.Controller] { // this import says nothing of them: they stand
				out = append(out, p)
				continue
			}
			if p.To != nil {
				out = append(out, p)
				if p.To.After(lastClose[k]) {
					lastClose[k] = *p.To
				}
				continue
			}
			if _, still := cur[k]; still {
				if from, seen := open[k]; !seen || p.From.Before(from) {
					open[k] = p.From
				}
				continue
			}
			to := now
			if to.Before(p.From) {
				to = p.From
			}
			p.To = &to
			out = append(out, p)
			if to.After(lastClose[k]) {
				lastClose[k] = to
			}
		}
	}
	for k, g := range cur {
		from := g.from
		if was, ok := open[k]; ok {
			from = was
		} else {
			if g.timeless && knew[g.controller] && prevLoaded.After(from) {
				from = prevLoaded
			}
			if t, ok := lastClose[k]; ok && t.After(from) {
				from = t
			}
		}
		out = append(out, mpass.Permission{Controller: k.controller, SP: k.sp, Set: k.set, From: from.UTC(), Source: k.source})
	}
	slices.SortFunc(out, comparePermissions)
	return out
}

// comparePermissions orders permissions by controller, SP, set, source, From, and an
// open one after a closed one.
func comparePermissions(a, b mpass.Permission) int {
	if c := cmp.Or(cmp.Compare(a.Controller, b.Controller), cmp.Compare(a.SP, b.SP), cmp.Compare(a.Set, b.Set),
		cmp.Compare(a.Source, b.Source), a.From.Compare(b.From)); c != 0 {
		return c
	}
	switch {
	case a.To == nil && b.To == nil:
		return 0
	case a.To == nil:
		return 1
	case b.To == nil:
		return -1
	}
	return a.To.Compare(*b.To)
}

// keepJudged keeps judging a controller whose permissions an earlier import loaded but
// this one lacks (its identity provider has no permissions now, or is gone): its
// permissions stand as they were (mergeHistory), so old months replay the same, and it
// keeps PermissionData; one that is gone is kept whole, with a warning.
func keepJudged(prev *mpass.Registry, controllers []mpass.Controller, withData map[string]bool, warn func(string, ...any)) []mpass.Controller {
	if prev == nil {
		return controllers
	}
	for _, pc := range prev.Controllers {
		if !pc.PermissionData || withData[pc.OID] {
			continue
		}
		i := slices.IndexFunc(controllers, func(c mpass.Controller) bool { return c.OID == pc.OID })
		if i >= 0 {
			controllers[i].PermissionData = true
			warn("controller %s: this import has no permission data for it: the permissions of registry version %d stand", pc.OID, prev.Version)
			continue
		}
		controllers = append(controllers, pc)
		warn("controller %s is in no identity provider of this import: kept as registry version %d had it, with its permissions", pc.OID, prev.Version)
	}
	slices.SortFunc(controllers, func(a, b mpass.Controller) int { return strings.Compare(a.OID, b.OID) })
	return controllers
}

package mpass

import (
	"context"
	"time"
)

// Registry is one loaded version of the controllers, service providers, agreements,
// consents and exceptions. Attribute names are canonical; consent subjects are pseudonyms.
type Registry struct {
	Version          int               `json:"version"`
	Loaded           time.Time         `json:"loaded"`
	Digest           string            `json:"digest"` // SHA-256 of the loaded file
	Controllers      []Controller      `json:"controllers"`
	ServiceProviders []ServiceProvider `json:"service_providers"`
	Agreements       []Agreement       `json:"agreements"`
	Consents         []Consent         `json:"consents"`
	Exceptions       []Exception       `json:"exceptions"`
	// Names is the registry's name map: another deployment's attribute names → canonical
	// names (RECORDS.md "Every name an attribute has gone by"). Ingest reads with it.
	Names map[string]string `json:"names,omitempty"`
	// Sources are the files a version was built from, each with its digest: the YAML of
	// `registry load`, or the exports and overlay of `registry import`.
	Sources []Source `json:"sources,omitempty"`
	// Permissions are the services each controller allows (the management service's
	// permissions since its version 2.0), each with the time it was given and, where a
	// later import no longer had it, the time that import was made. A controller with
	// PermissionData false has none loaded and is not judged by service-not-allowed.
	Permissions []Permission `json:"permissions,omitempty"`
	// IdentityProviders are the controllers' MPASSid integrations: their authentication
	// flows map Shibboleth log lines to controllers.
	IdentityProviders []IdentityProvider `json:"identity_providers,omitempty"`
	// Sets are the management service's service sets (one vendor's services), by id.
	Sets []ServiceSet `json:"sets,omitempty"`
}

// ServiceSet is a set of one vendor's services: a controller that allows the set allows
// every member (ServiceProvider.Sets names the sets an SP belongs to).
type ServiceSet struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SetName is the name of a service set, or its id where the registry lacks it.
func (r *Registry) SetName(id string) string {
	for _, s := range r.Sets {
		if s.ID == id && s.Name != "" {
			return s.Name
		}
	}
	return id
}

// Source is one file a registry version was built from.
type Source struct {
	Kind   string `json:"kind"` // registry, services, identity-providers, sets, organisations, overlay
	Name   string `json:"name"`
	Digest string `json:"digest"` // "sha256:<hex>" of the file's bytes
}

// Controller is an education provider, the controller of its pupils' data.
type Controller struct {
	OID  string `json:"oid"`
	Name string `json:"name"`
	// Names are its names by language (fi, sv, en) from the organisation service.
	Names   map[string]string `json:"names,omitempty"`
	Schools []School          `json:"schools,omitempty"`
	// PermissionData: the management service's allowed services were loaded for it.
	PermissionData bool `json:"permission_data,omitempty"`
}

// School belongs to a controller. It is one school whether a record names it by its
// 5-digit school code (oppilaitosnumero) or by its OID.
type School struct {
	Code   string            `json:"code,omitempty"`
	OID    string            `json:"oid,omitempty"`
	Name   string            `json:"name"`
	Names  map[string]string `json:"names,omitempty"`  // fi, sv, en
	Parent string            `json:"parent,omitempty"` // the OID of the organisation above it
}

// School finds a school of the controller by its school code or its OID: releases name
// a school by either (RECORDS.md), and both mean the one school.
func (c *Controller) School(ref string) (School, bool) {
	for _, s := range c.Schools {
		if ref != "" && (s.Code == ref || s.OID == ref) {
			return s, true
		}
	}
	return School{}, false
}

// LocalName is the name in lang where one is known, else the default name.
func LocalName(names map[string]string, lang, name string) string {
	if n := names[lang]; n != "" {
		return n
	}
	return name
}

// Permission is one service a controller allows, from From (the management service's
// lastUpdatedOn) until To (nil: still allowed). Set is the service set it was given
// through, if any; Source says where it came from (permissions, allowedServiceProviders).
type Permission struct {
	Controller string     `json:"controller"`
	SP         string     `json:"sp"`
	Set        string     `json:"set,omitempty"`
	From       time.Time  `json:"from"`
	To         *time.Time `json:"to,omitempty"`
	Source     string     `json:"source,omitempty"`
}

// Allows reports whether the permission covers an instant: From ≤ t < To.
func (p Permission) Allows(t time.Time) bool {
	return !t.Before(p.From) && (p.To == nil || t.Before(*p.To))
}

// IdentityProvider is a controller's MPASSid integration (an upstream identity provider).
type IdentityProvider struct {
	Controller string `json:"controller"`
	Flow       string `json:"flow,omitempty"`   // the proxy's authentication flow (flowName)
	IdpID      string `json:"idp_id,omitempty"` // idpId
	Type       string `json:"type,omitempty"`   // azure, opinsys, wilma, adfs, gsuite, ...
}

// DateRange is an inclusive range of days ("2006-01-02"); an empty bound is open.
type DateRange struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Contains reports whether the day of t (UTC) lies in the range.
func (r DateRange) Contains(t time.Time) bool {
	d := t.UTC().Format(time.DateOnly)
	return (r.From == "" || r.From <= d) && (r.To == "" || d <= r.To)
}

// ServiceProvider receives attributes through MPASSid (a SAML entityID or OIDC client_id).
type ServiceProvider struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Commercial bool      `json:"commercial"`
	Valid      DateRange `json:"valid"`
	Attributes []string  `json:"attributes"`
	Purposes   []string  `json:"purposes"`
	// From the management service's services export (registry import):
	Protocol        string   `json:"protocol,omitempty"`         // saml or oidc
	VendorOID       string   `json:"vendor_oid,omitempty"`       // the vendor's organisation OID
	BusinessID      string   `json:"business_id,omitempty"`      // the vendor's y-tunnus
	DeploymentPhase *int     `json:"deployment_phase,omitempty"` // 0 test, 1 production, 2 pre-production
	TestLearnerID   bool     `json:"allow_test_learner_id,omitempty"`
	Sets            []string `json:"sets,omitempty"` // ids of the service sets it belongs to
}

// Agreement is a controller–SP data-processing agreement that adds attributes or purposes.
type Agreement struct {
	Controller string    `json:"controller"`
	SP         string    `json:"sp"`
	Valid      DateRange `json:"valid"`
	Attributes []string  `json:"attributes"`
	Purposes   []string  `json:"purposes"`
}

// Consent is a guardian's or the subject's own consent to a purpose at one SP.
type Consent struct {
	Subject   string     `json:"subject"` // pseudonym
	SP        string     `json:"sp"`
	Purpose   string     `json:"purpose"`
	GivenBy   string     `json:"given_by"` // guardian | self
	Given     time.Time  `json:"given"`
	Withdrawn *time.Time `json:"withdrawn"`
}

// Exception is an accepted risk: findings it matches become skip until it expires.
type Exception struct {
	ID         string `json:"id"`
	Term       string `json:"term"`
	Rule       string `json:"rule,omitempty"`
	SP         string `json:"sp"`
	Controller string `json:"controller,omitempty"`
	Attribute  string `json:"attribute,omitempty"`
	Reason     string `json:"reason"`
	Expires    string `json:"expires"` // day, inclusive
}

// Controller is the registry entry of a controller; for one the registry lacks, an entry
// with its OID as its name.
func (r *Registry) Controller(oid string) Controller {
	for _, c := range r.Controllers {
		if c.OID == oid {
			if c.Name == "" {
				c.Name = oid
			}
			return c
		}
	}
	return Controller{OID: oid, Name: oid}
}

// ServiceProvider is the registry entry of an SP (false where the registry lacks it).
func (r *Registry) ServiceProvider(id string) (ServiceProvider, bool) {
	for _, sp := range r.ServiceProviders {
		if sp.ID == id {
			return sp, true
		}
	}
	return ServiceProvider{}, false
}

// ControllerName is the registry name of a controller, or "" where it is unknown.
func (r *Registry) ControllerName(oid string) string {
	for _, c := range r.Controllers {
		if c.OID == oid {
			return c.Name
		}
	}
	return ""
}

// RegistryService stores registry versions.
type RegistryService interface {
	// CreateRegistry stores r as a new version and sets r.Version.
	CreateRegistry(ctx context.Context, r *Registry) error
	// LatestRegistry returns the newest version, or ENOTFOUND when none is loaded.
	LatestRegistry(ctx context.Context) (*Registry, error)
	// FindRegistry returns one version.
	FindRegistry(ctx context.Context, version int) (*Registry, error)
}

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
}

// Controller is an education provider, the controller of its pupils' data.
type Controller struct {
	OID     string   `json:"oid"`
	Name    string   `json:"name"`
	Schools []School `json:"schools,omitempty"`
}

// School belongs to a controller.
type School struct {
	Code string `json:"code"`
	Name string `json:"name"`
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

package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
)

// organisationJSON is one organisation of the organisation service's hierarchy search
// (organisaatio-service api/hierarkia/hae: `{"numHits":N,"organisaatiot":[…]}`, each
// organisation with its children). Addresses, dates and the like are skipped unread.
type organisationJSON struct {
	OID             string            `json:"oid"`
	Nimi            map[string]string `json:"nimi"`            // fi, sv, en
	OppilaitosKoodi string            `json:"oppilaitosKoodi"` // a school's 5-digit code
	ParentOID       string            `json:"parentOid"`
	// parentOidPath lists the organisation and its ancestors: "self/parent/…/root" in
	// the hierarchy search, "|root|…|parent|" in the v4 API.
	ParentOIDPath string             `json:"parentOidPath"`
	Types         []string           `json:"organisaatiotyypit"`
	TypesV4       []string           `json:"tyypit"`
	Children      []organisationJSON `json:"children"`
}

// schoolType is the organisation type of an educational institution (oppilaitos).
const schoolType = "organisaatiotyyppi_02"

// organisations is what the hierarchy gives of the controllers: their names by
// language and their schools.
type organisations struct {
	names   map[string]map[string]string // controller OID → fi/sv/en
	schools map[string][]mpass.School    // controller OID → its schools, as read
	byCode  map[string]mpass.School      // every school of the hierarchy with a code
	ignored int                          // schools under no controller of the import
}

// readOrganisations streams the hierarchy. Controllers are the identity providers'
// organisations (controllers); an organisation of the hierarchy that is one gives it its
// names. A school (an organisation with a school code, or of type
// organisaatiotyyppi_02) belongs to the nearest controller above it in the tree, else
// the nearest one its parentOid or parentOidPath names; a school under none is counted
// and skipped. A school's parent is its parentOid (else the organisation above it).
//
// Each element of organisaatiot is decoded whole, with its subtree: the search gives
// one per education provider under the root, so an element is one controller's tree.
//
// Errors (file and JSON path): an organisation without an OID or with a wrong check
// digit, a school code that is not 5 digits.
func readOrganisations(ctx context.Context, r io.Reader, fe *fileErrors, controllers map[string]bool) (*organisations, error) {
	o := &organisations{names: map[string]map[string]string{}, schools: map[string][]mpass.School{}, byCode: map[string]mpass.School{}}
	err := streamArray(ctx, r, fe, "organisaatiot", "an organisation service hierarchy (api/hierarkia/hae)", func(path string, dec *json.Decoder) error {
		var v organisationJSON
		if ok, err := decodeElement(dec, fe, path, &v); !ok {
			return err
		}
		o.walk(fe, path, &v, "", "", controllers)
		return nil
	})
	return o, err
}

// walk reads one organisation and its subtree; controller is the nearest controller
// above it in the tree, parent the OID of the organisation above it.
func (o *organisations) walk(fe *fileErrors, path string, v *organisationJSON, controller, parent string, controllers map[string]bool) {
	oid := strings.TrimSpace(v.OID)
	valid := true
	if oid == "" {
		fe.add(path+".oid", "required")
		valid = false
	} else if err := mpass.CheckControllerOID(oid); err != nil {
		fe.add(path+".oid", "%v", err)
		valid = false
	}
	if valid {
		if controllers[oid] {
			controller = oid
			if names := languageNames(v.Nimi); names != nil {
				o.names[oid] = names
			}
		}
		code := strings.TrimSpace(v.OppilaitosKoodi)
		if code != "" && !schoolCode(code) {
			fe.add(path+".oppilaitosKoodi", "%s is not a 5-digit school code", quoteDigits(code))
			code = ""
		}
		if code != "" || slices.Contains(v.Types, schoolType) || slices.Contains(v.TypesV4, schoolType) {
			names := languageNames(v.Nimi)
			s := mpass.School{Code: code, OID: oid, Name: defaultName(names), Names: names,
				Parent: cmp.Or(strings.TrimSpace(v.ParentOID), parent)}
			if code != "" {
				if _, seen := o.byCode[code]; !seen {
					o.byCode[code] = s
				}
			}
			switch owner := cmp.Or(controller, ancestorController(v, controllers)); owner {
			case "":
				o.ignored++
			default:
				if !slices.ContainsFunc(o.schools[owner], func(x mpass.School) bool { return x.OID == oid }) {
					o.schools[owner] = append(o.schools[owner], s)
				}
			}
		}
		parent = oid
	}
	for i := range v.Children {
		o.walk(fe, fmt.Sprintf("%s.children[%d]", path, i), &v.Children[i], controller, parent, controllers)
	}
}

// ancestorController is the nearest controller that an organisation's parentOid or
// parentOidPath names, for a subtree whose controller is not itself in the file.
func ancestorController(v *organisationJSON, controllers map[string]bool) string {
	if p := strings.TrimSpace(v.ParentOID); controllers[p] {
		return p
	}
	// "self/parent/…/root" nearest first; "|root|…|parent|" nearest last
	path := v.ParentOIDPath
	var oids []string
	if strings.HasPrefix(path, "|") {
		oids = strings.Split(strings.Trim(path, "|"), "|")
		slices.Reverse(oids)
	} else {
		oids = strings.Split(path, "/")
	}
	for _, oid := range oids {
		if oid = strings.TrimSpace(oid); oid != v.OID && controllers[oid] {
			return oid
		}
	}
	return ""
}

// languageNames keeps the Finnish, Swedish and English names of an organisation
// service name map; nil when it has none.
func languageNames(nimi map[string]string) map[string]string {
	var out map[string]string
	for _, lang := range []string{"fi", "sv", "en"} {
		if n := strings.TrimSpace(nimi[lang]); n != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[lang] = n
		}
	}
	return out
}

// defaultName is the name to show where no language is asked for: Finnish, else
// Swedish (a Swedish-speaking school has no Finnish name), else English.
func defaultName(names map[string]string) string {
	return cmp.Or(names["fi"], names["sv"], names["en"])
}

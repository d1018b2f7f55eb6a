package sqlite_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/opetushallitus/mpass-audit/internal/mpass"
	"github.com/opetushallitus/mpass-audit/internal/sqlite"
	"github.com/opetushallitus/mpass-audit/internal/testenv"
)

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	for range 2 {
		db := sqlite.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s, err := db.IntegrityCheck(context.Background()); err != nil || s != "ok" {
			t.Fatalf("integrity %q %v", s, err)
		}
		db.Close()
	}
}

func TestRegistryRoundTrip(t *testing.T) {
	db := testenv.MustOpenDB(t)
	withdrawn := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	in := &mpass.Registry{
		Digest:      "sha256:x",
		Controllers: []mpass.Controller{{OID: "1.2.246.562.10.44444444440", Name: "Esimerkkilä", Schools: []mpass.School{{Code: "03082", Name: "Koulu"}}}},
		ServiceProviders: []mpass.ServiceProvider{{ID: "s1", Name: "S", Commercial: true, Valid: mpass.DateRange{From: "2024-01-01"},
			Attributes: []string{"urn:mpass.id:uid"}, Purposes: []string{"essential.service.authentication"}}},
		Agreements: []mpass.Agreement{{Controller: "1.2.246.562.10.44444444440", SP: "s1", Valid: mpass.DateRange{From: "2024-01-01", To: "2026-12-31"},
			Attributes: []string{"mail"}, Purposes: []string{}}},
		Consents: []mpass.Consent{{Subject: "p1", SP: "s1", Purpose: "marketing", GivenBy: "guardian",
			Given: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Withdrawn: &withdrawn}},
		Exceptions: []mpass.Exception{{ID: "E1", Term: "data-minimisation", SP: "s1", Reason: "r", Expires: "2027-01-01"}},
	}
	// what registry import adds
	phase := 1
	in.Controllers = append([]mpass.Controller{{OID: "1.2.246.562.10.12345678903", Name: "Kuvitteelan kaupunki",
		Names: map[string]string{"fi": "Kuvitteelan kaupunki", "sv": "Kuvitteela stad"}, PermissionData: true,
		Schools: []mpass.School{{OID: "1.2.246.562.10.34567890123", Name: "Lukio"},
			{Code: "99901", OID: "1.2.246.562.10.23456789017", Name: "K", Names: map[string]string{"fi": "K"}, Parent: "1.2.246.562.10.12345678903"}}}}, in.Controllers...)
	in.ServiceProviders[0].Protocol, in.ServiceProviders[0].VendorOID, in.ServiceProviders[0].BusinessID = "oidc", "1.2.246.562.10.56789012343", "9876545-7"
	in.ServiceProviders[0].DeploymentPhase, in.ServiceProviders[0].TestLearnerID, in.ServiceProviders[0].Sets = &phase, true, []string{"6000101"}
	in.Sources = []mpass.Source{{Kind: "services", Name: "s.json", Digest: "sha256:a"}, {Kind: "overlay", Name: "o.yaml", Digest: "sha256:b"}}
	in.Permissions = []mpass.Permission{{Controller: "1.2.246.562.10.12345678903", SP: "s1", Set: "6000101", From: time.Date(2024, 8, 12, 6, 41, 7, 0, time.UTC), Source: "permissions"},
		{Controller: "1.2.246.562.10.12345678903", SP: "s2", From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: &withdrawn, Source: "allowedServiceProviders"}}
	in.Sets = []mpass.ServiceSet{{ID: "6000101", Name: "Kuvitteellinen Oppimateriaalikauppa Oy"}}
	in.IdentityProviders = []mpass.IdentityProvider{{Controller: "1.2.246.562.10.12345678903", Flow: "ShibKuvitteela", IdpID: "azure_kuvitteela", Type: "azure"}}
	if err := db.CreateRegistry(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	out, err := db.LatestRegistry(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Version != 1 || out.Loaded.IsZero() {
		t.Errorf("version %d loaded %v", out.Version, out.Loaded)
	}
	out.Loaded = in.Loaded
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n in %+v\nout %+v", in, out)
	}
	if _, err := db.FindRegistry(context.Background(), 7); mpass.ErrorCode(err) != mpass.ENOTFOUND {
		t.Errorf("missing version: %v", err)
	}
}

func TestNoRegistryIsNotFound(t *testing.T) {
	if _, err := testenv.MustOpenDB(t).LatestRegistry(context.Background()); mpass.ErrorCode(err) != mpass.ENOTFOUND {
		t.Errorf("err = %v", err)
	}
}

// TestInterruptedRunIsMarkedFailed: a run left "running" by a process that is gone is
// failed at the next open and never listed; a live process's run is left alone.
func TestInterruptedRunIsMarkedFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	live := &mpass.Run{}
	if err := db.CreateRun(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	dead := &mpass.Run{}
	if err := db.CreateRun(context.Background(), dead); err != nil {
		t.Fatal(err)
	}
	// a process that has exited stands for the killed auditor
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRunPID(context.Background(), dead.ID, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		id     int64
		status string
	}{{live.ID, mpass.RunRunning}, {dead.ID, mpass.RunFailed}} {
		r, err := db.FindRun(context.Background(), tc.id)
		if err != nil || r.Status != tc.status {
			t.Errorf("run %d: %v %v, want %s", tc.id, r, err, tc.status)
		}
	}
	if runs, _ := db.FindRuns(context.Background(), nil); len(runs) != 0 {
		t.Errorf("listed unfinished runs %v", runs)
	}
}

// TestRejectionsTableBounded (issue 14): however many ingests post junk, the table of
// rejections stops at MaxStoredRejections rows.
func TestRejectionsTableBounded(t *testing.T) {
	db := testenv.MustOpenDB(t)
	ctx := context.Background()
	batch := make([]mpass.Rejection, 30_000)
	for i := range 5 {
		for j := range batch {
			batch[j] = mpass.Rejection{Source: fmt.Sprintf("request-%d", i), Line: j + 1, Field: "kind", Reason: "unknown kind", Digest: fmt.Sprint(j)}
		}
		if _, _, err := db.InsertBatch(ctx, nil, batch, 0); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := db.Rejections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != sqlite.MaxStoredRejections {
		t.Errorf("%d rejections stored, want the bound %d", len(rs), sqlite.MaxStoredRejections)
	}
}

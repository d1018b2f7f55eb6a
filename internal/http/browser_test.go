package http_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser; CI installs Debian's chromium, elsewhere the test skips.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not installed (.ci/run installs it)")
	}
	t.Skip("chromium not installed")
	return ""
}

// TestBrowser drives headless Chromium through what a DPO does: log in, open a run,
// download the PDF, and fail to reach another controller's run. With
// MPASS_AUDIT_SCREENSHOTS=DIR it leaves screenshots of the pages there.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	allowCity(t, e)
	if err := e.srv.Open("127.0.0.1:0", "", ""); err != nil {
		t.Fatal(err)
	}
	base := "http://" + e.srv.Addr()
	downloads := t.TempDir()
	shots := os.Getenv("MPASS_AUDIT_SCREENSHOTS")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
	}
	// shotOf leaves a screenshot of one element, at full size, to look at closely
	shotOf := func(name, sel string) {
		t.Helper()
		if shots == "" {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
	}

	do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	shot("login")
	do(chromedp.SendKeys(chromedp.ID("token"), e.tokens["dpo-city"]), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("table")))
	home := text("main")
	shot("home")
	if !strings.Contains(home, "Sallitut palvelut (1)") || !strings.Contains(home, "Example Shop") {
		t.Errorf("the home page does not show the city's allowed services: %s", home)
	}
	for _, l := range []string{"sv", "en"} {
		do(chromedp.Navigate(base+"/?lang="+l), chromedp.WaitVisible(chromedp.CSS("table")))
		shot("home-" + l)
	}
	do(chromedp.Navigate(base+"/?lang=fi"), chromedp.WaitVisible(chromedp.CSS("table")))
	do(chromedp.Click(chromedp.CSS(`a[href="/runs/`+itoa(e.runs["all"])+`"]`)), chromedp.WaitVisible(chromedp.CSS("table.findings")))
	run := text("main")
	shot("run")

	// the report form downloads the PDF; the download's events say when it is whole
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("period")),
		chromedp.SetValue(chromedp.ID("period"), "2026-10"), chromedp.Click(chromedp.CSS(`form[action="/report"] button`)))
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the PDF download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	pdf, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("downloaded %d bytes (%v), want a PDF", len(pdf), err)
	}

	do(chromedp.Navigate(base+"/runs/"+itoa(e.runs["town"])), chromedp.WaitVisible(chromedp.CSS("main")))
	other := text("main")
	shot("other-controller")

	// the report form with a bad period: a page in the reader's language, not JSON
	for _, l := range []string{"fi", "sv", "en"} {
		do(chromedp.Navigate(base+"/?lang="+l), chromedp.WaitVisible(chromedp.ID("period")),
			chromedp.SetValue(chromedp.ID("period"), "2026-13"), chromedp.Click(chromedp.CSS(`form[action="/report"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)))
		if page := text("main"); !strings.Contains(page, "2026-13") {
			t.Errorf("%s: the form's error page does not name the period: %q", l, first(page))
		}
		shot("error-" + l)
		do(chromedp.Navigate(base+"/runs/"+itoa(e.runs["all"])+"?lang="+l), chromedp.WaitVisible(chromedp.CSS("table.findings")))
		shot("run-" + l)
	}

	if !strings.Contains(home, "Esimerkkilän kaupunki") || strings.Contains(home, "Soađegili") {
		t.Errorf("home page: %q", first(home))
	}
	if !strings.Contains(run, "Ei ikää paljastavia tietoja") || !strings.Contains(run, "Henkilötunnus luovutetussa arvossa") || strings.Contains(run, town) {
		t.Errorf("run page: %q", first(run))
	}

	// an auditor: actions first, the controller-unknown group on the run page
	do(chromedp.Navigate(base+"/?lang=fi"), chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Submit(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens["auditor"]), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("controllers")))
	for _, l := range []string{"fi", "sv", "en"} {
		do(chromedp.Navigate(base+"/?lang="+l), chromedp.WaitVisible(chromedp.ID("controllers")))
		shot("auditor-home-" + l)
		do(chromedp.Navigate(base+"/runs/"+itoa(e.runs["all"])+"?lang="+l), chromedp.WaitVisible(chromedp.CSS("section.unknown")))
		shot("auditor-run-" + l)
		shotOf("auditor-run-groups-"+l, "main")
		shotOf("auditor-run-findings-"+l, "table.findings thead")
		shotOf("auditor-run-findings-row-"+l, "table.findings tbody tr:nth-child(6)")
		do(chromedp.Navigate(base+"/stats?lang="+l), chromedp.WaitVisible(chromedp.CSS("table.stats")))
		shot("auditor-stats-" + l)
	}
	if !strings.Contains(other, "404") || strings.Contains(other, "age-revealing-value") {
		t.Errorf("another controller's run: %q", first(other))
	}
}

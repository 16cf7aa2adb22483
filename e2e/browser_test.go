package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const (
	// chromiumPath is Debian's chromium package.
	chromiumPath = "/usr/bin/chromium"
	// tabTimeout bounds everything one tab does in a test.
	tabTimeout = 60 * time.Second
	// stepTimeout bounds one wait for an element, so a missing element fails
	// fast with a useful message instead of eating the whole tabTimeout.
	stepTimeout = 10 * time.Second
	// startTimeout bounds the start of Chromium.
	startTimeout = 20 * time.Second
)

// Accept-Language headers of an English and a French browser.
const (
	acceptEnglish = "en-US,en;q=0.9"
	acceptFrench  = "fr-FR,fr;q=0.9,en;q=0.5"
)

// startBrowser starts one headless Chromium for the calling test; its
// subtests share it, each in its own tab and browser context (so cookies
// never leak from one to another). The browser is closed, and its temporary
// profile directory removed, at the end of the test. Without Chromium the
// test is skipped, unless CI=true.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required in CI: %v (apt-get install chromium)", err)
		}
		t.Skipf("Chromium not installed at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	// Chromium leaves its singleton socket and, with
	// disable-dev-shm-usage, its shared memory files in TMPDIR when it is
	// killed: give it a directory of its own, removed once it has exited.
	tmp, err := os.MkdirTemp("", "envoi-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	var chromeOut output
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Env("TMPDIR="+tmp),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 800),
		// No UserDataDir option: chromedp then makes a temporary profile
		// directory and removes it, with any leftover process, on close.
		chromedp.CombinedOutput(&chromeOut),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for Chromium to exit
		os.RemoveAll(tmp)
	})
	// The first Do starts the browser and ties its life to ctx, so it must
	// not have a deadline: a watchdog bounds the start instead.
	watchdog := time.AfterFunc(startTimeout, cancelAlloc)
	err = chromedp.Do(ctx)
	if !watchdog.Stop() {
		t.Fatalf("Chromium did not start within %v\n%s", startTimeout, tail(chromeOut.String(), 30))
	}
	if err != nil {
		t.Fatalf("start Chromium: %v\n%s", err, tail(chromeOut.String(), 30))
	}
	return ctx
}

// tab is one browser tab, in its own browser context, talking to srv.
type tab struct {
	t   *testing.T
	ctx context.Context
	srv *server
}

// newTab opens a tab in a fresh browser context (no cookies) of browser,
// sending acceptLanguage with every request.
func newTab(t *testing.T, browser context.Context, srv *server, acceptLanguage string) *tab {
	t.Helper()
	tctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil { // opens the tab
		t.Fatalf("open a browser tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tctx, tabTimeout)
	t.Cleanup(cancelTimeout)
	_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": acceptLanguage},
	})
	if err != nil {
		t.Fatalf("set Accept-Language: %v", err)
	}
	return &tab{t: t, ctx: ctx, srv: srv}
}

// fatalf fails the test with the page's address and text and the server's
// log tail.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	b.t.Fatalf("%s\n%s\n%s", fmt.Sprintf(format, args...), b.describe(), b.srv.Tail())
}

// errorf reports a failure like fatalf but lets the test go on.
func (b *tab) errorf(format string, args ...any) {
	b.t.Helper()
	b.t.Errorf("%s\n%s", fmt.Sprintf(format, args...), b.describe())
}

// describe is the current address and the start of the page's text.
func (b *tab) describe() string {
	if b.ctx.Err() != nil {
		return "(browser tab timed out after " + tabTimeout.String() + ")"
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : document.documentElement.outerHTML`))
	if err != nil {
		text = "(page text unavailable: " + err.Error() + ")"
	}
	if len(text) > 1500 {
		text = text[:1500] + "…"
	}
	return fmt.Sprintf("--- browser at %s, page text:\n%s", loc, text)
}

// step runs actions with stepTimeout.
func (b *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, stepErr(err))
	}
}

// stepErr names a step's timeout plainly.
func stepErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("nothing happened within %v (%w)", stepTimeout, err)
	}
	return err
}

// open navigates to path on the server and returns the HTTP status of the
// final document (after redirects).
func (b *tab) open(path string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.srv.URL + path
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.fatalf("open %s: %v", u, stepErr(err))
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// click clicks sel, waits for the page it leads to and returns the HTTP
// status of that document (after redirects).
func (b *tab) click(sel string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("click %s and wait for the next page: %v", sel, stepErr(err))
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// reload reloads the page and waits for it.
func (b *tab) reload() {
	b.t.Helper()
	b.step("reload", chromedp.Reload())
}

// fill types value into the field sel, replacing what it held.
func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.step("fill "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// waitVisible waits until sel is visible.
func (b *tab) waitVisible(sel string) {
	b.t.Helper()
	b.step("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text is the visible text of sel, trimmed, once sel is visible.
func (b *tab) text(sel string) string {
	b.t.Helper()
	b.waitVisible(sel)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read the text of %s: %v", sel, stepErr(err))
	}
	return strings.Join(strings.Fields(s), " ")
}

// path is the path of the current address.
func (b *tab) path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fatalf("read the address: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fatalf("parse the address %q: %v", loc, err)
	}
	return u.Path
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// htmlLang is the primary language subtag of <html lang>, e.g. "fr".
func (b *tab) htmlLang() string {
	b.t.Helper()
	lang := eval[string](b, `document.documentElement.getAttribute("lang") || ""`)
	lang, _, _ = strings.Cut(strings.ToLower(lang), "-")
	return lang
}

// loginSubmit is the login form's submit button (not a button of the
// language switch that the page may show before it).
const loginSubmit = `form:has(input[name=password]) button[type=submit]`

// login fills the login form (on the current page) and submits it.
func (b *tab) login(email, password string) int64 {
	b.t.Helper()
	b.fill(`input[name=email]`, email)
	b.fill(`input[name=password]`, password)
	return b.click(loginSubmit)
}

// ---------------------------------------------------------------------------
// Screenshots

// viewport is a screen to take a screenshot on.
type viewport struct {
	name          string
	width, height int64
	phone         bool
}

var (
	desktop = viewport{name: "desktop", width: 1280, height: 800}
	phone   = viewport{name: "phone", width: 390, height: 844, phone: true}
)

// screenshot reloads the current page on the viewport, checks it fits the
// screen's width, and saves a full-page PNG named name-VIEWPORT.png in a
// temporary directory and, when ENVOI_SCREENSHOTS=DIR is set, in DIR. The
// tab is back on the default viewport afterwards.
func (b *tab) screenshot(name string, vp viewport) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if vp.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))
	}
	b.step("emulate a "+vp.name+" screen", chromedp.EmulateViewport(vp.width, vp.height, opts...), chromedp.Reload())
	defer b.step("reset the viewport", chromedp.ResetViewport(), chromedp.Reload())

	// SPEC §13.7 "usable on a phone": the page lays out at the device's
	// width (a viewport meta tag) and never scrolls sideways.
	type widths struct {
		Inner  int64 `json:"inner"`
		Scroll int64 `json:"scroll"`
	}
	w := eval[widths](b, `({inner: window.innerWidth, scroll: document.documentElement.scrollWidth})`)
	if w.Inner != vp.width {
		b.errorf("on a %d-px-wide %s the page lays out %d px wide (is <meta name=viewport content=\"width=device-width\"> missing?)", vp.width, vp.name, w.Inner)
	}
	if w.Scroll > vp.width {
		b.errorf("on a %d-px-wide %s the page is %d px wide: it scrolls sideways", vp.width, vp.name, w.Scroll)
	}

	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s on %s: %v", name, vp.name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		b.fatalf("screenshot %s on %s is not a PNG: %v", name, vp.name, err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		b.fatalf("screenshot %s on %s is empty (%dx%d)", name, vp.name, cfg.Width, cfg.Height)
	}
	file := name + "-" + vp.name + ".png"
	if err := os.WriteFile(filepath.Join(b.t.TempDir(), file), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if dir := os.Getenv("ENVOI_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatalf("ENVOI_SCREENSHOTS: %v", err)
		}
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, img, 0o644); err != nil {
			b.t.Fatalf("ENVOI_SCREENSHOTS: %v", err)
		}
		b.t.Logf("screenshot %s (%dx%d)", path, cfg.Width, cfg.Height)
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSegmentBuiltWithTheVisualBuilder is issue 5's builder scenario in a
// real browser against `envoi serve`: a French user opens Contacts >
// Segments, builds "city is Lyon AND (company is Acme OR first name is
// Anne)" with the visual builder — a condition, then an OR group of two —
// watches the live count follow each step, looks at the JSON view, saves,
// and finds the segment in the list with its count. The builder page is
// checked on a phone's width.
func TestSegmentBuiltWithTheVisualBuilder(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	admin := createAccount(t, db, "Maison Lumière", "admin@example.com", "correct horse battery", "fr")
	key := createAPIKey(t, db, admin.AccountID, admin.AdminEmail)
	srv := startServer(t, db)
	for _, c := range []map[string]any{
		{"email": "anne@example.com", "first_name": "Anne", "city": "Lyon"},
		{"email": "bruno@example.com", "first_name": "Bruno", "city": "Lyon", "company": "Acme"},
		{"email": "chloe@example.com", "first_name": "Chloé", "city": "Lyon"},
		{"email": "david@example.com", "first_name": "David", "city": "Paris", "company": "Acme"},
	} {
		livePostJSON(t, srv, key, "/api/v1/contacts", c)
	}

	b := newTab(t, browser, srv, acceptFrench)
	b.open("/login")
	b.login(admin.AdminEmail, admin.Password)

	// Contacts > Segments: the empty state offers to create one.
	b.open("/contacts")
	b.click(`.subnav a[data-sub="segments"]`)
	if p := b.path(); p != "/contacts/segments" {
		b.fatalf("the Segments link leads to %s", p)
	}
	if !strings.Contains(b.text(`#segments-empty`), "Un segment regroupe les contacts") {
		b.errorf("the empty state does not explain what a segment is")
	}
	b.click(`#new-segment`)
	b.waitVisible(`#builder-visual .crit-root`)
	if hidden := eval[bool](b, `document.getElementById('builder-json').hidden`); !hidden {
		b.errorf("the JSON textarea shows next to the visual builder")
	}
	waitCount(b, "4 contacts")

	// City is Lyon.
	b.step("add a condition", chromedp.Click(chromedp.CSS(`[data-key="g-addc"]`)))
	choose(b, `[data-key="g-0-what"]`, "f:city")
	if op := eval[string](b, `document.querySelector('[data-key="g-0-op"] option:checked').textContent`); op != "est" {
		b.errorf("the first operator of a text field reads %q, want est", op)
	}
	b.fill(`[data-key="g-0-v"]`, "Lyon")
	waitCount(b, "3 contacts")

	// AND (company is Acme OR first name is Anne): a group, "any of" by
	// default under an "all of" group.
	b.step("add a group", chromedp.Click(chromedp.CSS(`[data-key="g-addg"]`)))
	if mode := eval[string](b, `document.querySelector('[data-key="g-1-mode"]').value`); mode != "any" {
		b.errorf("the new group is %q, want any (OR)", mode)
	}
	choose(b, `[data-key="g-1-0-what"]`, "f:company")
	b.fill(`[data-key="g-1-0-v"]`, "Acme")
	waitCount(b, "1 contact")
	b.step("add a condition to the group", chromedp.Click(chromedp.CSS(`[data-key="g-1-addc"]`)))
	choose(b, `[data-key="g-1-1-what"]`, "f:first_name")
	b.fill(`[data-key="g-1-1-v"]`, "Anne")
	waitCount(b, "2 contacts")
	if join := eval[string](b, `document.querySelector('[data-key="g-1-1-box"]').closest('li').dataset.join`); join != "OU" {
		b.errorf("the second condition of the OR group is joined by %q", join)
	}

	// The JSON view shows the same tree; back to the visual builder.
	b.step("open the JSON view", chromedp.Click(chromedp.CSS(`#builder-mode`)))
	b.waitVisible(`#criteria-json`)
	var tree map[string]any
	if err := json.Unmarshal([]byte(eval[string](b, `document.getElementById('criteria-json').value`)), &tree); err != nil {
		b.fatalf("the JSON view does not hold JSON: %v", err)
	}
	want := `{"all":[{"field":"city","op":"eq","value":"Lyon"},{"any":[{"field":"company","op":"eq","value":"Acme"},{"field":"first_name","op":"eq","value":"Anne"}]}]}`
	if got, _ := json.Marshal(tree); string(got) != want {
		b.errorf("the criteria are %s, want %s", got, want)
	}
	b.step("back to the visual builder", chromedp.Click(chromedp.CSS(`#builder-mode`)))
	b.waitVisible(`[data-key="g-1-1-v"]`)

	// Save, and find it in the list with its count.
	b.fill(`#segment-name`, "Lyonnais d’Acme ou Anne")
	if status := b.click(`#save-segment`); status != 200 {
		b.fatalf("save: status %d", status)
	}
	page := b.path()
	if !regexp.MustCompile(`^/contacts/segments/\d+$`).MatchString(page) {
		b.fatalf("after saving: on %s, want the segment's page", page)
	}
	if notice := b.text(`.flash-ok`); notice != "Le segment a été créé." {
		b.errorf("notice %q", notice)
	}
	b.waitVisible(`[data-key="g-1-1-v"]`) // the saved tree is drawn again
	if v := eval[string](b, `document.querySelector('[data-key="g-1-1-v"]').value`); v != "Anne" {
		b.errorf("the saved tree shows %q in its last condition", v)
	}
	b.screenshot("segment-builder", phone)
	b.screenshot("segment-builder", desktop)

	b.open("/contacts/segments")
	id := strings.TrimPrefix(page, "/contacts/segments/")
	row := `#segments tr[data-segment="` + id + `"]`
	if name := b.text(row + ` td:first-child`); name != "Lyonnais d’Acme ou Anne" {
		b.errorf("listed as %q", name)
	}
	if n := b.text(row + ` td.segment-count`); n != "2 contacts" {
		b.errorf("listed with %q, want 2 contacts", n)
	}
	if _, err := strconv.Atoi(id); err != nil {
		b.errorf("segment id %q", id)
	}
}

// choose picks value in the select sel as a person would: the value
// changes, then the change event fires.
func choose(b *tab, sel, value string) {
	b.t.Helper()
	b.waitVisible(sel)
	ok := eval[bool](b, `(() => { const s = document.querySelector(`+strconv.Quote(sel)+`); s.value = `+strconv.Quote(value)+`;
		if (s.value !== `+strconv.Quote(value)+`) return false; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`)
	if !ok {
		b.fatalf("%s has no option %s", sel, value)
	}
}

// waitCount waits until the live count reads want.
func waitCount(b *tab, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	got := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('live-count-value').textContent.trim()`))
		cancel()
		if err == nil {
			got = s
		}
		if got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	errText := eval[string](b, `document.getElementById('live-count-error').textContent`)
	b.fatalf("the live count reads %q, want %q (error shown: %q)", got, want, errText)
}

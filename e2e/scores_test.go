package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScoreBuiltRunAndShownOnTheRecord is issue 6's scenario in a real
// browser against `envoi serve`: a French user opens Contacts > Scores,
// creates a score whose first condition ("Ajouter une valeur fixe", 12,5
// for the contacts of Lyon) is built with the visual builder, adds a
// second condition in the page and switches it to "à chaque événement"
// (the builder is steered to an event criterion), saves, runs the score
// calculation, watches it finish, and finds the value — with the decimal
// comma — and its trend on a contact's record. The score page is checked
// on a phone's width.
func TestScoreBuiltRunAndShownOnTheRecord(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	admin := createAccount(t, db, "Maison Lumière", "admin@example.com", "correct horse battery", "fr")
	key := createAPIKey(t, db, admin.AccountID, admin.AdminEmail)
	srv := startServer(t, db)
	ids := map[string]int64{}
	for _, c := range []map[string]any{
		{"email": "anne@example.com", "first_name": "Anne", "city": "Lyon"},
		{"email": "bruno@example.com", "first_name": "Bruno", "city": "Paris"},
	} {
		var created struct{ ID int64 }
		if err := json.Unmarshal(livePostJSON(t, srv, key, "/api/v1/contacts", c), &created); err != nil || created.ID == 0 {
			t.Fatalf("create contact: %v", err)
		}
		ids[c["first_name"].(string)] = created.ID
	}

	b := newTab(t, browser, srv, acceptFrench)
	b.open("/login")
	b.login(admin.AdminEmail, admin.Password)

	// Contacts > Scores: the empty state explains lead scoring.
	b.open("/contacts")
	b.click(`.subnav a[data-sub="scores"]`)
	if p := b.path(); p != "/contacts/scores" {
		b.fatalf("the Scores link leads to %s", p)
	}
	if !strings.Contains(b.text(`#scores-empty`), "Le lead scoring donne à chaque contact un nombre") {
		b.errorf("the empty state does not explain lead scoring")
	}
	b.click(`#new-score`)
	first := `#condition-0 `
	b.waitVisible(first + `.crit-root`)
	if name := eval[string](b, `document.getElementById('score-name').value`); name != "[SCORE] " {
		b.errorf("the name is pre-filled with %q, want the [SCORE] prefix", name)
	}
	if hidden := eval[bool](b, `document.querySelector('#condition-0 .cond-coef').hidden`); !hidden {
		b.errorf("the coefficient shows for a fixed value")
	}

	// Condition 1: + 12,5 for the contacts of Lyon, with the builder.
	b.fill(`#score-name`, "[SCORE] Lyonnais")
	b.fill(first+`input[name="cond_value"]`, "12,5")
	b.step("add a criterion", chromedp.Click(chromedp.CSS(first+`[data-key="g-addc"]`)))
	choose(b, first+`[data-key="g-0-what"]`, "f:city")
	b.fill(first+`[data-key="g-0-v"]`, "Lyon")
	waitText(b, first+`[data-part="count-value"]`, "1 contact")

	// Condition 2, added in the page: per event, steered to an event.
	b.step("add a condition", chromedp.Click(chromedp.CSS(`#add-condition`)))
	second := `#condition-list > .score-condition:nth-child(2) `
	b.waitVisible(second + `.crit-root`)
	if n := b.text(second + `.cond-number`); n != "2" {
		b.errorf("the new condition is numbered %q", n)
	}
	choose(b, second+`select[name="cond_mode"]`, "per_event")
	b.waitVisible(second + `[data-key="g-0-what"]`)
	if what := eval[string](b, `document.querySelector('`+second+`[data-key="g-0-what"]').value`); what != "e:email.opened" {
		b.errorf("a per-event condition's criterion is %q, want an event (e:email.opened)", what)
	}
	if help := b.text(second + `.cond-help`); !strings.Contains(help, "chaque fois que l’événement") {
		b.errorf("the per-event explanation reads %q", help)
	}
	b.fill(second+`input[name="cond_value"]`, "2")

	if status := b.click(`#save-score`); status != 200 {
		b.fatalf("save: status %d", status)
	}
	page := b.path()
	if !regexp.MustCompile(`^/contacts/scores/\d+$`).MatchString(page) {
		b.fatalf("after saving: on %s, want the score's page", page)
	}
	if notice := b.text(`.flash-ok`); !strings.HasPrefix(notice, "Le score a été créé.") {
		b.errorf("notice %q", notice)
	}
	b.waitVisible(`#condition-1 .crit-root`) // the saved conditions are drawn again
	if v := eval[string](b, `document.querySelector('#condition-0 input[name="cond_value"]').value`); v != "12,5" {
		b.errorf("the first condition's value reads %q", v)
	}
	if mode := eval[string](b, `document.querySelector('#condition-1 select[name="cond_mode"]').value`); mode != "per_event" {
		b.errorf("the second condition's mode is %q", mode)
	}
	b.screenshot("score-page", phone)
	b.screenshot("score-page", desktop)

	// The calculation, under the list.
	b.open("/contacts/scores")
	if label := b.text(`#launch-scores`); label != "Lancer le calcul des scores" {
		b.errorf("the calculation button reads %q", label)
	}
	if status := b.click(`#launch-scores`); status != 200 {
		b.fatalf("launch: status %d", status)
	}
	waitRunDone(b)
	if state := b.text(`#score-run-state`); state != "Terminé" {
		b.errorf("the calculation reads %q once over", state)
	}
	id := strings.TrimPrefix(page, "/contacts/scores/")
	if computed := b.text(`#scores tr[data-score="` + id + `"] .score-computed`); strings.Contains(computed, "Pas encore") {
		b.errorf("the score is listed as %q after the calculation", computed)
	}
	b.screenshot("scores-list", desktop)

	// Anne (Lyon) has 12,5, with a trend; Bruno 0.
	b.open(fmt.Sprintf("/contacts/%d", ids["Anne"]))
	row := `#contact-scores tr[data-score="` + id + `"]`
	if v := b.text(row + ` .score-value`); v != "12,5" {
		b.errorf("Anne's score reads %q, want 12,5", v)
	}
	if n := eval[int](b, `document.querySelectorAll('`+row+` svg.trend polyline').length`); n != 1 {
		b.errorf("Anne's score has %d trend lines", n)
	}
	b.screenshot("contact-scores", phone)
	b.open(fmt.Sprintf("/contacts/%d", ids["Bruno"]))
	if v := b.text(row + ` .score-value`); v != "0" {
		b.errorf("Bruno's score reads %q, want 0", v)
	}
}

// waitText waits until sel's text reads want.
func waitText(b *tab, sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	got := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {}).textContent || ""`))
		cancel()
		if err == nil {
			got = strings.TrimSpace(s)
		}
		if got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.fatalf("%s reads %q, want %q", sel, got, want)
}

// waitRunDone waits until the list shows the calculation over: the page
// follows it every second and loads itself again when it ends.
func waitRunDone(b *tab) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	state := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const r = document.getElementById('score-run'); return r && !r.hasAttribute('data-active') && !r.hasAttribute('data-reloading') ? r.dataset.state : ''; })()`))
		cancel()
		if err == nil {
			state = s
		}
		if state == "done" {
			return
		}
		if state == "failed" {
			b.fatalf("the calculation failed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fatalf("the calculation did not finish (state %q)", state)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

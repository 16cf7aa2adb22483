package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/segment"
)

func (e *env) scores() *score.Service {
	return &score.Service{DB: e.db, Now: time.Now, Segments: &segment.Service{DB: e.db, Now: time.Now, Scores: score.Exists}}
}

// newScore creates a score through the service; conditions is the API's
// JSON array of conditions.
func (e *env) newScore(acc account.Account, name, conditions string) score.Score {
	e.t.Helper()
	var conds []score.ConditionInput
	if err := json.Unmarshal([]byte(conditions), &conds); err != nil {
		e.t.Fatal(err)
	}
	sc, err := e.scores().Create(context.Background(), owner(acc), score.Input{Name: &name, Conditions: conds})
	if err != nil {
		e.t.Fatal(err)
	}
	return sc
}

// The score routes for the rights walk: a score to show and edit, another
// to delete, a trigger and a calculation (queued: no worker runs in the
// walk, so launching again is refused, not forbidden).
var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	ctx, by := context.Background(), owner(acc)
	a := e.newScore(acc, "[SCORE] Fixture A", `[{"criterion": {"all": []}, "mode": "fixed", "value": 1}]`)
	b := e.newScore(acc, "[SCORE] Fixture B", `[{"criterion": {"all": []}, "mode": "fixed", "value": 1}]`)
	tr, err := e.scores().AddTrigger(ctx, by, a.ID, 10*score.One)
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.scores().Launch(ctx, by)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/scores/runs/{id}":                       fmt.Sprintf("/contacts/scores/runs/%d", run.ID),
		"GET /contacts/scores/{id}":                            fmt.Sprintf("/contacts/scores/%d", a.ID),
		"POST /contacts/scores/{id}/edit":                      fmt.Sprintf("/contacts/scores/%d/edit", a.ID),
		"POST /contacts/scores/{id}/duplicate":                 fmt.Sprintf("/contacts/scores/%d/duplicate", a.ID),
		"POST /contacts/scores/{id}/delete":                    fmt.Sprintf("/contacts/scores/%d/delete", b.ID),
		"POST /contacts/scores/{id}/triggers":                  fmt.Sprintf("/contacts/scores/%d/triggers", a.ID),
		"POST /contacts/scores/{id}/triggers/{trigger}/delete": fmt.Sprintf("/contacts/scores/%d/triggers/%d/delete", a.ID, tr.ID),
	}
})

// runScores runs the calculation jobs until the test ends, as `envoi
// serve` does.
func (e *env) runScores() {
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	w.Register(score.JobKind, e.scores().Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// waitRun polls the run's status, as the list's script does, until it
// is over.
func (e *env) waitRun(c *http.Client, id string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		status, body, h := e.get(c, "/contacts/scores/runs/"+id)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			e.t.Fatalf("run status: %d %s", status, body)
		}
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			e.t.Fatal(err)
		}
		if s["active"] == false {
			if s["state"] != "done" {
				e.t.Fatalf("the calculation ended %v", s)
			}
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("the calculation did not finish")
	return nil
}

var runRe = regexp.MustCompile(`id="score-run" data-run="(\d+)" data-state="(\w+)"`)

// scoringKey finds a catalogue key of this feature shown instead of its text.
var scoringKey = regexp.MustCompile(`[>"](scoring|scores)\.[a-z_]+(\.[a-z_]+)*[<"]`)

func TestScoreListEmptyStateInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		for _, tt := range []struct{ lang, what, create, launch string }{
			{"en", "Lead scoring gives each contact a number", "Create a score", "Run score calculation"},
			{"fr", "Le lead scoring donne à chaque contact un nombre", "Créer un score", "Lancer le calcul des scores"},
		} {
			acc := e.account("Acme "+tt.lang, tt.lang+"@example.com", tt.lang)
			c := e.login(tt.lang + "@example.com")
			status, body, _ := e.get(c, "/contacts/scores")
			if status != 200 || !strings.Contains(body, `id="scores-empty"`) || !strings.Contains(body, tt.what) ||
				!strings.Contains(body, tt.create) || !strings.Contains(body, `href="/contacts/scores/new"`) {
				t.Fatalf("%s empty score list: %d\n%s", tt.lang, status, body)
			}
			if !strings.Contains(body, tt.launch) || !strings.Contains(body, `id="score-run-none"`) {
				t.Errorf("%s: no calculation button or no 'never calculated' under the list", tt.lang)
			}
			if k := scoringKey.FindString(body); k != "" {
				t.Errorf("%s: the untranslated key %s shows", tt.lang, k)
			}
			if !strings.Contains(body, `data-sub="scores" aria-current="page"`) {
				t.Errorf("%s: the Contacts sub-navigation lacks Scores", tt.lang)
			}
			// A guest reads the explanation but is not offered to create,
			// and sees why the calculation button is off.
			guest := e.session(e.member(acc, "guest-"+tt.lang+"@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
			_, body, _ = e.get(guest, "/contacts/scores")
			if !strings.Contains(body, `id="scores-empty"`) || strings.Contains(body, `href="/contacts/scores/new"`) ||
				!strings.Contains(body, `id="launch-help"`) || strings.Contains(body, `id="launch-form"`) {
				t.Errorf("%s: a guest is offered to create a score or to launch a calculation", tt.lang)
			}
		}
	})
}

// scoreForm is the score form as a browser posts it: one set of inputs
// per condition.
func scoreForm(name string, conds ...[4]string) url.Values {
	f := url.Values{"name": {name}, "description": {"Qui s’intéresse à nous"}}
	for _, c := range conds { // mode, value, coefficient, criterion
		f.Add("cond_id", "")
		f.Add("cond_mode", c[0])
		f.Add("cond_value", c[1])
		f.Add("cond_coef", c[2])
		f.Add("cond_criterion", c[3])
	}
	return f
}

func TestScoreCreatedThroughTheFormIsListed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")

		status, body, _ := e.get(c, "/contacts/scores/new")
		if status != 200 || !strings.Contains(body, `id="score-name" value="[SCORE] "`) || !strings.Contains(body, "Gardez le préfixe") {
			t.Fatalf("new score page: %d, name not pre-filled with the prefix or no help\n%s", status, body)
		}
		for _, want := range []string{"Ajouter une valeur fixe", "Ajouter une valeur fixe à chaque événement", "Ajouter la valeur du champ",
			"Coefficient de multiplication", `id="builder-data"`, `id="condition-template"`, `name="cond_criterion"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the new score page lacks %q", want)
			}
		}
		if k := scoringKey.FindString(body); k != "" {
			t.Errorf("the untranslated key %s shows", k)
		}
		// Enter in a field saves: the form's first submit button is not a
		// condition's "remove".
		if m := regexp.MustCompile(`(?s)id="score-form".*?(<button type="submit"[^>]*>)`).FindStringSubmatch(body); m == nil || strings.Contains(m[1], `name="op"`) {
			t.Errorf("the form's default button is %v", m)
		}

		// Without JavaScript, "add a condition" is a button the server
		// answers with one more condition, keeping what was typed.
		form := scoreForm("[SCORE] Intérêt", [4]string{"fixed", "1,5", "", `{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`})
		form.Set("op", "add")
		status, body, _ = e.post(c, "/contacts/scores", form)
		if status != 200 || strings.Count(body, `class="score-condition"`) != 3 || !strings.Contains(body, `value="1,5"`) {
			t.Fatalf("add a condition: %d, %d conditions shown (want 2 and the template)", status, strings.Count(body, `class="score-condition"`))
		}

		// Two conditions, one with a French decimal, one negative; the
		// builder's group of one is the criterion itself.
		form = scoreForm("[SCORE] Intérêt",
			[4]string{"fixed", "1,5", "", `{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`},
			[4]string{"per_event", "-2", "3", `{"all": [{"event": "email.opened"}]}`})
		status, body, h := e.post(c, "/contacts/scores", form)
		if status != http.StatusSeeOther || !regexp.MustCompile(`^/contacts/scores/\d+\?done=created$`).MatchString(h.Get("Location")) {
			t.Fatalf("create: %d → %s\n%s", status, h.Get("Location"), body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/contacts/scores/"), "?done=created")
		list, err := e.scores().List(context.Background(), owner(acc))
		if err != nil || len(list) != 1 {
			t.Fatalf("scores %v %v", list, err)
		}
		sc := list[0]
		if got := sc.Conditions; len(got) != 2 || got[0].Mode != score.Fixed || got[0].Value != 15000 || got[0].Criterion.Field != "city" ||
			got[1].Mode != score.PerEvent || got[1].Value != -2*score.One || got[1].Criterion.Event != "email.opened" || got[1].Coefficient != 0 {
			t.Fatalf("stored conditions %+v", got)
		}

		_, body, _ = e.get(c, h.Get("Location"))
		if !strings.Contains(body, "Le score a été créé.") || !strings.Contains(body, `name="cond_value" inputmode="decimal" autocomplete="off" value="1,5"`) ||
			!strings.Contains(body, `value="-2"`) || !strings.Contains(body, `<option value="per_event" selected>`) {
			t.Errorf("the score page does not show the saved conditions in French\n%s", body)
		}
		_, body, _ = e.get(c, "/contacts/scores")
		row := regexp.MustCompile(`(?s)<tr data-score="` + id + `">.*?</tr>`).FindString(body)
		if !strings.Contains(row, "[SCORE] Intérêt") || !strings.Contains(row, `class="score-conditions">2<`) || !strings.Contains(row, "Pas encore calculé") {
			t.Errorf("the list row reads %s", row)
		}

		// A stale save is refused with who changed it, and the choice to
		// reload.
		form = scoreForm("[SCORE] Intérêt 2", [4]string{"fixed", "3", "", `{"all": []}`})
		form.Set("version", "1")
		if st, _, _ := e.post(c, "/contacts/scores/"+id+"/edit", form); st != http.StatusSeeOther {
			t.Fatalf("first save: %d", st)
		}
		status, body, _ = e.post(c, "/contacts/scores/"+id+"/edit", form)
		if status != http.StatusConflict || !strings.Contains(body, "data-conflict") || !strings.Contains(body, `id="conflict-reload"`) {
			t.Errorf("stale save: %d\n%s", status, body)
		}

		// Duplicate and delete from the list, all or none.
		status, _, h = e.post(c, "/contacts/scores/"+id+"/duplicate", nil)
		if status != http.StatusSeeOther {
			t.Fatalf("duplicate: %d", status)
		}
		_, body, _ = e.get(c, "/contacts/scores")
		if !strings.Contains(body, "[SCORE] Intérêt 2 (copy)") {
			t.Error("the copy is not listed")
		}
		status, body, _ = e.post(c, "/contacts/scores/delete", url.Values{})
		if status != 400 || !strings.Contains(body, "Cochez au moins un score") {
			t.Errorf("delete nothing: %d", status)
		}
		copyID := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/contacts/scores/"), "?done=duplicated")
		status, _, _ = e.post(c, "/contacts/scores/delete", url.Values{"ids": {id, copyID}})
		if list, _ := e.scores().List(context.Background(), owner(acc)); status != http.StatusSeeOther || len(list) != 0 {
			t.Errorf("bulk delete: %d, %d left", status, len(list))
		}
	})
}

var invalidPathRe = regexp.MustCompile(`id="condition-(\d+)-error">([^<]*)</p>\s*<div class="builder cond-builder" data-builder data-count-url="[^"]*" data-invalid-path="([^"]*)"`)

func TestScoreFormLocatesBadConditions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")
		good := [4]string{"fixed", "5", "", `{"all": []}`}
		for _, tt := range []struct {
			name    string
			bad     [4]string
			message string
			path    string
		}{
			{"per-event on a field", [4]string{"per_event", "2", "", `{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`},
				"demande un critère d’événement", "all[0]"},
			{"field value without a Number field", [4]string{"field_value", "", "2", `{"all": [{"field": "city", "op": "not_empty"}]}`},
				"champ personnalisé de type Nombre", "all[0]"},
			{"unknown field", [4]string{"fixed", "2", "", `{"all": [{"field": "citty", "op": "eq", "value": "x"}]}`},
				"citty", "all[0]"},
			{"not a number", [4]string{"fixed", "beaucoup", "", `{"all": []}`},
				"«\u00a0beaucoup\u00a0» n’est pas une valeur acceptée", ""},
		} {
			status, body, _ := e.post(c, "/contacts/scores", scoreForm("[SCORE] Test", good, tt.bad))
			if status != 400 {
				t.Errorf("%s: %d, want 400", tt.name, status)
				continue
			}
			if !strings.Contains(body, "la condition 2 est à corriger") {
				t.Errorf("%s: the top of the form does not point at condition 2", tt.name)
			}
			if !strings.Contains(body, `id="condition-1-error"`) || strings.Contains(body, `id="condition-0-error"`) {
				t.Errorf("%s: the error is not next to the second condition", tt.name)
			}
			if m := regexp.MustCompile(`id="condition-1-error">([^<]*)<`).FindStringSubmatch(body); m == nil || !strings.Contains(html.UnescapeString(m[1]), tt.message) {
				t.Errorf("%s: the condition's error reads %q, want %q", tt.name, m, tt.message)
			}
			if tt.path != "" {
				m := invalidPathRe.FindStringSubmatch(body)
				if m == nil || m[1] != "1" || !strings.HasPrefix(m[3], tt.path) {
					t.Errorf("%s: the builder is not told where the error is: %v", tt.name, m)
				}
			}
			// What was typed comes back.
			if !strings.Contains(body, `value="[SCORE] Test"`) || strings.Count(body, `class="score-condition"`) != 3 {
				t.Errorf("%s: the form lost what was posted", tt.name)
			}
		}
	})
}

func TestScoreCalculationFromTheList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		e.townsfolk(acc)
		sc := e.newScore(acc, "[SCORE] Lyonnais", `[{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": "1,5"}]`)
		approver := e.session(e.member(acc, "approver@example.com", rights.Set{rights.Contacts: rights.Approver}), acc)
		editor := e.session(e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor}), acc)

		// An editor sees why the button is off, and is refused anyway (the
		// members made here read English).
		_, body, _ := e.get(editor, "/contacts/scores")
		if !strings.Contains(body, "it takes the approver level on contacts") || strings.Contains(body, `action="/contacts/scores/calculate"`) {
			t.Error("an editor is offered to launch a calculation")
		}
		if status, _, _ := e.post(editor, "/contacts/scores/calculate", nil); status != 403 {
			t.Errorf("an editor launches: %d, want 403", status)
		}

		status, _, h := e.post(approver, "/contacts/scores/calculate", nil)
		if status != http.StatusSeeOther || h.Get("Location") != "/contacts/scores?done=launched" {
			t.Fatalf("launch: %d → %s", status, h.Get("Location"))
		}
		_, body, _ = e.get(approver, "/contacts/scores?done=launched")
		m := runRe.FindStringSubmatch(body)
		if m == nil || m[2] != "queued" || !strings.Contains(body, "The score calculation has started.") || !strings.Contains(body, `id="score-run-progress"`) ||
			!strings.Contains(body, `id="launch-scores" disabled`) {
			t.Fatalf("the list does not show the queued calculation with its progress\n%s", body)
		}
		// A second launch while it waits is refused with the service's message.
		status, body, _ = e.post(approver, "/contacts/scores/calculate", nil)
		if status != 422 || !strings.Contains(html.UnescapeString(body), "A score calculation is already under way") {
			t.Errorf("second launch: %d\n%s", status, body)
		}

		e.runScores()
		s := e.waitRun(approver, m[1])
		if s["label"] != "Done" || s["percent"] != 100.0 || !strings.Contains(s["detail"].(string), "3 values changed") {
			t.Errorf("finished run status %v", s)
		}
		_, body, _ = e.get(approver, "/contacts/scores")
		if m := runRe.FindStringSubmatch(body); m == nil || m[2] != "done" {
			t.Errorf("the list shows the run as %v", m)
		}
		row := regexp.MustCompile(fmt.Sprintf(`(?s)<tr data-score="%d">.*?</tr>`, sc.ID)).FindString(body)
		if strings.Contains(row, "Not calculated yet") || !strings.Contains(row, "score-computed") {
			t.Errorf("the score is not shown as calculated: %s", row)
		}
		if !strings.Contains(body, "Next automatic calculation") || !strings.Contains(body, "every day after") {
			t.Error("the next automatic calculation is not shown")
		}

		// The interval is a settings approver's: a contacts approver reads
		// it, a settings approver changes it.
		if !strings.Contains(body, `id="interval-readonly"`) {
			t.Error("a contacts approver without settings rights is offered to change the interval")
		}
		if status, _, _ := e.post(approver, "/contacts/scores/interval", url.Values{"interval": {"2"}, "unit": {"days"}}); status != 403 {
			t.Errorf("interval by a contacts approver: %d, want 403", status)
		}
		admin := e.login("owner@example.com")
		status, body, _ = e.post(admin, "/contacts/scores/interval", url.Values{"interval": {"31"}, "unit": {"days"}})
		if status != 400 || !strings.Contains(body, `id="score-interval" min="1" max="720" step="1" value="31"`) {
			t.Errorf("31 days: %d\n%s", status, body)
		}
		if status, _, _ := e.post(admin, "/contacts/scores/interval", url.Values{"interval": {"2"}, "unit": {"days"}}); status != http.StatusSeeOther {
			t.Errorf("2 days: %d", status)
		}
		if _, body, _ = e.get(admin, "/contacts/scores"); !strings.Contains(body, "tous les 2 jours") || !strings.Contains(body, `id="interval-form"`) {
			t.Error("the new interval is not shown")
		}
	})
}

func TestScoreDistributionTriggersAndContactRecord(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		people := e.townsfolk(acc)
		sc := e.newScore(acc, "[SCORE] Engagement", `[
			{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": 1000},
			{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": "2,5"}]`)
		opened := activity.Event{AccountID: int64(acc.ID), ContactID: people["Anne"].ID, Type: "email.opened", At: time.Now(), CreatedAt: time.Now()}
		if err := db.InTx(context.Background(), func(q database.Querier) error {
			return activity.Record(context.Background(), q, []activity.Event{opened})
		}); err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@example.com")
		page := fmt.Sprintf("/contacts/scores/%d", sc.ID)

		// A trigger, entered with a French decimal; a bad one is refused
		// next to the form.
		status, body, _ := e.post(c, page+"/triggers", url.Values{"threshold": {"mille"}})
		if status != 400 || !strings.Contains(html.UnescapeString(body), "«\u00a0mille\u00a0» n’est pas un seuil") || !strings.Contains(body, `id="trigger-error"`) {
			t.Errorf("bad threshold: %d", status)
		}
		if status, _, _ := e.post(c, page+"/triggers", url.Values{"threshold": {"1002,5"}}); status != http.StatusSeeOther {
			t.Fatalf("add trigger: %d", status)
		}

		run, err := e.scores().Launch(context.Background(), owner(acc))
		if err != nil {
			t.Fatal(err)
		}
		e.runScores()
		e.waitRun(c, fmt.Sprint(run.ID))

		_, body, _ = e.get(c, page)
		for _, want := range []string{`id="distribution-chart"`, `role="img"`, `id="distribution-table"`, "4 contacts, valeurs de 0 à 1\u202f002,5.",
			"Quand [SCORE] Engagement devient ≥ 1\u202f002,5", "déclenché pour 1 contact"} {
			if !strings.Contains(html.UnescapeString(body), want) {
				t.Errorf("the score page lacks %q", want)
			}
		}
		bars := regexp.MustCompile(`<g class="hist-bar" data-from="([^"]*)" data-count="(\d+)">`).FindAllStringSubmatch(body, -1)
		total := map[string]string{}
		for _, b := range bars {
			if b[2] != "0" {
				total[html.UnescapeString(b[1])] = b[2]
			}
		}
		if len(bars) == 0 || len(total) != 2 || total["0"] != "1" {
			t.Errorf("the histogram's bars with contacts are %v (want David at 0, the three Lyonnais at the top)", total)
		}
		if k := scoringKey.FindString(body); k != "" {
			t.Errorf("the untranslated key %s shows", k)
		}

		// The contact record: the value in French, with its trend.
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", people["Anne"].ID))
		section := regexp.MustCompile(`(?s)<section class="card" id="contact-scores".*?</section>`).FindString(body)
		if !strings.Contains(section, fmt.Sprintf(`data-score="%d"`, sc.ID)) || !strings.Contains(section, `data-value="1002.5"><strong>1`+"\u202f"+`002,5</strong>`) ||
			!strings.Contains(section, `<svg class="trend"`) || !strings.Contains(section, "<polyline points=") {
			t.Errorf("Anne's record shows %s", section)
		}
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", people["David"].ID))
		if !strings.Contains(body, `data-value="0"><strong>0</strong>`) || !strings.Contains(body, "Pas encore de changement") {
			t.Error("David's record does not show a score of 0 without a trend")
		}
		// In English, the decimal point.
		e.post(c, "/language", url.Values{"lang": {"en"}, "next": {"/"}})
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", people["Anne"].ID))
		if !strings.Contains(body, `<strong>1,002.5</strong>`) {
			t.Error("Anne's score is not in the English format")
		}

		// Deleting the trigger.
		trs, _ := e.scores().Triggers(context.Background(), owner(acc), sc.ID)
		if status, _, _ := e.post(c, fmt.Sprintf("%s/triggers/%d/delete", page, trs[0].ID), nil); status != http.StatusSeeOther {
			t.Errorf("delete trigger: %d", status)
		}
		if _, body, _ = e.get(c, page); !strings.Contains(body, `id="triggers-none"`) {
			t.Error("the deleted trigger is still listed")
		}
	})
}

// TestScoresInTheCriteriaBuilder: the builder offers the account's scores
// by name, on segment pages and on score pages (less the score itself).
func TestScoresInTheCriteriaBuilder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		a := e.newScore(acc, "[SCORE] A", `[{"criterion": {"all": []}, "mode": "fixed", "value": 1}]`)
		b := e.newScore(acc, "[SCORE] B", `[{"criterion": {"all": []}, "mode": "fixed", "value": 1}]`)
		c := e.login("owner@example.com")
		scoresOf := func(path string) []string {
			_, body, _ := e.get(c, path)
			m := builderRe.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("%s: no builder data", path)
			}
			var voc struct {
				Scores []struct{ Value, Label string }
			}
			if err := json.Unmarshal([]byte(m[1]), &voc); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range voc.Scores {
				out = append(out, s.Value+" "+s.Label)
			}
			return out
		}
		if got := strings.Join(scoresOf("/contacts/segments/new"), ", "); got != fmt.Sprintf("%d [SCORE] A, %d [SCORE] B", a.ID, b.ID) {
			t.Errorf("segment builder scores: %s", got)
		}
		if got := strings.Join(scoresOf(fmt.Sprintf("/contacts/scores/%d", a.ID)), ", "); got != fmt.Sprintf("%d [SCORE] B", b.ID) {
			t.Errorf("score A's builder offers: %s", got)
		}
		// A segment on a score, saved through its form.
		crit := fmt.Sprintf(`{"score": %d, "op": "gte", "value": 1}`, a.ID)
		if status, body, _ := e.post(c, "/contacts/segments", url.Values{"name": {"Scored"}, "criteria": {crit}}); status != http.StatusSeeOther {
			t.Errorf("segment on a score: %d\n%s", status, body)
		}
	})
}

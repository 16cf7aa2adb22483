package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/score"
)

// scoreFixtures are the score routes' paths for the rights and isolation
// walk: each call makes a fresh score (and trigger, or contact).
func scoreFixtures(e *env, acc account.Account) map[string]func() string {
	n := 0
	newScore := func() score.Score {
		n++
		body := fmt.Sprintf(`{"name": "[SCORE] Walk %d", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`, n)
		sc, err := e.api.Scores.Create(context.Background(), owner(acc), scoreInput(e.t, body))
		if err != nil {
			e.t.Fatal(err)
		}
		return sc
	}
	path := func(suffix string) func() string {
		return func() string { return fmt.Sprintf("/api/v1/scores/%d%s", newScore().ID, suffix) }
	}
	return map[string]func() string{
		"GET /api/v1/scores/{id}":         path(""),
		"PATCH /api/v1/scores/{id}":       path(""),
		"DELETE /api/v1/scores/{id}":      path(""),
		"POST /api/v1/scores/{id}/{part}": path("/duplicate"),
		"GET /api/v1/scores/{id}/{part}":  path("/distribution"),
		"DELETE /api/v1/scores/{id}/triggers/{trigger}": func() string {
			sc := newScore()
			t, err := e.api.Scores.AddTrigger(context.Background(), owner(acc), sc.ID, 10*score.One)
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/scores/%d/triggers/%d", sc.ID, t.ID)
		},
		"GET /api/v1/scores/runs/{id}": func() string {
			var id int64
			err := e.db.InTx(context.Background(), func(q database.Querier) error {
				var err error
				id, err = database.NewID(context.Background(), q)
				if err != nil {
					return err
				}
				_, err = q.Exec(context.Background(), `INSERT INTO score_runs (account_id, id, job_id, origin, state, created_at)
					VALUES ($1, $2, 0, 'manual', 'done', 1)`, acc.ID, id)
				return err
			})
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/scores/runs/%d", id)
		},
		"GET /api/v1/contacts/{id}/scores": func() string {
			n++
			return fmt.Sprintf("/api/v1/contacts/%d/scores", e.newContact(acc, fmt.Sprintf("scores%d@example.com", n)).ID)
		},
	}
}

func scoreInput(t *testing.T, body string) score.Input {
	t.Helper()
	var in struct {
		Name        *string                `json:"name"`
		Description *string                `json:"description"`
		Conditions  []score.ConditionInput `json:"conditions"`
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	return score.Input{Name: in.Name, Description: in.Description, Conditions: in.Conditions}
}

// runScores runs a job worker until the calculation id is finished.
func (e *env) runScores(key string, id int64) map[string]any {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 5 * time.Millisecond})
	w.Register(score.JobKind, e.api.Scores.Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		status, body := e.do("GET", fmt.Sprintf("/api/v1/scores/runs/%d", id), key, "")
		if status != 200 {
			e.t.Fatalf("run: %d %v", status, body)
		}
		if body["state"] == "done" || body["state"] == "failed" {
			return body
		}
	}
	e.t.Fatal("the calculation did not finish")
	return nil
}

func TestScoresAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ctx := context.Background()
		if _, err := e.contacts().CreateField(ctx, owner(acc), contact.Field{Key: "revenue", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		lyon, paris := "Lyon", "Paris"
		a, err := e.contacts().Create(ctx, owner(acc), contact.Input{Email: scoreStr("a@example.com"), City: &lyon, Fields: map[string]any{"revenue": "10"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := e.contacts().Create(ctx, owner(acc), contact.Input{Email: scoreStr("b@example.com"), City: &paris})
		err = db.InTx(ctx, func(q database.Querier) error {
			return activity.Record(ctx, q, []activity.Event{
				{AccountID: int64(acc.ID), ContactID: b.ID, Type: "email.opened", At: time.Now()},
				{AccountID: int64(acc.ID), ContactID: b.ID, Type: "email.opened", At: time.Now()},
			})
		})
		if err != nil {
			t.Fatal(err)
		}

		status, body := e.do("POST", "/api/v1/scores", key, `{"name": "[SCORE] Engagement", "description": "who cares", "conditions": [
			{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": "1,25"},
			{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": -0.5},
			{"criterion": {"field": "revenue", "op": "not_empty"}, "mode": "field_value", "coefficient": "2"}]}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, body)
		}
		id := int64(body["id"].(float64))
		conds := body["conditions"].([]any)
		first := conds[0].(map[string]any)
		third := conds[2].(map[string]any)
		if body["name"] != "[SCORE] Engagement" || len(conds) != 3 || first["value"] != 1.25 || first["coefficient"] != nil ||
			third["coefficient"] != 2.0 || third["value"] != nil || body["version"] != 1.0 {
			t.Fatalf("created: %v", body)
		}

		// PATCH: the first condition keeps its id, the others go.
		status, body = e.do("PATCH", fmt.Sprintf("/api/v1/scores/%d", id), key, fmt.Sprintf(`{"version": 1, "conditions": [
			{"id": %d, "criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": 3},
			{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": "-0,5"},
			{"criterion": {"field": "revenue", "op": "not_empty"}, "mode": "field_value"}]}`, int64(first["id"].(float64))))
		if status != 200 || body["version"] != 2.0 || body["conditions"].([]any)[0].(map[string]any)["id"] != first["id"] {
			t.Fatalf("patch: %d %v", status, body)
		}
		if status, body := e.do("PATCH", fmt.Sprintf("/api/v1/scores/%d", id), key, `{"version": 1, "name": "[SCORE] Old"}`); status != 409 {
			t.Fatalf("stale patch: %d %v", status, body)
		}

		// Calculate: 202, a second launch is refused while it is queued.
		status, body = e.do("POST", "/api/v1/scores/calculate", key, "")
		if status != 202 || body["state"] != "queued" {
			t.Fatalf("calculate: %d %v", status, body)
		}
		run := int64(body["id"].(float64))
		status, body = e.do("POST", "/api/v1/scores/calculate", key, "")
		if status != 422 || body["error"].(map[string]any)["code"] != "rule" {
			t.Fatalf("second calculate: %d %v", status, body)
		}
		body = e.runScores(key, run)
		if body["state"] != "done" || body["progress"] != 1.0 || body["started_at"] == nil || body["finished_at"] == nil || body["changed"] != 2.0 {
			t.Fatalf("run: %v", body)
		}

		// a: Lyon 3 + revenue 10 × 1 = 13; b: 2 opens × −0.5 = −1.
		status, body = e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/scores", a.ID), key, "")
		values := body["scores"].([]any)
		if status != 200 || len(values) != 1 || values[0].(map[string]any)["value"] != 13.0 || len(values[0].(map[string]any)["history"].([]any)) != 1 {
			t.Fatalf("a's scores: %d %v", status, body)
		}
		status, body = e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/scores", b.ID), key, "")
		if status != 200 || body["scores"].([]any)[0].(map[string]any)["value"] != -1.0 {
			t.Fatalf("b's scores: %d %v", status, body)
		}
		// The personal-data export holds the score and its history.
		status, body = e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/export", a.ID), key, "")
		if ps, _ := body["scores"].([]any); status != 200 || len(ps) != 1 || ps[0].(map[string]any)["value"] != "13" ||
			len(ps[0].(map[string]any)["history"].([]any)) != 1 {
			t.Fatalf("a's personal data scores: %d %v", status, body["scores"])
		}
		// The contact itself carries {"<score id>": value} (SPEC §12.1).
		status, body = e.do("GET", fmt.Sprintf("/api/v1/contacts/%d", a.ID), key, "")
		if sc, _ := body["scores"].(map[string]any); status != 200 || sc[fmt.Sprint(id)] != 13.0 {
			t.Fatalf("a's contact JSON scores: %d %v", status, body["scores"])
		}
		status, body = e.do("GET", fmt.Sprintf("/api/v1/scores/%d/distribution?buckets=5", id), key, "")
		if status != 200 || body["contacts"] != 2.0 || len(body["buckets"].([]any)) == 0 {
			t.Fatalf("distribution: %d %v", status, body)
		}
		if status, body := e.do("GET", fmt.Sprintf("/api/v1/scores/%d/nothing", id), key, ""); status != 404 {
			t.Fatalf("unknown view: %d %v", status, body)
		}

		// The listing carries the schedule: 24 h after the manual run.
		status, body = e.do("GET", "/api/v1/scores", key, "")
		sched := body["schedule"].(map[string]any)
		if status != 200 || len(body["scores"].([]any)) != 1 || sched["interval_hours"] != 24.0 || sched["next_run_at"] == nil ||
			body["last_run"].(map[string]any)["id"] != float64(run) {
			t.Fatalf("list: %d %v", status, body)
		}

		// Triggers.
		status, body = e.do("POST", fmt.Sprintf("/api/v1/scores/%d/triggers", id), key, `{"threshold": "12,5"}`)
		if status != 201 || body["threshold"] != 12.5 {
			t.Fatalf("add trigger: %d %v", status, body)
		}
		tid := int64(body["id"].(float64))
		status, body = e.do("GET", fmt.Sprintf("/api/v1/scores/%d/triggers", id), key, "")
		if status != 200 || len(body["triggers"].([]any)) != 1 {
			t.Fatalf("triggers: %d %v", status, body)
		}
		if status, body := e.do("DELETE", fmt.Sprintf("/api/v1/scores/%d/triggers/%d", id, tid), key, ""); status != 204 {
			t.Fatalf("delete trigger: %d %v", status, body)
		}

		// Settings carry the interval.
		status, body = e.do("PATCH", "/api/v1/settings", key, `{"score_interval_hours": 6}`)
		if status != 200 || body["score_interval_hours"] != 6.0 {
			t.Fatalf("settings: %d %v", status, body)
		}
		if status, body := e.do("PATCH", "/api/v1/settings", key, `{"score_interval_hours": 0}`); status != 400 || scoreErrorField(body) != "score_interval_hours" {
			t.Fatalf("bad interval: %d %v", status, body)
		}
		if status, body := e.do("GET", "/api/v1/settings", key, ""); status != 200 || body["score_interval_hours"] != 6.0 {
			t.Fatalf("get settings: %d %v", status, body)
		}

		// Duplicate, then delete both at once.
		status, body = e.do("POST", fmt.Sprintf("/api/v1/scores/%d/duplicate", id), key, "")
		if status != 201 || body["name"] != "[SCORE] Engagement (copy)" {
			t.Fatalf("duplicate: %d %v", status, body)
		}
		copyID := int64(body["id"].(float64))
		status, body = e.do("DELETE", "/api/v1/scores", key, fmt.Sprintf(`{"ids": [%d, %d]}`, id, copyID))
		if status != 200 || body["deleted"] != 2.0 {
			t.Fatalf("delete: %d %v", status, body)
		}
		if status, _ := e.do("GET", fmt.Sprintf("/api/v1/scores/%d", id), key, ""); status != 404 {
			t.Fatalf("deleted score: %d", status)
		}
	})
}

func TestScoresAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		tests := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"no conditions", "POST", "/api/v1/scores", `{"name": "[SCORE] X"}`, 400, "conditions"},
			{"bad value", "POST", "/api/v1/scores", `{"name": "[SCORE] X", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": "1,234567"}]}`, 400, "conditions[0].value"},
			{"bad criterion", "POST", "/api/v1/scores", `{"name": "[SCORE] X", "conditions": [{"criterion": {"any": [{"field": "citty", "op": "eq", "value": 1}]}, "mode": "fixed", "value": 1}]}`, 400, "conditions[0].criterion.any[0]"},
			{"unknown member", "POST", "/api/v1/scores", `{"name": "[SCORE] X", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1, "points": 3}]}`, 400, ""},
			{"version on create", "POST", "/api/v1/scores", `{"name": "[SCORE] X", "version": 3}`, 400, "version"},
			{"no ids", "DELETE", "/api/v1/scores", `{"ids": []}`, 400, "ids"},
			{"no threshold", "POST", "/api/v1/scores/1/triggers", `{}`, 400, "threshold"},
			{"unknown score", "GET", "/api/v1/scores/1", ``, 404, ""},
			{"unknown run", "GET", "/api/v1/scores/runs/1", ``, 404, ""},
			{"not an id", "GET", "/api/v1/scores/abc", ``, 404, ""},
		}
		for _, tt := range tests {
			status, body := e.do(tt.method, tt.path, key, tt.body)
			if status != tt.status || (tt.field != "" && scoreErrorField(body) != tt.field) {
				t.Errorf("%s: %d %v, want %d on %q", tt.name, status, body, tt.status, tt.field)
			}
		}
	})
}

func scoreStr(s string) *string { return &s }

func scoreErrorField(body map[string]any) string {
	m, _ := body["error"].(map[string]any)
	f, _ := m["field"].(string)
	return f
}

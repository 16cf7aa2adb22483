package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"envoi/internal/auth"
	"envoi/internal/criteria"
	"envoi/internal/fault"
	"envoi/internal/score"
	"envoi/internal/server"
)

// conditionJSON is a score condition of SPEC §12.1: value for fixed and
// per_event conditions, coefficient for field_value ones.
type conditionJSON struct {
	ID          int64          `json:"id"`
	Criterion   criteria.Node  `json:"criterion"`
	Mode        score.Mode     `json:"mode"`
	Value       *score.Decimal `json:"value,omitempty"`
	Coefficient *score.Decimal `json:"coefficient,omitempty"`
}

// scoreJSON is the SPEC §12.1 score shape, with its version.
type scoreJSON struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Conditions  []conditionJSON `json:"conditions"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	UpdatedBy   string          `json:"updated_by"`
}

func toScoreJSON(s score.Score) scoreJSON {
	out := scoreJSON{ID: s.ID, Name: s.Name, Description: s.Description, Conditions: make([]conditionJSON, len(s.Conditions)),
		Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(), UpdatedBy: s.UpdatedBy}
	for i, c := range s.Conditions {
		cj := conditionJSON{ID: c.ID, Criterion: c.Criterion, Mode: c.Mode}
		if c.Mode == score.FieldValue {
			cj.Coefficient = &c.Coefficient
		} else {
			cj.Value = &c.Value
		}
		out.Conditions[i] = cj
	}
	return out
}

// scoreInJSON creates (POST) or changes (PATCH) a score; on a PATCH a
// member left out keeps its value (conditions: all of them).
type scoreInJSON struct {
	Name        *string                `json:"name"`
	Description *string                `json:"description"`
	Conditions  []score.ConditionInput `json:"conditions"`
	Version     int64                  `json:"version"`
}

func (in scoreInJSON) input() score.Input {
	return score.Input{Name: in.Name, Description: in.Description, Conditions: in.Conditions}
}

// runJSON is the SPEC §12.1 score run shape.
type runJSON struct {
	ID         int64      `json:"id"`
	State      string     `json:"state"`
	Progress   float64    `json:"progress"`
	Origin     string     `json:"origin"`
	Changed    int64      `json:"changed"`
	Warnings   []string   `json:"warnings"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

func toRunJSON(r score.Run) runJSON {
	out := runJSON{ID: r.ID, State: r.State, Progress: r.Progress(), Origin: r.Origin, Changed: r.Changed, Warnings: []string{},
		Error: r.LastError, CreatedAt: r.CreatedAt.UTC(), StartedAt: timePtr(r.StartedAt), FinishedAt: timePtr(r.FinishedAt)}
	if r.Warnings != "" {
		out.Warnings = strings.Split(r.Warnings, "\n")
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (a *API) listScores(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	list, err := a.Scores.List(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	sched, err := a.Scores.Schedule(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	last, ok, err := a.Scores.LastRun(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]scoreJSON, len(list))
	for i, s := range list {
		out[i] = toScoreJSON(s)
	}
	var lastRun *runJSON
	if ok {
		rj := toRunJSON(last)
		lastRun = &rj
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"scores": out, "last_run": lastRun, "schedule": map[string]any{
		"interval_hours": sched.IntervalHours, "last_manual_at": timePtr(sched.LastManual), "next_run_at": timePtr(sched.Next)}})
}

func (a *API) createScore(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in scoreInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	if in.Version != 0 {
		server.WriteError(w, r, fault.Invalidf("version", "is only for changes (PATCH)"))
		return
	}
	s, err := a.Scores.Create(r.Context(), id.Actor, in.input())
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toScoreJSON(s))
}

func (a *API) getScore(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err == nil {
		var s score.Score
		if s, err = a.Scores.Get(r.Context(), id.Actor, sid); err == nil {
			server.WriteJSON(w, http.StatusOK, toScoreJSON(s))
			return
		}
	}
	server.WriteError(w, r, err)
}

func (a *API) updateScore(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in scoreInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	s, err := a.Scores.Update(r.Context(), id.Actor, sid, in.Version, in.input())
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toScoreJSON(s))
}

func (a *API) deleteScore(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err == nil {
		_, err = a.Scores.Delete(r.Context(), id.Actor, sid)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteScores(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	n, err := a.Scores.Delete(r.Context(), id.Actor, in.IDs...)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

// scoreAction serves POST /api/v1/scores/{id}/duplicate and …/triggers.
func (a *API) scoreAction(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	switch r.PathValue("part") {
	case "duplicate":
		a.duplicateScore(w, r, id)
	case "triggers":
		a.addScoreTrigger(w, r, id)
	default:
		server.WriteError(w, r, fault.Notf("no API route %s %s (use duplicate or triggers)", r.Method, r.URL.Path))
	}
}

func (a *API) duplicateScore(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err == nil {
		var s score.Score
		if s, err = a.Scores.Duplicate(r.Context(), id.Actor, sid); err == nil {
			server.WriteJSON(w, http.StatusCreated, toScoreJSON(s))
			return
		}
	}
	server.WriteError(w, r, err)
}

func (a *API) calculateScores(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	run, err := a.Scores.Launch(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusAccepted, map[string]any{"id": run.ID, "state": run.State})
}

func (a *API) getScoreRun(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	rid, err := pathID(r)
	if err == nil {
		var run score.Run
		if run, err = a.Scores.GetRun(r.Context(), id.Actor, rid); err == nil {
			server.WriteJSON(w, http.StatusOK, toRunJSON(run))
			return
		}
	}
	server.WriteError(w, r, err)
}

// scoreView serves GET /api/v1/scores/{id}/distribution and …/triggers.
func (a *API) scoreView(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	switch r.PathValue("part") {
	case "distribution":
		buckets := 0
		if raw := r.URL.Query().Get("buckets"); raw != "" {
			if buckets, err = strconv.Atoi(raw); err != nil || buckets < 1 {
				server.WriteError(w, r, fault.Invalidf("buckets", "must be a whole number between 1 and 50"))
				return
			}
		}
		d, err := a.Scores.Distribution(r.Context(), id.Actor, sid, buckets)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		type bucketJSON struct {
			From  score.Decimal `json:"from"`
			To    score.Decimal `json:"to"`
			Count int64         `json:"count"`
		}
		out := make([]bucketJSON, len(d.Buckets))
		for i, b := range d.Buckets {
			out[i] = bucketJSON{From: b.From, To: b.To, Count: b.Count}
		}
		server.WriteJSON(w, http.StatusOK, map[string]any{"score_id": d.ScoreID, "contacts": d.Contacts, "min": d.Min, "max": d.Max, "buckets": out})
	case "triggers":
		ts, err := a.Scores.Triggers(r.Context(), id.Actor, sid)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		out := make([]triggerJSON, len(ts))
		for i, t := range ts {
			out[i] = toTriggerJSON(t)
		}
		server.WriteJSON(w, http.StatusOK, map[string]any{"triggers": out})
	default:
		server.WriteError(w, r, fault.Notf("no API route %s %s (use distribution or triggers)", r.Method, r.URL.Path))
	}
}

type triggerJSON struct {
	ID        int64         `json:"id"`
	ScoreID   int64         `json:"score_id"`
	Threshold score.Decimal `json:"threshold"`
	Fired     int64         `json:"fired"`
	CreatedAt time.Time     `json:"created_at"`
}

func toTriggerJSON(t score.Trigger) triggerJSON {
	return triggerJSON{ID: t.ID, ScoreID: t.ScoreID, Threshold: t.Threshold, Fired: t.Fired, CreatedAt: t.CreatedAt.UTC()}
}

func (a *API) addScoreTrigger(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in struct {
		Threshold json.RawMessage `json:"threshold"`
	}
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	if len(in.Threshold) == 0 || string(in.Threshold) == "null" {
		server.WriteError(w, r, fault.Invalidf("threshold", "is required: the value the score must reach, such as 50 or \"12,5\""))
		return
	}
	var threshold score.Decimal
	if err := json.Unmarshal(in.Threshold, &threshold); err != nil {
		server.WriteError(w, r, fault.Invalidf("threshold", "%v", err))
		return
	}
	t, err := a.Scores.AddTrigger(r.Context(), id.Actor, sid, threshold)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toTriggerJSON(t))
}

func (a *API) deleteScoreTrigger(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	tid, perr := strconv.ParseInt(r.PathValue("trigger"), 10, 64)
	if perr != nil || tid <= 0 {
		server.WriteError(w, r, fault.Notf("trigger not found"))
		return
	}
	if err := a.Scores.DeleteTrigger(r.Context(), id.Actor, sid, tid); err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) contactScores(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	list, err := a.Scores.ForContact(r.Context(), id.Actor, cid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	type pointJSON struct {
		At    time.Time     `json:"at"`
		Value score.Decimal `json:"value"`
	}
	type valueJSON struct {
		ID      int64         `json:"id"`
		Name    string        `json:"name"`
		Value   score.Decimal `json:"value"`
		History []pointJSON   `json:"history"`
	}
	out := make([]valueJSON, len(list))
	for i, c := range list {
		v := valueJSON{ID: c.ScoreID, Name: c.Name, Value: c.Value, History: make([]pointJSON, len(c.History))}
		for j, p := range c.History {
			v.History[j] = pointJSON{At: p.At.UTC(), Value: p.Value}
		}
		out[i] = v
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"scores": out})
}

// writeSettings completes the settings shape with the score settings.
func (a *API) writeSettings(w http.ResponseWriter, r *http.Request, id auth.Identity, out settingsJSON) {
	if a.Scores != nil {
		h, err := a.Scores.IntervalHours(r.Context(), id.Actor)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		out.ScoreIntervalHours = h
	}
	server.WriteJSON(w, http.StatusOK, out)
}

// checkScoreSettings refuses a bad score setting before anything changes.
func checkScoreSettings(in settingsPatchJSON) error {
	if in.ScoreIntervalHours == nil {
		return nil
	}
	return score.CheckIntervalHours(*in.ScoreIntervalHours)
}

func (a *API) updateScoreSettings(r *http.Request, id auth.Identity, in settingsPatchJSON) error {
	if in.ScoreIntervalHours == nil || a.Scores == nil {
		return nil
	}
	return a.Scores.SetIntervalHours(r.Context(), id.Actor, *in.ScoreIntervalHours)
}

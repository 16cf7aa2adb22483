package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/score"
	"envoi/internal/server"
)

// Score pages (SPEC §5, issue 6): the list of scores with the calculation
// (launch, live progress, schedule), the page of a score — its form, whose
// conditions each hold a criteria builder (static/segments.js, driven by
// static/scores.js), its distribution and its triggers — and the scores on
// a contact's record with their trend. The domain is package score's;
// these handlers translate between forms and it.

// scoreBuckets is the number of bars of a score's distribution.
const scoreBuckets = 10

// ---- Decimals ------------------------------------------------------------------

// decimalText shows an exact decimal in the page's language, with
// thousands separators: fr "1 234,5", en "1,234.5".
func decimalText(p *i18n.Printer, d score.Decimal) string {
	s := d.String()
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = "-", rest
	}
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return d.String()
	}
	out := sign + p.Int(n)
	if frac != "" {
		out += decimalPoint(p) + frac
	}
	return out
}

// decimalInput is a decimal as a person types it in the page's language:
// fr "1,25", en "1.25" (no thousands separator).
func decimalInput(p *i18n.Printer, d score.Decimal) string {
	if decimalPoint(p) == "," {
		return d.Comma()
	}
	return d.String()
}

func decimalPoint(p *i18n.Printer) string {
	if p.Lang() == i18n.French {
		return ","
	}
	return "."
}

// ---- The list ------------------------------------------------------------------

// scoreRow is one line of the score list.
type scoreRow struct {
	score.Score
	Computed time.Time // when a calculation last computed it; zero: never
}

// scoresView is the score list with the calculation.
type scoresView struct {
	contactBase
	Scores   []scoreRow
	Run      *runStatus // the last or current calculation; nil: none yet
	Schedule score.Schedule
	Interval string // the interval form's number, in Unit
	Unit     string // hours | days
}

// CanLaunch says whether the person may launch a calculation.
func (v *scoresView) CanLaunch() bool { return v.Can("contacts", "approver") }

// CanSetInterval says whether the person may change the interval.
func (v *scoresView) CanSetInterval() bool { return v.Can("settings", "approver") }

// Running says whether a calculation is queued or running.
func (v *scoresView) Running() bool { return v.Run != nil && v.Run.Active }

// Every is "every 24 hours" / "every 2 days".
func (v *scoresView) Every() string { return everyText(v.View, v.Schedule.IntervalHours) }

// NextText says when the next automatic calculation runs.
func (v *scoresView) NextText() string {
	if v.Schedule.Next.IsZero() {
		return v.T("scoring.schedule.none")
	}
	return v.P.T("scoring.schedule.next", map[string]any{"When": v.When(v.Schedule.Next), "Every": v.Every(),
		"Manual": v.When(v.Schedule.LastManual)})
}

func everyText(v *View, hours int) string {
	if hours%24 == 0 {
		return v.P.T("scoring.every_days", map[string]any{"Count": hours / 24, "N": hours / 24})
	}
	return v.P.T("scoring.every_hours", map[string]any{"Count": hours, "N": hours})
}

// runStatus is a calculation as the list shows it, and as its status
// endpoint answers (static/scores.js updates the list with it).
type runStatus struct {
	ID          int64  `json:"id"`
	State       string `json:"state"`
	Label       string `json:"label"` // the translated state
	Active      bool   `json:"active"`
	Percent     int    `json:"percent"`
	PercentText string `json:"percent_text"`
	Detail      string `json:"detail"` // started, finished, values changed
	Warnings    string `json:"warnings,omitempty"`
	Error       string `json:"error,omitempty"`
}

func newRunStatus(v *View, r score.Run) runStatus {
	s := runStatus{ID: r.ID, State: r.State, Label: v.T("scoring.run.state." + r.State), Active: !r.Finished(),
		Percent: int(r.Progress() * 100), PercentText: v.P.Percent(r.Progress()), Warnings: r.Warnings, Error: r.LastError}
	origin := v.T("scoring.run.origin." + r.Origin)
	switch {
	case r.State == "done":
		s.Detail = v.P.T("scoring.run.done_detail", map[string]any{"Origin": origin, "When": v.When(r.FinishedAt),
			"Count": r.Changed, "N": v.P.Int(r.Changed)})
	case !r.StartedAt.IsZero():
		s.Detail = v.P.T("scoring.run.started_detail", map[string]any{"Origin": origin, "When": v.When(r.StartedAt)})
	default:
		s.Detail = v.P.T("scoring.run.queued_detail", map[string]any{"Origin": origin, "When": v.When(r.CreatedAt)})
	}
	return s
}

func (w *Web) scoresPage(rw http.ResponseWriter, r *http.Request, v *View) {
	switch done := r.URL.Query().Get("done"); done {
	case "deleted", "launched", "interval":
		v.Notice = v.T("scoring.done." + done)
	}
	w.renderScores(rw, r, v, http.StatusOK, "")
}

// renderScores shows the list; interval is a refused interval to show
// again ("" shows the account's).
func (w *Web) renderScores(rw http.ResponseWriter, r *http.Request, v *View, status int, interval string) {
	ctx, by := r.Context(), v.ID.Actor
	list, err := w.Scores.List(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	done, hasDone, err := w.Scores.LastDoneRun(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page := &scoresView{contactBase: contactBase{View: v, Sub: "scores"}}
	for _, sc := range list {
		row := scoreRow{Score: sc}
		if hasDone && done.Computed(sc) {
			row.Computed = done.FinishedAt
		}
		page.Scores = append(page.Scores, row)
	}
	last, ok, err := w.Scores.LastRun(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	if ok {
		s := newRunStatus(v, last)
		page.Run = &s
	}
	if page.Schedule, err = w.Scores.Schedule(ctx, by); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page.Interval, page.Unit = strconv.Itoa(page.Schedule.IntervalHours), "hours"
	if page.Schedule.IntervalHours%24 == 0 {
		page.Interval, page.Unit = strconv.Itoa(page.Schedule.IntervalHours/24), "days"
	}
	if interval != "" {
		page.Interval, page.Unit = interval, r.PostFormValue("unit")
	}
	v.Title = v.T("scoring.title")
	w.render(rw, r, status, "scores", page)
}

// scoresFormError shows the list with an error about an action of the
// list (a launch refused while one runs, a delete refused…).
func (w *Web) scoresFormError(rw http.ResponseWriter, r *http.Request, v *View, err error, interval string) {
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	v.Error, v.Field = v.Message(err), f.Field
	w.renderScores(rw, r, v, server.Status(f.Kind), interval)
}

// launchScores starts a calculation (contacts approver); while one runs
// the service refuses with its message, shown on the list.
func (w *Web) launchScores(rw http.ResponseWriter, r *http.Request, v *View) {
	if _, err := w.Scores.Launch(r.Context(), v.ID.Actor); err != nil {
		w.scoresFormError(rw, r, v, err, "")
		return
	}
	http.Redirect(rw, r, "/contacts/scores?done=launched", http.StatusSeeOther)
}

// setScoreInterval changes how often scores are recalculated (settings
// approver): a number of hours or days.
func (w *Web) setScoreInterval(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	raw := strings.TrimSpace(r.PostFormValue("interval"))
	n, err := strconv.Atoi(raw)
	hours := n
	if r.PostFormValue("unit") == "days" {
		hours = n * 24
	}
	if err != nil || n <= 0 || hours > score.MaxIntervalHours {
		err = fault.Invalidf("score_interval_hours", "must be between 1 hour and 30 days").WithKey("scores.interval_range")
	} else {
		err = w.Scores.SetIntervalHours(r.Context(), v.ID.Actor, hours)
	}
	switch {
	case err != nil && !v.Can("contacts", "guest"):
		// A settings approver who may not see the scores: the error alone.
		w.failPage(rw, r, v, err)
	case err != nil:
		if raw == "" {
			raw = " " // show the empty field again, not the account's value
		}
		w.scoresFormError(rw, r, v, err, raw)
	case v.Can("contacts", "guest"):
		http.Redirect(rw, r, "/contacts/scores?done=interval", http.StatusSeeOther)
	default:
		http.Redirect(rw, r, "/", http.StatusSeeOther)
	}
}

// deleteScores deletes the ticked scores, all or none.
func (w *Web) deleteScores(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	var ids []int64
	for _, s := range r.PostForm["ids"] {
		if id, ok := positiveID(s); ok {
			ids = append(ids, id)
		}
	}
	_, err := w.Scores.Delete(r.Context(), v.ID.Actor, ids...)
	if fault.KindOf(err) == fault.Invalid && len(ids) == 0 {
		err = fault.Invalidf("ids", "tick at least one score").WithKey("scoring.none_ticked")
	}
	if err != nil {
		w.scoresFormError(rw, r, v, err, "")
		return
	}
	http.Redirect(rw, r, "/contacts/scores?done=deleted", http.StatusSeeOther)
}

// scoreRunStatus answers a calculation's state as JSON for the live
// progress bar of the list.
func (w *Web) scoreRunStatus(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "calculation")
	if err == nil {
		var run score.Run
		if run, err = w.Scores.GetRun(r.Context(), v.ID.Actor, id); err == nil {
			server.WriteJSON(rw, http.StatusOK, newRunStatus(v, run))
			return
		}
	}
	server.WriteJSON(rw, server.Status(fault.KindOf(err)), map[string]string{"error": v.Message(err)})
}

// ---- One score -------------------------------------------------------------------

// conditionForm is one condition of the score form, as shown or as posted.
type conditionForm struct {
	*View
	Key       string // what its element ids end with: its position, or __N__ in the template of a new one
	Number    int    // its position from 1
	ID        string // the condition's id; "" for a new one
	Mode      string
	Value     string
	Coef      string
	Criterion string
	Editable  bool
	Error     string // what is wrong with it, after a refused save
	Member    string // which part the error is about: mode, value, coefficient, criterion
	Path      string // where in the criterion (the builder outlines it)
}

// ModeOptions are the modes in the editor's order.
func (c conditionForm) ModeOptions() []option {
	out := make([]option, len(score.Modes))
	for i, m := range score.Modes {
		out[i] = option{Value: string(m), Label: c.T("scoring.mode." + string(m)), Selected: string(m) == c.Mode}
	}
	return out
}

// HelpFor explains a mode (scores.js shows the one chosen).
func (c conditionForm) HelpFor(mode string) string {
	switch score.Mode(mode) {
	case score.Fixed, score.PerEvent, score.FieldValue:
		return c.T("scoring.mode_help." + mode)
	}
	return ""
}

// IsFieldValue says whether the condition adds a field's value.
func (c conditionForm) IsFieldValue() bool { return c.Mode == string(score.FieldValue) }

// scoreView is the page of one score, or of a new one.
type scoreView struct {
	contactBase
	Score        score.Score
	New          bool
	Version      int64
	Conflict     bool
	Name         string
	Desc         string
	Conditions   []conditionForm
	Blank        conditionForm // the template of a new condition (scores.js)
	Builder      builderData
	Computed     time.Time // when a calculation last computed it; zero: never
	Chart        *histogram
	Triggers     []triggerRow
	Threshold    string // a refused trigger threshold, shown again
	TriggerError string
}

// Editable says whether the form may be saved.
func (v *scoreView) Editable() bool { return v.Can("contacts", "editor") }

// PrefixHelp explains the [SCORE] prefix.
func (v *scoreView) PrefixHelp() string {
	return v.P.T("scoring.prefix_help", map[string]any{"Prefix": strings.TrimSpace(score.DefaultPrefix)})
}

// triggerRow is one trigger of a score.
type triggerRow struct {
	score.Trigger
	Sentence string
	Fired    string
}

// scorePageView builds a score page's model: the form, and for an
// existing score its distribution and triggers.
func (w *Web) scorePageView(r *http.Request, v *View, sc score.Score, isNew bool) (*scoreView, error) {
	editable := v.Can("contacts", "editor")
	b, err := w.builder(r, v, 0, 0, !editable)
	if err != nil {
		return nil, err
	}
	// A score's condition cannot test the score itself.
	kept := b.Scores[:0:0]
	for _, c := range b.Scores {
		if c.Value != strconv.FormatInt(sc.ID, 10) {
			kept = append(kept, c)
		}
	}
	b.Scores = kept
	page := &scoreView{contactBase: contactBase{View: v, Sub: "scores"}, Score: sc, New: isNew, Version: sc.Version,
		Name: sc.Name, Desc: sc.Description, Builder: b}
	page.Blank = conditionForm{View: v, Key: "__N__", Mode: string(score.Fixed), Criterion: emptyCriteria, Editable: editable}
	if isNew {
		page.Name = score.DefaultPrefix
		page.Conditions = []conditionForm{page.Blank}
		page.Conditions[0].Value = "1"
		v.Title = v.T("scoring.new_title")
	} else {
		for _, c := range sc.Conditions {
			f := conditionForm{View: v, ID: strconv.FormatInt(c.ID, 10), Mode: string(c.Mode), Criterion: prettyCriteria(c.Criterion), Editable: editable}
			if c.Mode == score.FieldValue {
				f.Coef = decimalInput(v.P, c.Coefficient)
			} else {
				f.Value = decimalInput(v.P, c.Value)
			}
			page.Conditions = append(page.Conditions, f)
		}
		v.Title = sc.Name
		if err := w.scoreDetails(r, v, page); err != nil {
			return nil, err
		}
	}
	number(page.Conditions)
	return page, nil
}

// number gives the conditions their keys and numbers in order.
func number(conds []conditionForm) {
	for i := range conds {
		conds[i].Key, conds[i].Number = strconv.Itoa(i), i+1
	}
}

// scoreDetails adds what an existing score shows under its form: when it
// was last computed, its distribution and its triggers.
func (w *Web) scoreDetails(r *http.Request, v *View, page *scoreView) error {
	ctx, by, id := r.Context(), v.ID.Actor, page.Score.ID
	done, ok, err := w.Scores.LastDoneRun(ctx, by)
	if err != nil {
		return err
	}
	if ok && done.Computed(page.Score) {
		page.Computed = done.FinishedAt
	}
	d, err := w.Scores.Distribution(ctx, by, id, scoreBuckets)
	if err != nil {
		return err
	}
	page.Chart = newHistogram(v, d)
	triggers, err := w.Scores.Triggers(ctx, by, id)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		page.Triggers = append(page.Triggers, triggerRow{Trigger: t,
			Sentence: v.P.T("scoring.trigger.sentence", map[string]any{"Name": page.Score.Name, "Threshold": decimalText(v.P, t.Threshold)}),
			Fired:    v.P.T("scoring.trigger.fired", map[string]any{"Count": t.Fired, "N": v.P.Int(t.Fired)})})
	}
	return nil
}

func (w *Web) newScorePage(rw http.ResponseWriter, r *http.Request, v *View) {
	page, err := w.scorePageView(r, v, score.Score{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	w.render(rw, r, http.StatusOK, "score", page)
}

func (w *Web) scorePage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	sc, err := w.Scores.Get(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, err := w.scorePageView(r, v, sc, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved", "duplicated", "trigger_added", "trigger_deleted":
		v.Notice = v.T("scoring.done." + done)
	}
	w.render(rw, r, http.StatusOK, "score", page)
}

// postedConditions reads the conditions of the score form: each condition
// posts its five inputs, in order.
func postedConditions(r *http.Request, v *View, editable bool) []conditionForm {
	f := r.PostForm
	at := func(name string, i int) string {
		if i < len(f[name]) {
			return f[name][i]
		}
		return ""
	}
	var out []conditionForm
	for i := range f["cond_mode"] {
		out = append(out, conditionForm{View: v, ID: strings.TrimSpace(at("cond_id", i)), Mode: at("cond_mode", i),
			Value: at("cond_value", i), Coef: at("cond_coef", i), Criterion: at("cond_criterion", i), Editable: editable})
	}
	return out
}

// singleRoot takes a criterion out of a root group of one: the builder
// always draws a group, while per-event and field-value conditions need
// the event or field criterion itself. {"all": [X]} and {"any": [X]} mean
// X. It returns the path of X in the posted tree ("all[0]"), to place the
// service's errors back in the builder.
func singleRoot(raw string) (string, string) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &root); err != nil || len(root) != 1 {
		return raw, ""
	}
	for _, group := range []string{"all", "any"} {
		if items, ok := root[group]; ok {
			var list []json.RawMessage
			if err := json.Unmarshal(items, &list); err == nil && len(list) == 1 {
				return string(list[0]), group + "[0]"
			}
		}
	}
	return raw, ""
}

// scoreInput turns the form into the service's input; inner holds, per
// condition, where its criterion sits in the posted tree.
func scoreInput(r *http.Request, conds []conditionForm) (score.Input, []string) {
	name, desc := r.PostFormValue("name"), r.PostFormValue("description")
	in := score.Input{Name: &name, Description: &desc, Conditions: []score.ConditionInput{}}
	inner := make([]string, len(conds))
	for i, c := range conds {
		crit, at := singleRoot(c.Criterion)
		inner[i] = at
		ci := score.ConditionInput{Mode: c.Mode, Criterion: json.RawMessage(crit)}
		if id, ok := positiveID(c.ID); ok {
			ci.ID = id
		}
		// Only the number the mode uses is sent: both inputs are on the
		// form when JavaScript is off.
		if c.Mode == string(score.FieldValue) {
			if s := strings.TrimSpace(c.Coef); s != "" {
				ci.Coefficient = jsonString(s)
			}
		} else if s := strings.TrimSpace(c.Value); s != "" {
			ci.Value = jsonString(s)
		}
		in.Conditions = append(in.Conditions, ci)
	}
	return in, inner
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// conditionField reads a service error's field about a condition:
// "conditions[1].criterion.all[0]" → 1, "criterion", "all[0]".
var conditionField = regexp.MustCompile(`^conditions\[(\d+)\](?:\.([a-z_]+))?(?:\.(.+))?$`)

// scoreFormError shows the score form again with what was posted and the
// error: next to its condition when it is about one (the builder outlines
// the place in the criterion), else at the top.
func (w *Web) scoreFormError(rw http.ResponseWriter, r *http.Request, page *scoreView, conds []conditionForm, inner []string, err error) {
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, page.View, err)
		return
	}
	v := page.View
	page.Conflict = f.Kind == fault.Conflict
	page.Name, page.Desc = r.PostFormValue("name"), r.PostFormValue("description")
	if n, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64); err == nil {
		page.Version = n
	}
	page.Conditions = conds
	number(page.Conditions)
	v.Error, v.Field = v.Message(err), f.Field
	if m := conditionField.FindStringSubmatch(f.Field); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(conds) {
			c := &page.Conditions[i]
			c.Member = m[2]
			c.Error = conditionMessage(v, f, c, m[3])
			if c.Member == "criterion" {
				c.Path = joinPath(inner[i], m[3])
			}
			v.Error = v.P.T("scoring.error.condition", map[string]any{"N": i + 1})
		}
	}
	w.render(rw, r, server.Status(f.Kind), "score", page)
}

// joinPath is the builder's path of an error: where the criterion sits in
// the posted tree, then where in the criterion; "criteria" is the root.
func joinPath(at, rest string) string {
	switch {
	case at != "" && rest != "":
		return at + "." + rest
	case at != "":
		return at
	case rest != "":
		return rest
	}
	return "criteria"
}

// conditionMessage is a condition's error for people: the service's
// located rules in the page's language, else its message (the criteria
// engine's messages are English, as on the segment pages).
func conditionMessage(v *View, f *fault.Error, c *conditionForm, rest string) string {
	if f.Key != "" && v.T(f.Key) != f.Key {
		return v.Message(f)
	}
	switch c.Member {
	case "mode":
		return v.T("scoring.error.mode")
	case "value":
		if strings.TrimSpace(c.Value) == "" {
			return v.T("scoring.error.value_required")
		}
		return v.P.T("scoring.error.value", map[string]any{"Value": strings.TrimSpace(c.Value)})
	case "coefficient":
		return v.P.T("scoring.error.coefficient", map[string]any{"Value": strings.TrimSpace(c.Coef)})
	case "criterion":
		if rest == "" && (f.Key == score.KeyPerEventCriterion || f.Key == score.KeyFieldValueCriterion) {
			return v.T(f.Key)
		}
	}
	return f.Message
}

// scoreFormAction handles the form's own buttons: add a condition, remove
// one (without JavaScript, scores.js does both in the page). It reports
// whether the request was one of them.
func (w *Web) scoreFormAction(rw http.ResponseWriter, r *http.Request, page *scoreView, conds []conditionForm) bool {
	op := r.PostFormValue("op")
	switch {
	case op == "add":
		conds = append(conds, page.Blank)
	case strings.HasPrefix(op, "remove:"):
		i, err := strconv.Atoi(strings.TrimPrefix(op, "remove:"))
		if err != nil || i < 0 || i >= len(conds) {
			return false
		}
		conds = append(conds[:i], conds[i+1:]...)
	default:
		return false
	}
	page.Name, page.Desc = r.PostFormValue("name"), r.PostFormValue("description")
	if n, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64); err == nil {
		page.Version = n
	}
	page.Conditions = conds
	number(page.Conditions)
	w.render(rw, r, http.StatusOK, "score", page)
	return true
}

func (w *Web) createScore(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	page, err := w.scorePageView(r, v, score.Score{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	conds := postedConditions(r, v, true)
	if w.scoreFormAction(rw, r, page, conds) {
		return
	}
	in, inner := scoreInput(r, conds)
	sc, err := w.Scores.Create(r.Context(), v.ID.Actor, in)
	if err != nil {
		w.scoreFormError(rw, r, page, conds, inner, err)
		return
	}
	http.Redirect(rw, r, scorePath(sc.ID)+"?done=created", http.StatusSeeOther)
}

func (w *Web) saveScore(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	cur, err := w.Scores.Get(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	r.ParseForm()
	page, err := w.scorePageView(r, v, cur, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	conds := postedConditions(r, v, true)
	if w.scoreFormAction(rw, r, page, conds) {
		return
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in, inner := scoreInput(r, conds)
	if _, err := w.Scores.Update(ctx, by, id, version, in); err != nil {
		w.scoreFormError(rw, r, page, conds, inner, err)
		return
	}
	http.Redirect(rw, r, scorePath(id)+"?done=saved", http.StatusSeeOther)
}

func (w *Web) duplicateScore(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	sc, err := w.Scores.Duplicate(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, scorePath(sc.ID)+"?done=duplicated", http.StatusSeeOther)
}

// deleteScore deletes one score; a refusal (a segment, a persona or
// another score refers to it) shows the score's page with the reason.
func (w *Web) deleteScore(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	_, err = w.Scores.Delete(ctx, by, id)
	if err == nil {
		http.Redirect(rw, r, "/contacts/scores?done=deleted", http.StatusSeeOther)
		return
	}
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	w.showScore(rw, r, v, id, server.Status(f.Kind), func(page *scoreView) { v.Error = v.Message(err) })
}

// showScore renders a score's page after a refused action of its page;
// edit sets what the page shows of the refusal.
func (w *Web) showScore(rw http.ResponseWriter, r *http.Request, v *View, id int64, status int, edit func(*scoreView)) {
	cur, err := w.Scores.Get(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, err := w.scorePageView(r, v, cur, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	edit(page)
	w.render(rw, r, status, "score", page)
}

// addScoreTrigger adds "when the score becomes ≥ N".
func (w *Web) addScoreTrigger(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	raw := strings.TrimSpace(r.PostFormValue("threshold"))
	threshold, perr := score.ParseDecimal(raw)
	if raw == "" || perr != nil {
		err = fault.Invalidf("threshold", "%s", "not a number").WithKey("scoring.error.threshold").WithArgs(map[string]any{"Value": raw})
	} else {
		_, err = w.Scores.AddTrigger(r.Context(), v.ID.Actor, id, threshold)
	}
	if err == nil {
		http.Redirect(rw, r, scorePath(id)+"?done=trigger_added#triggers", http.StatusSeeOther)
		return
	}
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	w.showScore(rw, r, v, id, server.Status(f.Kind), func(page *scoreView) {
		page.Threshold, page.TriggerError = raw, v.Message(err)
	})
}

func (w *Web) deleteScoreTrigger(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "score")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	tid, ok := positiveID(r.PathValue("trigger"))
	if !ok {
		w.failPage(rw, r, v, fault.Notf("trigger not found").WithKey("scores.trigger_not_found"))
		return
	}
	if err := w.Scores.DeleteTrigger(r.Context(), v.ID.Actor, id, tid); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, scorePath(id)+"?done=trigger_deleted#triggers", http.StatusSeeOther)
}

func scorePath(id int64) string { return "/contacts/scores/" + strconv.FormatInt(id, 10) }

// ---- The distribution chart ----------------------------------------------------------

// histogram is a score's distribution drawn as SVG bars (server-side, no
// script), with the same figures as a table.
type histogram struct {
	Width, Height, Base int // the drawing, and the y of the bars' base
	Bars                []histogramBar
	Summary             string
	Empty               bool // no contact yet
}

type histogramBar struct {
	X, Y, W, H  int
	LabelX      int
	CountY      int
	From, Range string
	Count       int64
	CountText   string
	HasContacts bool
}

const (
	histWidth  = 640
	histBars   = 180 // the height of the tallest bar
	histTop    = 18  // room for the counts above the bars
	histLabels = 22  // room for the labels under the bars
)

func newHistogram(v *View, d score.Distribution) *histogram {
	h := &histogram{Width: histWidth, Height: histTop + histBars + histLabels, Base: histTop + histBars, Empty: d.Contacts == 0}
	h.Summary = v.P.T("scoring.chart.summary", map[string]any{"Count": d.Contacts, "N": v.P.Int(d.Contacts),
		"Min": decimalText(v.P, d.Min), "Max": decimalText(v.P, d.Max)})
	n := len(d.Buckets)
	if n == 0 {
		return h
	}
	var most int64 = 1
	for _, b := range d.Buckets {
		most = max(most, b.Count)
	}
	slot := min(histWidth/n, histWidth/6) // a lone bar stays a bar, not a block
	gap := max(slot/8, 2)
	for i, b := range d.Buckets {
		height := int(b.Count * histBars / most)
		if b.Count > 0 && height < 2 {
			height = 2 // a bar of a few contacts stays visible
		}
		key := "scoring.chart.range"
		if i == n-1 {
			key = "scoring.chart.range_last"
		}
		bar := histogramBar{X: i*slot + gap/2, W: slot - gap, H: height, Y: h.Base - height, LabelX: i*slot + slot/2,
			From: decimalText(v.P, b.From), Count: b.Count, CountText: v.P.Int(b.Count), HasContacts: b.Count > 0,
			Range: v.P.T(key, map[string]any{"From": decimalText(v.P, b.From), "To": decimalText(v.P, b.To)})}
		bar.CountY = bar.Y - 4
		h.Bars = append(h.Bars, bar)
	}
	return h
}

// ---- On the contact record -------------------------------------------------------------

// contactScoresData is the scores section of a contact's record.
type contactScoresData struct {
	*View
	Scores []contactScoreRow
}

// contactScoreRow is one score of a contact, with its trend.
type contactScoreRow struct {
	ID      int64
	Name    string
	Value   string
	Raw     string // the value as in the API (1.25), for tests and scripts
	Trend   *trendLine
	Changes int
}

// trendLine is a small SVG line of a contact's values of a score over
// time.
type trendLine struct {
	Width, Height int
	Points        string // the polyline's points
	LastX, LastY  string
	Label         string // what the line says, for screen readers
}

const (
	trendWidth  = 160
	trendHeight = 36
	trendPad    = 4
)

// newTrend draws the values a score took for a contact, as steps up to
// now; nil when it never changed. The line starts at 0 — the value of a
// contact before its first change — unless the history is cut to its
// latest points.
func newTrend(v *View, c score.ContactScore, now time.Time) *trendLine {
	if len(c.History) == 0 {
		return nil
	}
	first, last := c.History[0], c.History[len(c.History)-1]
	prev := score.Decimal(0)
	if len(c.History) >= score.MaxHistory {
		prev = first.Value
	}
	from := prev
	end := now
	if last.At.After(end) {
		end = last.At
	}
	span := end.Sub(first.At)
	if span <= 0 {
		span = time.Hour
	}
	start := first.At.Add(-span / 10) // a lead-in, so the first change shows as a step
	type point struct {
		at time.Time
		v  score.Decimal
	}
	pts := []point{{start, prev}}
	for _, p := range c.History {
		pts = append(pts, point{p.At, prev}, point{p.At, p.Value})
		prev = p.Value
	}
	pts = append(pts, point{end, prev})
	lo, hi := pts[0].v, pts[0].v
	for _, p := range pts {
		lo, hi = min(lo, p.v), max(hi, p.v)
	}
	width, height := float64(trendWidth-2*trendPad), float64(trendHeight-2*trendPad)
	total := float64(end.Sub(start))
	var b strings.Builder
	var x, y float64
	for i, p := range pts {
		x = trendPad + width*float64(p.at.Sub(start))/total
		y = trendPad + height/2
		if hi != lo {
			y = trendPad + height*(1-float64(p.v-lo)/float64(hi-lo))
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	return &trendLine{Width: trendWidth, Height: trendHeight, Points: b.String(),
		LastX: strconv.FormatFloat(x, 'f', 1, 64), LastY: strconv.FormatFloat(y, 'f', 1, 64),
		Label: v.P.T("scoring.contact.trend", map[string]any{"Count": len(c.History), "N": len(c.History),
			"From": decimalText(v.P, from), "Since": v.P.Date(first.At.In(v.location())), "To": decimalText(v.P, c.Value)})}
}

// contactScoresSection renders a contact's scores with their trend for
// its record ("" when the account has no score).
func (w *Web) contactScoresSection(r *http.Request, v *View, id contact.ID) (template.HTML, error) {
	list, err := w.Scores.ForContact(r.Context(), v.ID.Actor, int64(id))
	if err != nil || len(list) == 0 {
		return "", err
	}
	data := contactScoresData{View: v}
	for _, c := range list {
		data.Scores = append(data.Scores, contactScoreRow{ID: c.ScoreID, Name: c.Name, Value: decimalText(v.P, c.Value), Raw: c.Value.String(),
			Trend: newTrend(v, c, v.Now), Changes: len(c.History)})
	}
	var buf bytes.Buffer
	if err := w.pages["score"].ExecuteTemplate(&buf, "contact_scores", data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

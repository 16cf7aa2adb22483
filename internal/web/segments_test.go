package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
	"envoi/internal/segment"
)

func (e *env) segments() *segment.Service { return &segment.Service{DB: e.db, Now: time.Now} }

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	ctx, by, svc := context.Background(), owner(acc), e.segments()
	var segs [2]segment.Segment
	var pers [2]segment.Persona
	for i := range 2 {
		s, err := svc.Create(ctx, by, segment.Input{Name: fmt.Sprintf("Fixture %d", i), Criteria: json.RawMessage(`{"all": []}`)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.CreatePersona(ctx, by, segment.PersonaInput{Name: fmt.Sprintf("Fixture %d", i), Criteria: json.RawMessage(`{"all": []}`)})
		if err != nil {
			t.Fatal(err)
		}
		segs[i], pers[i] = s, p
	}
	if err := svc.SetPicture(ctx, by, pers[0].ID, "image/png", pngPicture(t)); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/segments/{id}":            fmt.Sprintf("/contacts/segments/%d", segs[0].ID),
		"POST /contacts/segments/{id}/edit":      fmt.Sprintf("/contacts/segments/%d/edit", segs[0].ID),
		"POST /contacts/segments/{id}/duplicate": fmt.Sprintf("/contacts/segments/%d/duplicate", segs[0].ID),
		"POST /contacts/segments/{id}/delete":    fmt.Sprintf("/contacts/segments/%d/delete", segs[1].ID),
		"GET /contacts/segments/{id}/contacts":   fmt.Sprintf("/contacts/segments/%d/contacts", segs[0].ID),
		"GET /contacts/personas/{id}":            fmt.Sprintf("/contacts/personas/%d", pers[0].ID),
		"GET /contacts/personas/{id}/picture":    fmt.Sprintf("/contacts/personas/%d/picture", pers[0].ID),
		"POST /contacts/personas/{id}/edit":      fmt.Sprintf("/contacts/personas/%d/edit", pers[0].ID),
		"POST /contacts/personas/{id}/delete":    fmt.Sprintf("/contacts/personas/%d/delete", pers[1].ID),
	}
})

// pngPicture is a small real PNG image.
func pngPicture(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// townsfolk are the contacts the segment tests count: three in Lyon (one
// at Acme), one in Paris.
func (e *env) townsfolk(acc account.Account) map[string]contact.Contact {
	e.t.Helper()
	out := map[string]contact.Contact{}
	for _, p := range []struct{ email, first, city, company string }{
		{"anne@example.com", "Anne", "Lyon", ""},
		{"bruno@example.com", "Bruno", "Lyon", "Acme"},
		{"chloe@example.com", "Chloé", "lyon", ""},
		{"david@example.com", "David", "Paris", "Acme"},
	} {
		email, first, city, company := p.email, p.first, p.city, p.company
		c, err := e.contacts().Create(context.Background(), owner(acc), contact.Input{Email: &email, FirstName: &first, City: &city, Company: &company})
		if err != nil {
			e.t.Fatal(err)
		}
		out[first] = c
	}
	return out
}

// postJSON sends a JSON body as the builder's fetch does.
func (e *env) postJSON(c *http.Client, path, body string) (int, string) {
	e.t.Helper()
	resp, err := c.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var textareaRe = regexp.MustCompile(`(?s)<textarea id="criteria-json"[^>]*>(.*?)</textarea>`)

// criteriaOf is the criteria JSON a segment or persona page holds.
func criteriaOf(t *testing.T, body string) string {
	t.Helper()
	m := textareaRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no criteria textarea in\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// untranslated finds a catalogue key shown instead of its text.
var untranslated = regexp.MustCompile(`[>"](segments|personas|criteria)\.[a-z_]+(\.[a-z_]+)*[<"]`)

var builderRe = regexp.MustCompile(`(?s)<script type="application/json" id="builder-data">(.*?)</script>`)

func TestSegmentListEmptyStateInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		for _, tt := range []struct{ lang, what, create string }{
			{"en", "A segment gathers the contacts that meet your criteria", "Create a segment"},
			{"fr", "Un segment regroupe les contacts qui remplissent vos critères", "Créer un segment"},
		} {
			acc := e.account("Acme "+tt.lang, tt.lang+"@example.com", tt.lang)
			c := e.login(tt.lang + "@example.com")
			status, body, _ := e.get(c, "/contacts/segments")
			if status != 200 || !strings.Contains(body, `id="segments-empty"`) || !strings.Contains(body, tt.what) ||
				!strings.Contains(body, tt.create) || !strings.Contains(body, `href="/contacts/segments/new"`) {
				t.Fatalf("%s empty segment list: %d\n%s", tt.lang, status, body)
			}
			if k := untranslated.FindString(body); k != "" {
				t.Errorf("%s: the untranslated key %s shows", tt.lang, k)
			}
			if !strings.Contains(body, `data-sub="segments" aria-current="page"`) || !strings.Contains(body, `data-sub="personas"`) {
				t.Errorf("%s: the Contacts sub-navigation lacks Segments or Personas", tt.lang)
			}
			// A guest reads the explanation but is not offered to create.
			guest := e.session(e.member(acc, "guest-"+tt.lang+"@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
			_, body, _ = e.get(guest, "/contacts/segments")
			if !strings.Contains(body, `id="segments-empty"`) || strings.Contains(body, `href="/contacts/segments/new"`) {
				t.Errorf("%s: a guest is offered to create a segment", tt.lang)
			}
		}
	})
}

func TestSegmentCreatedThroughTheFormIsListedWithItsCount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		people := e.townsfolk(acc)
		c := e.login("owner@example.com")

		// The new-segment page: the builder's vocabulary in French, every
		// label translated, and the count of everyone.
		status, body, _ := e.get(c, "/contacts/segments/new")
		if status != 200 || criteriaOf(t, body) != `{"all": []}` || !strings.Contains(body, `id="live-count-value">4 contacts<`) {
			t.Fatalf("new segment page: %d\n%s", status, body)
		}
		m := builderRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no builder data on the page")
		}
		var voc struct {
			Fields []struct{ Key, Label, Type string }
			Groups []struct {
				Label  string
				Fields []string
			}
			Operators map[string][]struct{ Op, Label, Value string }
			Events    []struct{ Type, Label string }
			Labels    map[string]string
			Lang      string
		}
		if err := json.Unmarshal([]byte(m[1]), &voc); err != nil {
			t.Fatalf("builder data is not JSON: %v\n%s", err, m[1])
		}
		labels := map[string]string{}
		for _, f := range voc.Fields {
			labels["field "+f.Key] = f.Label
		}
		for typ, ops := range voc.Operators {
			for _, o := range ops {
				labels["op "+typ+"."+o.Op] = o.Label
			}
		}
		for _, ev := range voc.Events {
			labels["event "+ev.Type] = ev.Label
		}
		for k, l := range voc.Labels {
			labels["word "+k] = l
		}
		for _, g := range voc.Groups {
			labels["group "+g.Label] = g.Label
		}
		for what, l := range labels {
			if l == "" || strings.HasPrefix(l, "criteria.") || strings.HasPrefix(l, "segments.") || strings.HasPrefix(l, "contacts.") {
				t.Errorf("%s is shown as %q", what, l)
			}
		}
		for what, want := range map[string]string{
			"field city": "Ville", "op text.starts_with": "commence par", "op date.last_days": "dans les N derniers jours",
			"op date.anniversary_days": "anniversaire dans les N jours", "op text.ne": "n’est pas", "op date.eq": "est le",
			"event purchase": "A effectué un achat", "word any": "l’une de ces conditions (OU)",
		} {
			if labels[what] != want {
				t.Errorf("%s = %q, want %q", what, labels[what], want)
			}
		}
		if voc.Lang != "fr" || len(voc.Groups) == 0 || voc.Groups[0].Label != "Champs du contact · Texte" {
			t.Errorf("lang %q, groups %+v", voc.Lang, voc.Groups)
		}

		criteria := `{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`
		status, body, h := e.post(c, "/contacts/segments", url.Values{"name": {"Lyonnais"}, "description": {"Habitent Lyon"}, "criteria": {criteria}})
		page := strings.Split(location(t, status, h, body, "/contacts/segments/"), "?")[0]

		status, body, _ = e.get(c, page+"?done=created")
		if status != 200 || !strings.Contains(body, "Le segment a été créé.") || !strings.Contains(body, `id="live-count-value">3 contacts<`) ||
			!strings.Contains(criteriaOf(t, body), `"value": "Lyon"`) {
			t.Fatalf("segment page: %d\n%s", status, body)
		}
		if !strings.Contains(body, `href="`+page+`/contacts"`) || !strings.Contains(body, `id="duplicate-segment"`) || !strings.Contains(body, `id="delete-segment"`) {
			t.Error("the segment page lacks its actions")
		}

		status, body, _ = e.get(c, "/contacts/segments")
		row := regexp.MustCompile(`(?s)<tr data-segment="\d+">.*?</tr>`).FindString(body)
		if status != 200 || !strings.Contains(row, "Lyonnais") || !strings.Contains(row, "Habitent Lyon") || !strings.Contains(row, "3 contacts") ||
			!strings.Contains(row, "Owner") && !strings.Contains(row, "owner@example.com") {
			t.Fatalf("segment list row %q\n%s", row, body)
		}

		// Its contacts, with links to their records; Paris is not there.
		status, body, _ = e.get(c, page+"/contacts")
		for _, name := range []string{"Anne", "Bruno", "Chloé"} {
			if !strings.Contains(body, fmt.Sprintf(`href="/contacts/%d"`, people[name].ID)) {
				t.Errorf("the segment's contacts lack %s", name)
			}
		}
		if status != 200 || strings.Contains(body, fmt.Sprintf(`href="/contacts/%d"`, people["David"].ID)) {
			t.Errorf("segment contacts page: %d, David listed: %v", status, strings.Contains(body, "David"))
		}

		// Editing: the visual builder's JSON is saved, the count follows.
		id := strings.TrimPrefix(page, "/contacts/segments/")
		status, body, h = e.post(c, page+"/edit", url.Values{"version": {"1"}, "name": {"Lyonnais chez Acme"},
			"criteria": {`{"all": [{"field": "city", "op": "eq", "value": "Lyon"}, {"any": [{"field": "company", "op": "eq", "value": "Acme"}, {"field": "first_name", "op": "eq", "value": "Anne"}]}]}`}})
		location(t, status, h, body, page+"?done=saved")
		_, body, _ = e.get(c, "/contacts/segments")
		if !strings.Contains(body, "Lyonnais chez Acme") || !strings.Contains(body, `href="/contacts/segments/`+id+`/contacts">2 contacts<`) {
			t.Errorf("after the edit the list shows\n%s", body)
		}
	})
}

func TestSegmentFormShowsLocatedCriteriaErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "en")
		c := e.login("owner@example.com")
		for _, tt := range []struct{ criteria, want string }{
			{`{"all": [{"field": "city", "op": "eq", "value": "Lyon"}, {"any": [{"field": "citty", "op": "eq", "value": "x"}]}]}`, "all[1].any[0]: unknown field"},
			{`{"all": [{"field": "age", "op": "gte", "value": "douze"}]}`, "all[0]"},
			{`{"all": [`, "criteria"},
		} {
			status, body, _ := e.post(c, "/contacts/segments", url.Values{"name": {"Typo"}, "criteria": {tt.criteria}})
			if status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tt.want) || !strings.Contains(body, `role="alert" id="form-error"`) {
				t.Errorf("%s: %d, want the located error %q\n%s", tt.criteria, status, tt.want, body)
				continue
			}
			// What was typed is kept, and the textarea is marked.
			if got := criteriaOf(t, body); got != tt.criteria {
				t.Errorf("criteria shown again as %q, want %q", got, tt.criteria)
			}
			if !strings.Contains(body, `value="Typo"`) || !regexp.MustCompile(`<textarea id="criteria-json"[^>]*aria-invalid="true"`).MatchString(body) {
				t.Errorf("%s: the name is lost or the criteria are not marked invalid", tt.criteria)
			}
		}
		// A missing name names the name.
		status, body, _ := e.post(c, "/contacts/segments", url.Values{"criteria": {`{"all": []}`}})
		if status != http.StatusBadRequest || !strings.Contains(body, `id="segment-name" value="" required maxlength="200" aria-invalid="true"`) {
			t.Errorf("no name: %d\n%s", status, body)
		}
		if _, body, _ := e.get(c, "/contacts/segments"); !strings.Contains(body, `id="segments-empty"`) {
			t.Error("a refused segment was saved")
		}
	})
}

func TestLiveCountEndpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		e.townsfolk(acc)
		guest := e.session(e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
		type answer struct {
			Count *int64
			Text  string
			Error string
			Path  string
		}
		for _, tt := range []struct {
			body   string
			status int
			want   answer
		}{
			{`{"criteria": {"all": []}}`, 200, answer{Text: "4 contacts"}},
			{`{"criteria": {"all": [{"field": "city", "op": "eq", "value": "LYON"}]}}`, 200, answer{Text: "3 contacts"}},
			{`{"criteria": {"any": [{"field": "company", "op": "eq", "value": "Acme"}, {"field": "first_name", "op": "starts_with", "value": "an"}]}}`, 200, answer{Text: "3 contacts"}},
			{`{"criteria": {"all": [{"field": "city", "op": "eq", "value": "Lyon"}, {"not": {"field": "company", "op": "empty"}}]}}`, 200, answer{Text: "1 contact"}},
			{`{"criteria": {"all": [{"field": "city", "op": "eq", "value": "Nantes"}]}}`, 200, answer{Text: "0 contacts"}},
			{`{"criteria": {"all": [{"field": "citty", "op": "eq", "value": "Lyon"}]}}`, 400, answer{Error: "all[0]: unknown field", Path: "all[0]"}},
			{`{"criteria": {"all": [{"list": 999999}]}}`, 400, answer{Error: "all[0]", Path: "all[0]"}},
			{`{"criteria": {"all": [`, 400, answer{Error: "JSON"}},
		} {
			status, body := e.postJSON(guest, "/contacts/segments/count", tt.body)
			var got answer
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Errorf("%s: not JSON: %s", tt.body, body)
				continue
			}
			switch {
			case status != tt.status:
				t.Errorf("%s: status %d, want %d (%s)", tt.body, status, tt.status, body)
			case tt.want.Error == "" && (got.Count == nil || got.Text != tt.want.Text || got.Error != ""):
				t.Errorf("%s: %s, want %q", tt.body, body, tt.want.Text)
			case tt.want.Error != "" && (got.Count != nil || !strings.Contains(got.Error, tt.want.Error) || got.Path != tt.want.Path):
				t.Errorf("%s: %s, want error %q at %q", tt.body, body, tt.want.Error, tt.want.Path)
			}
		}
		// The count is in the page's language.
		fr := e.account("Beta", "beta@example.com", "fr")
		e.townsfolk(fr)
		c := e.login("beta@example.com")
		if _, body := e.postJSON(c, "/contacts/segments/count", `{"criteria": {"all": [{"field": "city", "op": "eq", "value": "Paris"}]}}`); !strings.Contains(body, `"text":"1 contact"`) {
			t.Errorf("French count: %s", body)
		}
		if _, body := e.postJSON(c, "/contacts/segments/count", `{"criteria": {"all": [{"field": "age", "op": "gte", "value": "1,5"}]}}`); !strings.Contains(body, `"count":0`) {
			t.Errorf("a French decimal comma is refused: %s", body)
		}
	})
}

// postPersona sends the persona form, with a picture when data is set.
func (e *env) postPersona(c *http.Client, path string, form url.Values, picture []byte) (int, string, http.Header) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if picture != nil {
		fw, _ := mw.CreateFormFile("picture", "portrait.png")
		fw.Write(picture)
	}
	mw.Close()
	resp, err := c.Post(e.srv.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestPersonaWithPictureShowsOnTheContactRecordAndTheDashboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		people := e.townsfolk(acc)
		c := e.login("owner@example.com")

		status, body, _ := e.get(c, "/contacts/personas")
		if status != 200 || !strings.Contains(body, `id="personas-empty"`) || !strings.Contains(body, "Create a persona") {
			t.Fatalf("empty personas page: %d\n%s", status, body)
		}
		_, body, _ = e.get(c, "/")
		if !strings.Contains(body, `id="persona-breakdown-empty"`) || strings.Contains(body, `id="persona-chart"`) {
			t.Errorf("the dashboard has no persona empty state\n%s", body)
		}

		form := url.Values{"name": {"Acme people"}, "description": {"Work at Acme"}, "characteristics": {"Busy\nPrefer short emails"},
			"criteria": {`{"all": [{"field": "company", "op": "eq", "value": "Acme"}]}`}}
		status, body, h := e.postPersona(c, "/contacts/personas", form, pngPicture(t))
		page := strings.Split(location(t, status, h, body, "/contacts/personas/"), "?")[0]
		status, body, _ = e.get(c, page)
		if status != 200 || !strings.Contains(body, `id="persona-picture" src="`+page+`/picture?v=`) || !strings.Contains(body, "Prefer short emails") ||
			!strings.Contains(body, `id="live-count-value">2 contacts<`) {
			t.Fatalf("persona page: %d\n%s", status, body)
		}
		status, _, h = e.get(c, page+"/picture?v=2")
		if status != 200 || h.Get("Content-Type") != "image/png" {
			t.Errorf("picture: %d %s", status, h.Get("Content-Type"))
		}

		// The list shows a card with the picture and the count; another
		// persona without a picture shows its initials.
		status, body, h = e.postPersona(c, "/contacts/personas", url.Values{"name": {"lyon locals"}, "criteria": {`{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`}}, nil)
		location(t, status, h, body, "/contacts/personas/")
		_, body, _ = e.get(c, "/contacts/personas")
		if !strings.Contains(body, `<img class="persona-picture" src="`+page+`/picture?v=`) || !strings.Contains(body, "2 contacts") ||
			!strings.Contains(body, `persona-initials" aria-hidden="true">LL<`) || !strings.Contains(body, "3 contacts") {
			t.Errorf("persona cards\n%s", body)
		}

		// The contact record shows the personas the contact matches.
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", people["Bruno"].ID))
		chips := regexp.MustCompile(`(?s)<dd id="contact-personas">(.*?)</dd>`).FindStringSubmatch(body)
		if chips == nil || !strings.Contains(chips[1], "Acme people") || !strings.Contains(chips[1], "lyon locals") {
			t.Errorf("Bruno's personas: %v", chips)
		}
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", people["Anne"].ID))
		chips = regexp.MustCompile(`(?s)<dd id="contact-personas">(.*?)</dd>`).FindStringSubmatch(body)
		if chips == nil || strings.Contains(chips[1], "Acme people") || !strings.Contains(chips[1], "lyon locals") {
			t.Errorf("Anne's personas: %v", chips)
		}

		// The dashboard's chart: one bar per persona, the longest for Lyon.
		_, body, _ = e.get(c, "/")
		chart := regexp.MustCompile(`(?s)<svg class="bar-chart" id="persona-chart".*?</svg>`).FindString(body)
		bars := regexp.MustCompile(`<rect x="0" y="\d+" width="(\d+)"`).FindAllStringSubmatch(chart, -1)
		if len(bars) != 2 || !strings.Contains(chart, "Acme people") || !strings.Contains(chart, "lyon locals") {
			t.Fatalf("persona chart\n%s", body)
		}
		widths := map[string]string{}
		for i, name := range []string{"Acme people", "lyon locals"} {
			widths[name] = bars[i][1]
		}
		if widths["lyon locals"] != "400" || widths["Acme people"] != "266" {
			t.Errorf("bar widths %v, want 400 for 3 contacts and 266 for 2", widths)
		}

		// A file that is not an image is refused with the reason; the
		// persona keeps its picture.
		status, body, _ = e.postPersona(c, page+"/edit", url.Values{"version": {"2"}, "name": {"Acme people"}, "criteria": {`{"all": []}`}},
			[]byte("just some text, not an image"))
		if status != http.StatusBadRequest || !strings.Contains(body, "PNG") || !strings.Contains(body, `id="persona-picture-file" accept="image/png,image/jpeg,image/webp" aria-invalid="true"`) {
			t.Errorf("a text file as picture: %d\n%s", status, body)
		}
		if status, _, _ := e.get(c, page+"/picture"); status != 200 {
			t.Errorf("the picture is gone after a refused one: %d", status)
		}
		// Too large a picture.
		big := append(pngPicture(t), make([]byte, segment.MaxPicture)...)
		status, body, _ = e.postPersona(c, page+"/edit", url.Values{"version": {"3"}, "name": {"Acme people"}, "criteria": {`{"all": []}`}}, big)
		if status != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "1024") {
			t.Errorf("a picture too large: %d\n%s", status, body)
		}
		// Far too large: the body is cut, the form is shown again with
		// the limit.
		huge := append(pngPicture(t), make([]byte, 5*segment.MaxPicture)...)
		status, body, _ = e.postPersona(c, page+"/edit", url.Values{"version": {"3"}, "name": {"Renamed"}, "criteria": {`{"all": []}`}}, huge)
		if status != http.StatusBadRequest || !strings.Contains(body, "The picture is too large: 1 MiB at most.") || !strings.Contains(body, `value="Acme people"`) {
			t.Errorf("a picture far too large: %d\n%s", status, body)
		}
	})
}

func TestSegmentDuplicateAndDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		ctx, by := context.Background(), owner(acc)
		base, err := e.segments().Create(ctx, by, segment.Input{Name: "Lyon", Criteria: json.RawMessage(`{"all": [{"field": "city", "op": "eq", "value": "Lyon"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		user, err := e.segments().Create(ctx, by, segment.Input{Name: "Lyon at Acme", Criteria: json.RawMessage(fmt.Sprintf(`{"all": [{"segment": %d}]}`, base.ID))})
		if err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@example.com")

		// The segment page lists the other segments to pick, not itself.
		_, body, _ := e.get(c, segmentPage(base.ID))
		m := builderRe.FindStringSubmatch(body)
		if m == nil || strings.Contains(m[1], fmt.Sprintf(`"value":"%d"`, base.ID)) || !strings.Contains(m[1], fmt.Sprintf(`"value":"%d"`, user.ID)) {
			t.Errorf("segment picker of segment %d: %v", base.ID, m)
		}

		// Referred to: the deletion is refused with the reason, on the page.
		status, body, _ := e.post(c, segmentPage(base.ID)+"/delete", nil)
		if status != http.StatusUnprocessableEntity && status != http.StatusConflict || !strings.Contains(body, "Lyon at Acme") || !strings.Contains(body, `role="alert" id="form-error"`) {
			t.Errorf("deleting a used segment: %d\n%s", status, body)
		}
		status, body, h := e.post(c, segmentPage(base.ID)+"/duplicate", nil)
		copyPage := strings.Split(location(t, status, h, body, "/contacts/segments/"), "?")[0]
		if copyPage == segmentPage(base.ID) {
			t.Fatal("the duplicate is the original")
		}
		_, body, _ = e.get(c, copyPage)
		if !strings.Contains(criteriaOf(t, body), `"value": "Lyon"`) {
			t.Errorf("the copy has other criteria: %s", criteriaOf(t, body))
		}
		status, body, h = e.post(c, segmentPage(user.ID)+"/delete", nil)
		location(t, status, h, body, "/contacts/segments?done=deleted")
		status, body, h = e.post(c, segmentPage(base.ID)+"/delete", nil)
		location(t, status, h, body, "/contacts/segments?done=deleted")
		_, body, _ = e.get(c, "/contacts/segments?done=deleted")
		if !strings.Contains(body, "The segment has been deleted.") || strings.Contains(body, `>Lyon<`) {
			t.Errorf("after deletions\n%s", body)
		}
		// A guest sees a read-only page.
		guest := e.session(e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
		_, body, _ = e.get(guest, copyPage)
		if strings.Contains(body, `id="save-segment"`) || strings.Contains(body, `id="delete-segment"`) || !strings.Contains(body, `"readonly":true`) ||
			!strings.Contains(body, `readonly>`) {
			t.Errorf("a guest's segment page is editable\n%s", body)
		}
	})
}

func segmentPage(id int64) string { return fmt.Sprintf("/contacts/segments/%d", id) }

// TestContactsPageFiltersBySegment: the contacts page offers the segments
// as a filter and lists only the chosen segment's contacts.
func TestContactsPageFiltersBySegment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		e.townsfolk(acc)
		sg, err := e.segments().Create(context.Background(), owner(acc), segment.Input{Name: "Acme people",
			Criteria: json.RawMessage(`{"field": "company", "op": "eq", "value": "Acme"}`)})
		if err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@example.com")
		status, body, _ := e.get(c, "/contacts")
		if status != 200 || !strings.Contains(body, `name="segment"`) || !strings.Contains(body, "Acme people") {
			t.Fatalf("contacts page without the segment filter: %d", status)
		}
		status, body, _ = e.get(c, fmt.Sprintf("/contacts?segment=%d", sg.ID))
		if status != 200 || !strings.Contains(body, "bruno@example.com") || !strings.Contains(body, "david@example.com") ||
			strings.Contains(body, "anne@example.com") || strings.Contains(body, "chloe@example.com") {
			t.Fatalf("contacts of the segment: %d\n%s", status, body)
		}
	})
}

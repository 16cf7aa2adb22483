package web_test

import (
	"context"
	"fmt"
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
)

// owner acts as acc's administrator, for objects made through the service.
func owner(acc account.Account) rights.Actor {
	return rights.Actor{AccountID: int64(acc.ID), Owner: true, Rights: rights.All(), Name: "Fixture"}
}

func (e *env) contacts() *contact.Service { return &contact.Service{DB: e.db, Now: time.Now} }

func (e *env) newContact(acc account.Account, email, first, last string) contact.Contact {
	e.t.Helper()
	c, err := e.contacts().Create(context.Background(), owner(acc), contact.Input{Email: &email, FirstName: &first, LastName: &last})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	ctx, by, svc := context.Background(), owner(acc), e.contacts()
	c1 := e.newContact(acc, "fixture1@example.com", "", "")
	c2 := e.newContact(acc, "fixture2@example.com", "", "")
	var fields [2]contact.Field
	var lists [2]contact.List
	for i := range 2 {
		f, err := svc.CreateField(ctx, by, contact.Field{Key: fmt.Sprintf("fixture_%d", i), Label: "Fixture", Type: contact.Text})
		if err != nil {
			t.Fatal(err)
		}
		l, err := svc.CreateList(ctx, by, fmt.Sprintf("Fixture %d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		fields[i], lists[i] = f, l
	}
	b, err := svc.AddToBlacklist(ctx, by, "email", "fixture@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/{id}":                   fmt.Sprintf("/contacts/%d", c1.ID),
		"POST /contacts/{id}":                  fmt.Sprintf("/contacts/%d", c1.ID),
		"POST /contacts/{id}/delete":           fmt.Sprintf("/contacts/%d/delete", c2.ID),
		"POST /contacts/fields/{id}/edit":      fmt.Sprintf("/contacts/fields/%d/edit", fields[0].ID),
		"POST /contacts/fields/{id}/delete":    fmt.Sprintf("/contacts/fields/%d/delete", fields[1].ID),
		"GET /contacts/lists/{id}":             fmt.Sprintf("/contacts/lists/%d", lists[0].ID),
		"POST /contacts/lists/{id}/edit":       fmt.Sprintf("/contacts/lists/%d/edit", lists[0].ID),
		"POST /contacts/lists/{id}/delete":     fmt.Sprintf("/contacts/lists/%d/delete", lists[1].ID),
		"POST /contacts/blacklist/{id}/delete": fmt.Sprintf("/contacts/blacklist/%d/delete", b.ID),
	}
})

var contactRow = regexp.MustCompile(`data-contact="(\d+)"`)

// rows are the contact ids a list page shows, in order.
func rows(body string) []string {
	var out []string
	for _, m := range contactRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func location(t *testing.T, status int, h http.Header, body, prefix string) string {
	t.Helper()
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), prefix) {
		t.Fatalf("want a redirect to %s…, got %d → %q\n%s", prefix, status, h.Get("Location"), body)
	}
	return h.Get("Location")
}

func TestContactFormsCreateAndEdit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")

		status, body, _ := e.get(c, "/contacts")
		if status != 200 || !strings.Contains(body, `id="contacts-empty"`) || !strings.Contains(body, `href="/contacts/new"`) ||
			!strings.Contains(body, "Votre base de contacts est vide") {
			t.Fatalf("empty contacts page: %d\n%s", status, body)
		}
		status, body, h := e.post(c, "/contacts/fields", url.Values{"label": {"Points"}, "key": {"points"}, "type": {"number"}})
		location(t, status, h, body, "/contacts/fields")
		status, body, h = e.post(c, "/contacts/fields", url.Values{"label": {"Centres d’intérêt"}, "key": {"topics"}, "type": {"multi_choice"},
			"choices": {"sport\r\n  cuisine \n\nvoyage\n"}})
		location(t, status, h, body, "/contacts/fields")
		status, body, h = e.post(c, "/contacts/fields", url.Values{"label": {"Client"}, "key": {"customer"}, "type": {"boolean"}})
		location(t, status, h, body, "/contacts/fields")
		status, body, h = e.post(c, "/contacts/lists", url.Values{"name": {"Newsletter"}})
		listPath := location(t, status, h, body, "/contacts/lists/")
		listID := strings.TrimPrefix(strings.Split(listPath, "?")[0], "/contacts/lists/")

		status, body, _ = e.get(c, "/contacts/new")
		for _, want := range []string{`name="field.points"`, `name="field.topics" value="cuisine"`, `name="field.customer" value="true"`, `name="lists" value="` + listID + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("new contact form lacks %s", want)
			}
		}
		form := url.Values{"email": {"Ada@Example.com"}, "first_name": {"Ada"}, "last_name": {"Lovelace"}, "phone": {""},
			"field.points": {"1 234,5"}, "field.topics": {"sport", "voyage"}, "field.customer": {"true"}, "lists": {listID},
			"consent_source": {"salon"}}
		status, body, h = e.post(c, "/contacts", form)
		record := strings.Split(location(t, status, h, body, "/contacts/"), "?")[0]
		status, body, _ = e.get(c, record)
		for _, want := range []string{
			`value="ada@example.com"`,
			`name="field.points" value="1` + "\u202f" + `234,5"`, // French formatting on display
			`name="field.topics" value="sport" checked`, `name="field.topics" value="cuisine">`, `name="field.topics" value="voyage" checked`,
			`name="field.customer" value="true" checked`,
			`name="lists" value="` + listID + `" checked`,
			`data-presence="contact:`, `name="version" value="1"`, "salon",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("record lacks %s", want)
			}
		}
		if status != 200 {
			t.Fatalf("record: %d", status)
		}

		// A save against the current version, leaving the list.
		form.Set("version", "1")
		form.Set("first_name", "Augusta")
		form.Del("lists")
		form.Del("field.customer")
		status, body, h = e.post(c, record, form)
		location(t, status, h, body, record)
		_, body, _ = e.get(c, record)
		if !strings.Contains(body, `value="Augusta"`) || strings.Contains(body, `name="lists" value="`+listID+`" checked`) ||
			strings.Contains(body, `name="field.customer" value="true" checked`) || !strings.Contains(body, `name="version" value="2"`) {
			t.Fatalf("after the save, the record shows %s", body)
		}
		// The same form again carries version 1: refused, saying who changed it.
		form.Set("first_name", "Byron")
		status, body, _ = e.post(c, record, form)
		if status != http.StatusConflict || !strings.Contains(body, "Modifié par") || !strings.Contains(body, "data-conflict") || !strings.Contains(body, `value="Byron"`) {
			t.Fatalf("stale save: %d\n%s", status, body)
		}
		// Bad input keeps what was typed and marks the field.
		form.Set("version", "2")
		form.Set("email", "not an email")
		form.Set("field.points", "beaucoup")
		status, body, _ = e.post(c, record, form)
		if status != http.StatusBadRequest || !strings.Contains(body, `value="not an email"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("invalid save: %d\n%s", status, body)
		}
		// A duplicate points to the contact that has the address.
		status, body, _ = e.post(c, "/contacts", url.Values{"email": {"ADA@example.com"}})
		if status != http.StatusConflict || !strings.Contains(body, `id="existing-contact" href="`+record+`"`) {
			t.Fatalf("duplicate: %d\n%s", status, body)
		}
		status, body, h = e.post(c, record+"/delete", nil)
		location(t, status, h, body, "/contacts?done=deleted")
		if status, _, _ := e.get(c, record); status != 404 {
			t.Fatalf("deleted contact: %d", status)
		}
	})
}

func TestContactListSearchPagesAndBulkActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		list, err := e.contacts().CreateList(context.Background(), owner(acc), "Prospects", "")
		if err != nil {
			t.Fatal(err)
		}
		var durands []string
		for i := range 60 {
			last := "Martin"
			if i%4 == 0 {
				last = "Durand"
			}
			ct := e.newContact(acc, fmt.Sprintf("p%02d@example.com", i), "Person", last)
			if last == "Durand" {
				durands = append(durands, fmt.Sprint(ct.ID))
			}
		}
		c := e.login("owner@example.com")
		_, body, _ := e.get(c, "/contacts")
		first := rows(body)
		next := regexp.MustCompile(`id="contacts-next" href="([^"]+)"`).FindStringSubmatch(body)
		if len(first) != 50 || next == nil {
			t.Fatalf("first page: %d rows, next link %v", len(first), next)
		}
		_, body, _ = e.get(c, strings.ReplaceAll(next[1], "&amp;", "&"))
		second := rows(body)
		if len(second) != 10 || strings.Contains(body, `id="contacts-next"`) || !strings.Contains(body, `id="contacts-first"`) {
			t.Fatalf("second page: %d rows", len(second))
		}
		seen := map[string]bool{}
		for _, id := range append(first, second...) {
			if seen[id] {
				t.Fatalf("contact %s on two pages", id)
			}
			seen[id] = true
		}

		_, body, _ = e.get(c, "/contacts?q=durand")
		if got := rows(body); strings.Join(got, ",") != strings.Join(durands, ",") || !strings.Contains(body, `value="durand"`) {
			t.Fatalf("search durand: %v, want %v", got, durands)
		}
		_, body, _ = e.get(c, "/contacts?q=nobody-here")
		if !strings.Contains(body, `id="contacts-empty"`) || !strings.Contains(body, "No contact matches") {
			t.Fatal("an empty search has no message")
		}

		// Bulk: add the Durands to the list, from the search page.
		form := url.Values{"ids": durands[:3], "action": {"add"}, "list": {fmt.Sprint(list.ID)}, "return": {"q=durand"}}
		status, body, h := e.post(c, "/contacts/bulk", form)
		back := location(t, status, h, body, "/contacts?")
		if !strings.Contains(back, "q=durand") || !strings.Contains(back, "count=3") || !strings.Contains(back, "done=added") {
			t.Fatalf("bulk add came back to %s", back)
		}
		_, body, _ = e.get(c, back)
		if !strings.Contains(body, "3 contacts added to the list.") {
			t.Fatal("no notice after the bulk add")
		}
		_, body, _ = e.get(c, fmt.Sprintf("/contacts?list=%d", list.ID))
		if got := rows(body); strings.Join(got, ",") != strings.Join(durands[:3], ",") {
			t.Fatalf("list filter: %v, want %v", got, durands[:3])
		}
		status, body, h = e.post(c, "/contacts/bulk", url.Values{"ids": durands[:1], "action": {"remove"}, "list": {fmt.Sprint(list.ID)}})
		location(t, status, h, body, "/contacts?")
		if l, _ := e.contacts().GetList(context.Background(), owner(acc), list.ID); l.Count != 2 {
			t.Fatalf("list count after a bulk remove: %d", l.Count)
		}
		// Nothing ticked: said so, nothing done.
		status, body, _ = e.post(c, "/contacts/bulk", url.Values{"action": {"add"}, "list": {fmt.Sprint(list.ID)}})
		if status != http.StatusBadRequest || !strings.Contains(body, "Tick at least one contact") {
			t.Fatalf("bulk without contacts: %d", status)
		}

		// Bulk delete is for approvers.
		editor := e.session(e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor}), acc)
		_, body, _ = e.get(editor, "/contacts")
		if strings.Contains(body, `<option value="delete">`) || !strings.Contains(body, `name="ids"`) {
			t.Fatal("an editor is offered the bulk delete, or no checkboxes")
		}
		status, _, _ = e.post(editor, "/contacts/bulk", url.Values{"ids": durands[3:], "action": {"delete"}})
		if status != http.StatusForbidden {
			t.Fatalf("bulk delete by an editor: %d", status)
		}
		_, body, _ = e.get(c, "/contacts")
		if !strings.Contains(body, `<option value="delete">`) {
			t.Fatal("the approver is not offered the bulk delete")
		}
		status, body, h = e.post(c, "/contacts/bulk", url.Values{"ids": durands[3:], "action": {"delete"}})
		back = location(t, status, h, body, "/contacts?")
		if _, body, _ = e.get(c, back); !strings.Contains(body, fmt.Sprintf("%d contacts deleted.", len(durands)-3)) {
			t.Fatal("no notice after the bulk delete")
		}
		if _, body, _ = e.get(c, "/contacts?q=durand"); len(rows(body)) != 3 {
			t.Fatalf("Durands left: %v", rows(body))
		}
	})
}

func TestContactPagesFollowRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		ct := e.newContact(acc, "ada@example.com", "Ada", "Lovelace")
		record := fmt.Sprintf("/contacts/%d", ct.ID)
		for _, tt := range []struct {
			level rights.Level
			edit  bool
		}{{rights.Guest, false}, {rights.Editor, true}, {rights.Approver, true}} {
			c := e.session(e.member(acc, fmt.Sprintf("%s@example.com", tt.level), rights.Set{rights.Contacts: tt.level}), acc)
			checks := map[string][]string{
				"/contacts":           {`id="add-contact"`, `name="ids"`},
				record:                {`id="save-contact"`, `id="delete-contact"`},
				"/contacts/fields":    {`id="field-create"`},
				"/contacts/lists":     {`id="list-create"`},
				"/contacts/blacklist": {`id="blacklist-add"`},
			}
			for path, marks := range checks {
				status, body, _ := e.get(c, path)
				if status != 200 {
					t.Fatalf("%s for %s: %d", path, tt.level, status)
				}
				for _, m := range marks {
					if strings.Contains(body, m) != tt.edit {
						t.Errorf("%s for %s: %s shown=%v", path, tt.level, m, !tt.edit)
					}
				}
				if !strings.Contains(body, `class="subnav"`) || !strings.Contains(body, `data-category="contacts" aria-current="page"`) {
					t.Errorf("%s: no sub-navigation or menu entry", path)
				}
			}
			if _, body, _ := e.get(c, record); !tt.edit && !strings.Contains(body, "<fieldset class=\"card\" disabled>") {
				t.Errorf("the record form is not disabled for a %s", tt.level)
			}
		}
	})
}

func TestFieldsListsAndBlacklistPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		ctx, by, svc := context.Background(), owner(acc), e.contacts()
		c := e.login("owner@example.com")

		// Fields: create with choices one per line, edit, refuse a stale edit, delete.
		status, body, h := e.post(c, "/contacts/fields", url.Values{"label": {"Size"}, "key": {"size"}, "type": {"choice"}, "choices": {"S\nM\nL"}})
		location(t, status, h, body, "/contacts/fields?done=created")
		fields, _ := svc.Fields(ctx, by)
		if len(fields) != 1 || strings.Join(fields[0].Choices, ",") != "S,M,L" {
			t.Fatalf("fields = %+v", fields)
		}
		f := fields[0]
		edit := fmt.Sprintf("/contacts/fields/%d/edit", f.ID)
		status, body, h = e.post(c, edit, url.Values{"label": {"T-shirt size"}, "choices": {"S\nM\nL\nXL"}, "version": {fmt.Sprint(f.Version)}})
		location(t, status, h, body, "/contacts/fields?done=saved")
		status, body, _ = e.post(c, edit, url.Values{"label": {"Old"}, "choices": {"S"}, "version": {fmt.Sprint(f.Version)}})
		if status != http.StatusConflict || !strings.Contains(body, "data-conflict") {
			t.Fatalf("stale field edit: %d", status)
		}
		_, body, _ = e.get(c, "/contacts/fields")
		if !strings.Contains(body, "T-shirt size") || !strings.Contains(body, "S\nM\nL\nXL</textarea>") {
			t.Fatal("the fields page does not show the saved field")
		}
		status, body, _ = e.post(c, "/contacts/fields", url.Values{"label": {"Bad"}, "key": {"Bad Key!"}, "type": {"text"}})
		if status != http.StatusBadRequest || !strings.Contains(body, `value="Bad Key!"`) {
			t.Fatalf("bad field key: %d", status)
		}
		status, body, h = e.post(c, fmt.Sprintf("/contacts/fields/%d/delete", f.ID), nil)
		location(t, status, h, body, "/contacts/fields?done=deleted")
		if fields, _ := svc.Fields(ctx, by); len(fields) != 0 {
			t.Fatalf("field not deleted: %+v", fields)
		}

		// Lists: create, rename, see members, delete.
		status, body, h = e.post(c, "/contacts/lists", url.Values{"name": {"Clients"}, "description": {"Who bought"}})
		page := strings.Split(location(t, status, h, body, "/contacts/lists/"), "?")[0]
		lists, _ := svc.Lists(ctx, by)
		ct := e.newContact(acc, "ada@example.com", "Ada", "")
		svc.AddToList(ctx, by, lists[0].ID, []contact.ID{ct.ID})
		_, body, _ = e.get(c, page)
		if !strings.Contains(body, fmt.Sprintf(`href="/contacts?list=%d">1 contact</a>`, lists[0].ID)) {
			t.Fatalf("list page: %s", body)
		}
		status, body, h = e.post(c, page+"/edit", url.Values{"name": {"Customers"}, "version": {fmt.Sprint(lists[0].Version)}})
		location(t, status, h, body, page+"?done=saved")
		if _, body, _ = e.get(c, "/contacts/lists"); !strings.Contains(body, ">Customers</a>") {
			t.Fatal("renamed list not shown")
		}
		status, body, _ = e.post(c, "/contacts/lists", url.Values{"name": {"Customers"}})
		if status < 400 || !strings.Contains(body, "flash-error") {
			t.Fatalf("a second list with the same name: %d", status)
		}
		status, body, h = e.post(c, page+"/delete", nil)
		location(t, status, h, body, "/contacts/lists?done=deleted")
		if got, _ := svc.Get(ctx, by, ct.ID); len(got.Lists) != 0 {
			t.Fatalf("the contact is still in the deleted list: %v", got.Lists)
		}

		// Blacklist: add (normalised), flag the contact, refuse garbage, remove.
		status, body, h = e.post(c, "/contacts/blacklist", url.Values{"type": {"email"}, "value": {" ADA@example.com "}})
		location(t, status, h, body, "/contacts/blacklist?done=added")
		_, body, _ = e.get(c, "/contacts/blacklist")
		if !strings.Contains(body, "<code>ada@example.com</code>") {
			t.Fatal("blacklist entry not shown normalised")
		}
		if _, body, _ = e.get(c, fmt.Sprintf("/contacts/%d", ct.ID)); !strings.Contains(body, `id="contact-blacklisted"`) {
			t.Fatal("a blacklisted contact has no badge")
		}
		status, body, _ = e.post(c, "/contacts/blacklist", url.Values{"type": {"domain"}, "value": {"not a domain"}})
		if status != http.StatusBadRequest || !strings.Contains(body, `value="not a domain"`) {
			t.Fatalf("bad domain: %d", status)
		}
		entries, _ := svc.Blacklist(ctx, by, "", 0, 10)
		status, body, h = e.post(c, fmt.Sprintf("/contacts/blacklist/%d/delete", entries[0].ID), nil)
		location(t, status, h, body, "/contacts/blacklist?done=removed")
		if entries, _ := svc.Blacklist(ctx, by, "", 0, 10); len(entries) != 0 {
			t.Fatalf("entries left: %v", entries)
		}
	})
}

package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/rights"
	"envoi/internal/segment"
	"envoi/internal/server"
)

// pageSize is the number of contacts (or blacklist entries) per page.
const pageSize = 50

// emailStatuses and smsStatuses are the statuses in display order.
var (
	emailStatuses = []string{contact.EmailValid, contact.EmailSoftBounced, contact.EmailHardBounced, contact.EmailUnsubscribed, contact.EmailComplained}
	smsStatuses   = []string{contact.SMSValid, contact.SMSInvalid, contact.SMSStopped}
)

// contactBase is what every page of the Contacts section shares: the
// sub-navigation between contacts, lists, fields and the blacklist.
type contactBase struct {
	*View
	Sub string // the active sub-page: contacts, lists, fields, blacklist
}

// SubNav is the section's sub-navigation.
func (b contactBase) SubNav() []MenuItem {
	items := []MenuItem{
		{Category: "contacts", Label: b.T("contacts.sub.contacts"), Href: "/contacts"},
		{Category: "lists", Label: b.T("contacts.sub.lists"), Href: "/contacts/lists"},
		{Category: "segments", Label: b.T("segments.sub"), Href: "/contacts/segments"},
		{Category: "personas", Label: b.T("personas.sub"), Href: "/contacts/personas"},
		{Category: "scores", Label: b.T("scoring.sub"), Href: "/contacts/scores"},
		{Category: "fields", Label: b.T("contacts.sub.fields"), Href: "/contacts/fields"},
		{Category: "blacklist", Label: b.T("contacts.sub.blacklist"), Href: "/contacts/blacklist"},
		{Category: "imports", Label: b.T("imports.sub"), Href: "/contacts/imports"},
	}
	if b.Can("contacts", "editor") {
		items = append(items, MenuItem{Category: "export", Label: b.T("exports.sub"), Href: "/contacts/export"})
	}
	for i := range items {
		items[i].Active = items[i].Category == b.Sub
	}
	return items
}

// option is one entry of a select or a group of checkboxes.
type option struct {
	Value, Label string
	Selected     bool
}

// EmailStatusLabel and SMSStatusLabel translate a status.
func (b contactBase) EmailStatusLabel(s string) string { return b.T("contacts.email_status." + s) }
func (b contactBase) SMSStatusLabel(s string) string   { return b.T("contacts.sms_status." + s) }

// contactName is how a contact is named on pages: its name, else its email
// or phone.
func contactName(c contact.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	if c.Phone != "" {
		return c.Phone
	}
	return "#" + strconv.FormatInt(int64(c.ID), 10)
}

// positiveID reads a path or query id; anything else is not found.
func positiveID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// pathID reads the {id} of a page path.
func pathID(r *http.Request, what string) (int64, error) {
	id, ok := positiveID(r.PathValue("id"))
	if !ok {
		return 0, fault.Notf("%s not found", what)
	}
	return id, nil
}

// isFormError says whether err is about what the person entered (shown on
// the form again) rather than a failure of the page.
func isFormError(err error) (*fault.Error, bool) {
	f, ok := fault.As(err)
	if !ok {
		return nil, false
	}
	switch f.Kind {
	case fault.Invalid, fault.Conflict, fault.Rule:
		return f, true
	}
	return nil, false
}

// failPage shows an error page; "not found" is translated even when the
// service's fault names the object in English only.
func (w *Web) failPage(rw http.ResponseWriter, r *http.Request, v *View, err error) {
	if f, ok := fault.As(err); ok && f.Kind == fault.NotFound && f.Key == "" {
		err = fault.Notf("%s", f.Message).WithKey("error.not_found")
	}
	w.fail(rw, r, v, err)
}

// ---- The contact list ------------------------------------------------------

// contactsView is the contact list: search, filters, one page, bulk actions.
type contactsView struct {
	contactBase
	Contacts  []contact.Contact
	Lists     []contact.List
	Segments  []segment.Segment
	Query     string
	List      contact.ListID
	Segment   int64
	Status    string
	Sort      contact.Sort
	Filtered  bool   // a search or a filter is on
	Paged     bool   // not the first page
	NextPage  string // the next page's address, "" on the last
	FirstPage string
	Return    string // the list's query, for the bulk form to come back to
}

// ListOptions are the lists for the filter.
func (v *contactsView) ListOptions() []option {
	out := make([]option, 0, len(v.Lists))
	for _, l := range v.Lists {
		out = append(out, option{Value: strconv.FormatInt(int64(l.ID), 10), Label: l.Name, Selected: l.ID == v.List})
	}
	return out
}

// SegmentOptions are the segments for the filter.
func (v *contactsView) SegmentOptions() []option {
	out := make([]option, 0, len(v.Segments))
	for _, sg := range v.Segments {
		out = append(out, option{Value: strconv.FormatInt(sg.ID, 10), Label: sg.Name, Selected: sg.ID == v.Segment})
	}
	return out
}

// StatusOptions are the email statuses for the filter.
func (v *contactsView) StatusOptions() []option {
	out := make([]option, 0, len(emailStatuses))
	for _, s := range emailStatuses {
		out = append(out, option{Value: s, Label: v.EmailStatusLabel(s), Selected: s == v.Status})
	}
	return out
}

// SortOptions are the orders of the list.
func (v *contactsView) SortOptions() []option {
	out := make([]option, 0, len(contact.Sorts))
	for _, s := range contact.Sorts {
		out = append(out, option{Value: string(s), Label: v.T("contacts.sort." + strings.Replace(string(s), "-", "desc_", 1)),
			Selected: s == v.Sort || v.Sort == "" && s == contact.SortID})
	}
	return out
}

// Name names a contact.
func (v *contactsView) Name(c contact.Contact) string { return contactName(c) }

// listQuery keeps the list page's search and filters (and page) from a
// query string, dropping anything else.
func listQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"q", "list", "segment", "status", "sort", "cursor"} {
		if s := strings.TrimSpace(q.Get(k)); s != "" {
			out.Set(k, s)
		}
	}
	return out
}

func (w *Web) contactsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Notice = contactsNotice(v, r)
	w.renderContacts(rw, r, v, listQuery(r.URL.Query()), http.StatusOK)
}

// renderContacts shows one page of the contact list for query (q, list,
// status, sort, cursor). Pages are keyset pages in the chosen order (the
// cursor holds the last row's sort key), so the thousandth page costs what
// the first does.
func (w *Web) renderContacts(rw http.ResponseWriter, r *http.Request, v *View, query url.Values, status int) {
	v.Title = v.T("contacts.title")
	page := &contactsView{contactBase: contactBase{View: v, Sub: "contacts"}, Query: query.Get("q"), Status: query.Get("status"),
		Sort: contact.Sort(query.Get("sort"))}
	f := contact.Filter{Query: page.Query, Status: page.Status, Sort: page.Sort, Cursor: query.Get("cursor"), Limit: pageSize}
	if id, ok := positiveID(query.Get("list")); ok {
		page.List, f.List = contact.ListID(id), contact.ListID(id)
	}
	ctx, by := r.Context(), v.ID.Actor
	if id, ok := positiveID(query.Get("segment")); ok {
		page.Segment, f.Segment = id, w.Segments.Condition(ctx, by, id)
	}
	page.Paged = f.Cursor != ""
	page.Filtered = page.Query != "" || page.List != 0 || page.Status != "" || page.Segment != 0
	// Names only: counting members reads every membership.
	lists, err := w.Contacts.ListNames(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page.Lists = lists
	if page.Segments, err = w.Segments.List(ctx, by); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	res, err := w.Contacts.List(ctx, by, f)
	if err != nil {
		if f, ok := fault.As(err); ok && (f.Kind == fault.Invalid || f.Kind == fault.NotFound && page.Segment != 0) {
			v.Error, v.Field = v.Message(err), f.Field
			status = http.StatusBadRequest
		} else {
			w.failPage(rw, r, v, err)
			return
		}
	}
	page.Contacts = res.Contacts
	base := listQuery(query)
	base.Del("cursor")
	page.Return = base.Encode()
	if page.Paged {
		page.Return = query.Encode()
		page.FirstPage = "/contacts"
		if len(base) > 0 {
			page.FirstPage += "?" + base.Encode()
		}
	}
	if res.Cursor != "" {
		next := listQuery(base)
		next.Set("cursor", res.Cursor)
		page.NextPage = "/contacts?" + next.Encode()
	}
	w.render(rw, r, status, "contacts", page)
}

// contactsNotice is the message after an action that came back to the
// list.
func contactsNotice(v *View, r *http.Request) string {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("count"))
	switch done := q.Get("done"); done {
	case "added", "removed", "deleted_many":
		return v.P.T("contacts.done."+done, map[string]any{"Count": n})
	case "deleted":
		return v.T("contacts.done.deleted")
	case "erased":
		return v.T("gdpr.done.erased")
	}
	return ""
}

// bulkContacts runs a bulk action on the ticked contacts of the list page:
// add to a list, remove from a list, delete (approver, checked by the
// service).
func (w *Web) bulkContacts(rw http.ResponseWriter, r *http.Request, v *View) {
	back, _ := url.ParseQuery(r.PostFormValue("return"))
	back = listQuery(back)
	var ids []contact.ID
	for _, s := range r.PostForm["ids"] {
		if id, ok := positiveID(s); ok {
			ids = append(ids, contact.ID(id))
		}
	}
	ctx, by := r.Context(), v.ID.Actor
	var (
		n    int
		err  error
		done string
	)
	action := r.PostFormValue("action")
	switch {
	case action != "add" && action != "remove" && action != "delete":
		err = fault.Invalidf("action", "choose an action").WithKey("contacts.bulk.no_action")
	case len(ids) == 0:
		err = fault.Invalidf("ids", "select at least one contact").WithKey("contacts.bulk.none_selected")
	case action == "delete":
		n, err = w.Contacts.DeleteMany(ctx, by, ids)
		done = "deleted_many"
	default:
		list, ok := positiveID(r.PostFormValue("list"))
		if !ok {
			err = fault.Invalidf("list", "choose a list").WithKey("contacts.bulk.no_list")
			break
		}
		if action == "add" {
			n, err = w.Contacts.AddToList(ctx, by, contact.ListID(list), ids)
			done = "added"
		} else {
			n, err = w.Contacts.RemoveFromList(ctx, by, contact.ListID(list), ids)
			done = "removed"
		}
	}
	if err != nil {
		if f, ok := isFormError(err); ok {
			v.Error, v.Field = v.Message(err), f.Field
			w.renderContacts(rw, r, v, back, server.Status(f.Kind))
			return
		}
		w.failPage(rw, r, v, err)
		return
	}
	back.Set("done", done)
	back.Set("count", strconv.Itoa(n))
	http.Redirect(rw, r, "/contacts?"+back.Encode(), http.StatusSeeOther)
}

// ---- The contact record ----------------------------------------------------

// contactView is a contact's record: its fields, lists, statuses and
// consent, as a form for editors.
type contactView struct {
	contactBase
	Contact    contact.Contact
	New        bool
	Fields     []contact.Field
	Lists      []contact.List
	Version    int64
	Conflict   bool              // the save met a newer version
	ExistingID int64             // the contact that already has this unique key
	Timeline   template.HTML     // the latest activity, rendered by the activity feature
	Personas   []segment.Persona // the personas the contact matches (segments feature)
	Scores     template.HTML     // the contact's scores with their trend, rendered by the scores feature
	Posted     url.Values        // the refused form, shown again
}

// Editable says whether the form may be saved.
func (v *contactView) Editable() bool { return v.Can("contacts", "editor") }

// Name names the contact.
func (v *contactView) Name() string { return contactName(v.Contact) }

// Value is a core field, from the refused form or the contact.
func (v *contactView) Value(name string) string {
	if v.Posted != nil {
		return v.Posted.Get(name)
	}
	c := v.Contact
	switch name {
	case "email":
		return c.Email
	case "phone":
		return c.Phone
	case "civility":
		return c.Civility
	case "first_name":
		return c.FirstName
	case "last_name":
		return c.LastName
	case "birth_date":
		return c.BirthDate
	case "address":
		return c.Address
	case "postal_code":
		return c.PostalCode
	case "city":
		return c.City
	case "country":
		return c.Country
	case "company":
		return c.Company
	case "job":
		return c.Job
	case "language":
		return c.Language
	case "consent_source":
		return c.ConsentSource
	}
	return ""
}

// StatusOptions are the email (kind "email") or SMS statuses with the
// contact's selected.
func (v *contactView) StatusOptions(kind string) []option {
	all, name, cur := emailStatuses, "email_status", v.Contact.EmailStatus
	if kind == "sms" {
		all, name, cur = smsStatuses, "sms_status", v.Contact.SMSStatus
	}
	if v.Posted != nil {
		cur = v.Posted.Get(name)
	}
	out := make([]option, 0, len(all))
	for _, s := range all {
		label := v.EmailStatusLabel(s)
		if kind == "sms" {
			label = v.SMSStatusLabel(s)
		}
		out = append(out, option{Value: s, Label: label, Selected: s == cur})
	}
	return out
}

// ListOptions are the account's lists, ticked when the contact is in one.
func (v *contactView) ListOptions() []option {
	out := make([]option, 0, len(v.Lists))
	for _, l := range v.Lists {
		id := strconv.FormatInt(int64(l.ID), 10)
		in := slices.Contains(v.Contact.Lists, l.ID)
		if v.Posted != nil {
			in = slices.Contains(v.Posted["lists"], id)
		}
		out = append(out, option{Value: id, Label: l.Name, Selected: in})
	}
	return out
}

// ContactLists are the lists the contact is in.
func (v *contactView) ContactLists() []contact.List {
	var out []contact.List
	for _, l := range v.Lists {
		if slices.Contains(v.Contact.Lists, l.ID) {
			out = append(out, l)
		}
	}
	return out
}

// fieldInput is a custom field as the form shows it.
type fieldInput struct {
	Name    string // the form name: field.<key>
	Key     string
	Label   string
	Type    string
	Value   string   // text, number (in the page's format), date, choice
	Checked bool     // boolean
	Options []option // choice and multiple choice
	Invalid bool
}

// CustomFields are the account's custom fields with the contact's values.
func (v *contactView) CustomFields() []fieldInput {
	out := make([]fieldInput, 0, len(v.Fields))
	for _, f := range v.Fields {
		in := fieldInput{Name: "field." + f.Key, Key: f.Key, Label: f.Label, Type: string(f.Type), Invalid: v.Field == "fields."+f.Key}
		raw := v.Contact.Fields[f.Key]
		var picked []string
		if v.Posted != nil {
			in.Value = v.Posted.Get(in.Name)
			picked = v.Posted[in.Name]
			in.Checked = in.Value == "true"
		} else {
			switch x := raw.(type) {
			case string:
				in.Value, picked = x, []string{x}
			case float64:
				in.Value = formatNumber(v.View, x)
			case bool:
				in.Checked = x
			case []string:
				picked = x
			case []any:
				for _, s := range x {
					if s, ok := s.(string); ok {
						picked = append(picked, s)
					}
				}
			}
		}
		for _, c := range f.Choices {
			in.Options = append(in.Options, option{Value: c, Label: c, Selected: slices.Contains(picked, c)})
		}
		out = append(out, in)
	}
	return out
}

// formatNumber shows a decimal in the page's language with the digits it
// has (at most four): fr "1 234,5", en "1,234.5".
func formatNumber(v *View, x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	decimals := 0
	if _, frac, ok := strings.Cut(s, "."); ok {
		decimals = min(len(frac), 4)
	}
	return v.P.Number(x, decimals)
}

// ConsentAt is when consent was given, in the account's time zone.
func (v *contactView) ConsentAt() string {
	if v.Contact.ConsentAt == nil {
		return ""
	}
	return v.When(*v.Contact.ConsentAt)
}

// formInput reads the record form: every core field is sent (an empty one
// clears it), a status left empty is unchanged, every custom field is set.
func formInput(r *http.Request, fields []contact.Field) contact.Input {
	get := func(name string) *string { s := r.PostFormValue(name); return &s }
	in := contact.Input{Email: get("email"), Phone: get("phone"), Civility: get("civility"), FirstName: get("first_name"),
		LastName: get("last_name"), BirthDate: get("birth_date"), Address: get("address"), PostalCode: get("postal_code"),
		City: get("city"), Country: get("country"), Company: get("company"), Job: get("job"), Language: get("language"),
		ConsentSource: get("consent_source"), Fields: map[string]any{}}
	if s := r.PostFormValue("email_status"); s != "" {
		in.EmailStatus = &s
	}
	if s := r.PostFormValue("sms_status"); s != "" {
		in.SMSStatus = &s
	}
	for _, f := range fields {
		name := "field." + f.Key
		switch f.Type {
		case contact.Boolean:
			in.Fields[f.Key] = r.PostFormValue(name) == "true"
		case contact.MultiChoice:
			in.Fields[f.Key] = slices.Clone(r.PostForm[name])
		default:
			in.Fields[f.Key] = r.PostFormValue(name)
		}
	}
	return in
}

// formLists are the lists ticked on the record form.
func formLists(r *http.Request) []contact.ListID {
	var out []contact.ListID
	for _, s := range r.PostForm["lists"] {
		if id, ok := positiveID(s); ok && !slices.Contains(out, contact.ListID(id)) {
			out = append(out, contact.ListID(id))
		}
	}
	return out
}

// contactPage builds the record page's model with the account's fields and
// lists.
func (w *Web) contactView(r *http.Request, v *View, c contact.Contact, isNew bool) (*contactView, error) {
	ctx, by := r.Context(), v.ID.Actor
	fields, err := w.Contacts.Fields(ctx, by)
	if err != nil {
		return nil, err
	}
	lists, err := w.Contacts.Lists(ctx, by)
	if err != nil {
		return nil, err
	}
	page := &contactView{contactBase: contactBase{View: v, Sub: "contacts"}, Contact: c, New: isNew, Fields: fields, Lists: lists, Version: c.Version}
	if isNew {
		v.Title = v.T("contacts.add")
	} else {
		v.Title = contactName(c)
	}
	return page, nil
}

// contactFormError shows the record form again with the error, or fails
// the page when the error is not about the input.
func (w *Web) contactFormError(rw http.ResponseWriter, r *http.Request, page *contactView, err error) {
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, page.View, err)
		return
	}
	page.View.Error, page.View.Field = page.View.Message(err), f.Field
	page.Posted = r.PostForm
	if f.Kind == fault.Conflict {
		if id, ok := f.Args["ID"].(int64); ok {
			page.ExistingID = id
		} else {
			page.Conflict = true
		}
	}
	w.render(rw, r, server.Status(f.Kind), "contact", page)
}

func (w *Web) newContactPage(rw http.ResponseWriter, r *http.Request, v *View) {
	c := contact.Contact{EmailStatus: contact.EmailValid, SMSStatus: contact.SMSValid}
	if id, ok := positiveID(r.URL.Query().Get("list")); ok {
		c.Lists = []contact.ListID{contact.ListID(id)}
	}
	page, err := w.contactView(r, v, c, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	w.render(rw, r, http.StatusOK, "contact", page)
}

func (w *Web) createContact(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	page, err := w.contactView(r, v, contact.Contact{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	in := formInput(r, page.Fields)
	in.Lists = formLists(r)
	c, err := w.Contacts.Create(r.Context(), v.ID.Actor, in)
	if err != nil {
		w.contactFormError(rw, r, page, err)
		return
	}
	http.Redirect(rw, r, "/contacts/"+strconv.FormatInt(int64(c.ID), 10)+"?done=created", http.StatusSeeOther)
}

func (w *Web) contactPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	c, err := w.Contacts.Get(r.Context(), v.ID.Actor, contact.ID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, err := w.contactView(r, v, c, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved":
		v.Notice = v.T("contacts.done." + done)
	}
	if page.Personas, err = w.contactPersonas(r, v, int64(c.ID)); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	if w.Scores != nil {
		if page.Scores, err = w.contactScoresSection(r, v, c.ID); err != nil {
			w.failPage(rw, r, v, err)
			return
		}
	}
	if w.Activity != nil {
		if page.Timeline, err = w.timelineSection(r, v, c.ID); err != nil {
			w.failPage(rw, r, v, err)
			return
		}
	}
	w.render(rw, r, http.StatusOK, "contact", page)
}

// saveContact saves the record form against the version it was built
// from (SPEC §3.2), then brings the contact's lists in line with the ticked
// ones.
func (w *Web) saveContact(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	cur, err := w.Contacts.Get(ctx, by, contact.ID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	r.ParseForm()
	page, err := w.contactView(r, v, cur, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	version, ok := positiveID(r.PostFormValue("version"))
	if !ok {
		w.contactFormError(rw, r, page, fault.Invalidf("version", "the form has no version: reload the page").WithKey("contacts.no_version"))
		return
	}
	page.Version = version
	c, err := w.Contacts.Update(ctx, by, cur.ID, version, formInput(r, page.Fields))
	if err != nil {
		w.contactFormError(rw, r, page, err)
		return
	}
	want := formLists(r)
	for _, l := range want {
		if !slices.Contains(cur.Lists, l) {
			if _, err := w.Contacts.AddToList(ctx, by, l, []contact.ID{c.ID}); err != nil {
				w.contactFormError(rw, r, page, err)
				return
			}
		}
	}
	for _, l := range cur.Lists {
		if !slices.Contains(want, l) {
			if _, err := w.Contacts.RemoveFromList(ctx, by, l, []contact.ID{c.ID}); err != nil {
				w.contactFormError(rw, r, page, err)
				return
			}
		}
	}
	http.Redirect(rw, r, "/contacts/"+strconv.FormatInt(int64(c.ID), 10)+"?done=saved", http.StatusSeeOther)
}

// ---- Custom fields ---------------------------------------------------------

// fieldsView is the custom fields page.
type fieldsView struct {
	contactBase
	Fields   []contact.Field
	Editing  contact.FieldID // the field whose form was refused
	Conflict bool
	Posted   url.Values
}

// Types are the field types for the create form.
func (v *fieldsView) Types() []option {
	types := []contact.FieldType{contact.Text, contact.Number, contact.Date, contact.Boolean, contact.Choice, contact.MultiChoice}
	cur := "text"
	if v.Posted != nil && v.Editing == 0 {
		cur = v.Posted.Get("type")
	}
	out := make([]option, 0, len(types))
	for _, t := range types {
		out = append(out, option{Value: string(t), Label: v.T("contacts.field_type." + string(t)), Selected: string(t) == cur})
	}
	return out
}

// TypeLabel translates a field type.
func (v *fieldsView) TypeLabel(t contact.FieldType) string {
	return v.T("contacts.field_type." + string(t))
}

// HasChoices says whether a field type takes choices.
func (v *fieldsView) HasChoices(t contact.FieldType) bool {
	return t == contact.Choice || t == contact.MultiChoice
}

// NewValue is a value of the refused create form.
func (v *fieldsView) NewValue(name string) string {
	if v.Posted == nil || v.Editing != 0 {
		return ""
	}
	return v.Posted.Get(name)
}

// Label and Choices are a field's values for its edit form (the refused
// ones for the field that was being saved).
func (v *fieldsView) Label(f contact.Field) string {
	if v.Posted != nil && v.Editing == f.ID {
		return v.Posted.Get("label")
	}
	return f.Label
}

func (v *fieldsView) Choices(f contact.Field) string {
	if v.Posted != nil && v.Editing == f.ID {
		return v.Posted.Get("choices")
	}
	return strings.Join(f.Choices, "\n")
}

// IsEditing says whether the error shown is about this field's form.
func (v *fieldsView) IsEditing(f contact.Field) bool { return v.Error != "" && v.Editing == f.ID }

// splitLines reads the choices editor: one choice per line.
func splitLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (w *Web) renderFields(rw http.ResponseWriter, r *http.Request, v *View, page *fieldsView, status int) {
	fields, err := w.Contacts.Fields(r.Context(), v.ID.Actor)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	v.Title = v.T("contacts.fields.title")
	page.contactBase = contactBase{View: v, Sub: "fields"}
	page.Fields = fields
	w.render(rw, r, status, "fields", page)
}

func (w *Web) fieldsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved", "deleted":
		v.Notice = v.T("contacts.fields.done." + done)
	}
	w.renderFields(rw, r, v, &fieldsView{}, http.StatusOK)
}

// fieldFormError shows the fields page again with the refused form.
func (w *Web) fieldFormError(rw http.ResponseWriter, r *http.Request, v *View, editing contact.FieldID, err error) {
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	v.Error, v.Field = v.Message(err), f.Field
	page := &fieldsView{Editing: editing, Conflict: f.Kind == fault.Conflict, Posted: r.PostForm}
	w.renderFields(rw, r, v, page, server.Status(f.Kind))
}

func (w *Web) createField(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	_, err := w.Contacts.CreateField(r.Context(), v.ID.Actor, contact.Field{Key: strings.TrimSpace(r.PostFormValue("key")),
		Label: r.PostFormValue("label"), Type: contact.FieldType(r.PostFormValue("type")), Choices: splitLines(r.PostFormValue("choices"))})
	if err != nil {
		w.fieldFormError(rw, r, v, 0, err)
		return
	}
	http.Redirect(rw, r, "/contacts/fields?done=created", http.StatusSeeOther)
}

func (w *Web) saveField(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "field")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	r.ParseForm()
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	_, err = w.Contacts.UpdateField(r.Context(), v.ID.Actor, contact.FieldID(id), version, r.PostFormValue("label"), splitLines(r.PostFormValue("choices")))
	if err != nil {
		w.fieldFormError(rw, r, v, contact.FieldID(id), err)
		return
	}
	http.Redirect(rw, r, "/contacts/fields?done=saved", http.StatusSeeOther)
}

func (w *Web) deleteField(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "field")
	if err == nil {
		err = w.Contacts.DeleteField(r.Context(), v.ID.Actor, contact.FieldID(id))
	}
	if err != nil {
		w.fieldFormError(rw, r, v, contact.FieldID(id), err)
		return
	}
	http.Redirect(rw, r, "/contacts/fields?done=deleted", http.StatusSeeOther)
}

// ---- Lists -----------------------------------------------------------------

// listsView is the lists page; listView one list.
type listsView struct {
	contactBase
	Lists  []contact.List
	Posted url.Values
}

// NewValue is a value of the refused create form.
func (v *listsView) NewValue(name string) string { return v.Posted.Get(name) }

// Count formats a member count.
func (v *listsView) Count(n int64) string { return v.P.Int(n) }

type listView struct {
	contactBase
	List     contact.List
	Version  int64
	Conflict bool
	Posted   url.Values
}

// Value is the list's name or description, from the refused form or the
// list.
func (v *listView) Value(name string) string {
	if v.Posted != nil {
		return v.Posted.Get(name)
	}
	if name == "name" {
		return v.List.Name
	}
	return v.List.Description
}

// Members says how many contacts the list has.
func (v *listView) Members() string {
	return v.P.T("contacts.lists.members", map[string]any{"Count": v.List.Count, "N": v.P.Int(v.List.Count)})
}

func (w *Web) listsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	if r.URL.Query().Get("done") == "deleted" {
		v.Notice = v.T("contacts.lists.done.deleted")
	}
	w.renderLists(rw, r, v, nil, http.StatusOK)
}

func (w *Web) renderLists(rw http.ResponseWriter, r *http.Request, v *View, posted url.Values, status int) {
	lists, err := w.Contacts.Lists(r.Context(), v.ID.Actor)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	v.Title = v.T("contacts.lists.title")
	w.render(rw, r, status, "lists", &listsView{contactBase: contactBase{View: v, Sub: "lists"}, Lists: lists, Posted: posted})
}

func (w *Web) createList(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	l, err := w.Contacts.CreateList(r.Context(), v.ID.Actor, r.PostFormValue("name"), r.PostFormValue("description"))
	if err != nil {
		f, ok := isFormError(err)
		if !ok {
			w.failPage(rw, r, v, err)
			return
		}
		v.Error, v.Field = v.Message(err), f.Field
		w.renderLists(rw, r, v, r.PostForm, server.Status(f.Kind))
		return
	}
	http.Redirect(rw, r, "/contacts/lists/"+strconv.FormatInt(int64(l.ID), 10)+"?done=created", http.StatusSeeOther)
}

func (w *Web) listPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "list")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	l, err := w.Contacts.GetList(r.Context(), v.ID.Actor, contact.ListID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved":
		v.Notice = v.T("contacts.lists.done." + done)
	}
	v.Title = l.Name
	w.render(rw, r, http.StatusOK, "list", &listView{contactBase: contactBase{View: v, Sub: "lists"}, List: l, Version: l.Version})
}

func (w *Web) saveList(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "list")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	cur, err := w.Contacts.GetList(ctx, by, contact.ListID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	r.ParseForm()
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	l, err := w.Contacts.UpdateList(ctx, by, cur.ID, version, r.PostFormValue("name"), r.PostFormValue("description"))
	if err != nil {
		f, ok := isFormError(err)
		if !ok {
			w.failPage(rw, r, v, err)
			return
		}
		v.Error, v.Field, v.Title = v.Message(err), f.Field, cur.Name
		w.render(rw, r, server.Status(f.Kind), "list", &listView{contactBase: contactBase{View: v, Sub: "lists"}, List: cur,
			Version: version, Conflict: f.Kind == fault.Conflict, Posted: r.PostForm})
		return
	}
	http.Redirect(rw, r, "/contacts/lists/"+strconv.FormatInt(int64(l.ID), 10)+"?done=saved", http.StatusSeeOther)
}

// ---- Blacklist -------------------------------------------------------------

// blacklistView is the blacklist: the add form and one page of entries.
type blacklistView struct {
	contactBase
	Entries   []contact.BlacklistEntry
	Type      string // the type filter
	NextPage  string
	FirstPage string
	Posted    url.Values
}

var blacklistTypes = []string{"email", "domain", "phone"}

// TypeOptions are the entry types, with sel selected.
func (v *blacklistView) TypeOptions(sel string) []option {
	out := make([]option, 0, len(blacklistTypes))
	for _, t := range blacklistTypes {
		out = append(out, option{Value: t, Label: v.T("contacts.blacklist.type." + t), Selected: t == sel})
	}
	return out
}

// NewValue is a value of the refused add form.
func (v *blacklistView) NewValue(name string) string { return v.Posted.Get(name) }

// TypeLabel translates an entry type.
func (v *blacklistView) TypeLabel(t string) string { return v.T("contacts.blacklist.type." + t) }

func (w *Web) blacklistPage(rw http.ResponseWriter, r *http.Request, v *View) {
	switch done := r.URL.Query().Get("done"); done {
	case "added", "removed":
		v.Notice = v.T("contacts.blacklist.done." + done)
	}
	w.renderBlacklist(rw, r, v, nil, http.StatusOK)
}

func (w *Web) renderBlacklist(rw http.ResponseWriter, r *http.Request, v *View, posted url.Values, status int) {
	q := r.URL.Query()
	page := &blacklistView{contactBase: contactBase{View: v, Sub: "blacklist"}, Posted: posted}
	if t := q.Get("type"); slices.Contains(blacklistTypes, t) {
		page.Type = t
	}
	after, _ := positiveID(q.Get("cursor"))
	entries, err := w.Contacts.Blacklist(r.Context(), v.ID.Actor, page.Type, after, pageSize+1)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	base := url.Values{}
	if page.Type != "" {
		base.Set("type", page.Type)
	}
	if len(entries) > pageSize {
		entries = entries[:pageSize]
		next := url.Values{"cursor": {strconv.FormatInt(entries[pageSize-1].ID, 10)}}
		if page.Type != "" {
			next.Set("type", page.Type)
		}
		page.NextPage = "/contacts/blacklist?" + next.Encode()
	}
	if after > 0 {
		page.FirstPage = "/contacts/blacklist"
		if len(base) > 0 {
			page.FirstPage += "?" + base.Encode()
		}
	}
	page.Entries = entries
	v.Title = v.T("contacts.blacklist.title")
	w.render(rw, r, status, "blacklist", page)
}

func (w *Web) addToBlacklist(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	_, err := w.Contacts.AddToBlacklist(r.Context(), v.ID.Actor, r.PostFormValue("type"), r.PostFormValue("value"))
	if err != nil {
		f, ok := isFormError(err)
		if !ok {
			w.failPage(rw, r, v, err)
			return
		}
		v.Error, v.Field = v.Message(err), f.Field
		w.renderBlacklist(rw, r, v, r.PostForm, server.Status(f.Kind))
		return
	}
	http.Redirect(rw, r, "/contacts/blacklist?done=added", http.StatusSeeOther)
}

// removeThen deletes the object named by the path's id with del and goes to
// the page `to`; a refusal shows the error page.
func (w *Web) removeThen(what, to string, del func(ctx context.Context, by rights.Actor, id int64) error) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request, v *View) {
		id, err := pathID(r, what)
		if err == nil {
			err = del(r.Context(), v.ID.Actor, id)
		}
		if err != nil {
			w.failPage(rw, r, v, err)
			return
		}
		http.Redirect(rw, r, to, http.StatusSeeOther)
	}
}

package api

import "envoi/internal/rights"

// contactRoutes are the contact base (SPEC §4, §12): contacts, custom
// fields, lists, the blacklist, and the account's contact settings.
// Consulting needs contacts ≥ guest, changing ≥ editor, a bulk delete
// approver; the settings are under the settings category (changing the
// unique key is a validation there).
func (a *API) contactRoutes() []Route {
	c, g, e, ap := rights.Contacts, rights.Guest, rights.Editor, rights.Approver
	return []Route{
		{Pattern: "GET /api/v1/contacts", Access: Member, Category: c, Level: g,
			Summary: "List contacts. q: the last name starts with it (case and accents ignored; also \"first last\"), or the email, or the phone (any format); " +
				"list and status (an email status) filter; sort: id (default), name, email, updated, or -id, -name… for descending; " +
				"cursor (the previous page's next_cursor, same sort) and limit (1–500) page",
			handle: a.listContacts},
		{Pattern: "POST /api/v1/contacts", Access: Member, Category: c, Level: e,
			Summary: "Create a contact; with duplicates refused, an existing unique key answers 409 with existing_id", handle: a.createContact},
		{Pattern: "DELETE /api/v1/contacts", Access: Member, Category: c, Level: ap,
			Summary: `Delete several contacts at once: {"contacts": [ids]}`, handle: a.deleteContacts},
		{Pattern: "GET /api/v1/contacts/{id}", Access: Member, Category: c, Level: g, Summary: "One contact", handle: a.getContact},
		{Pattern: "PATCH /api/v1/contacts/{id}", Access: Member, Category: c, Level: e,
			Summary: "Change some fields of a contact; send the version you read to be refused (409) if someone changed it since", handle: a.updateContact},
		{Pattern: "DELETE /api/v1/contacts/{id}", Access: Member, Category: c, Level: e, Summary: "Delete a contact", handle: a.deleteContact},

		{Pattern: "GET /api/v1/fields", Access: Member, Category: c, Level: g, Summary: "The account's custom fields", handle: a.listFields},
		{Pattern: "POST /api/v1/fields", Access: Member, Category: c, Level: e,
			Summary: "Create a custom field: key, label, type (text, number, date, boolean, choice, multi_choice), choices", handle: a.createField},
		{Pattern: "GET /api/v1/fields/{id}", Access: Member, Category: c, Level: g, Summary: "One custom field", handle: a.getField},
		{Pattern: "PATCH /api/v1/fields/{id}", Access: Member, Category: c, Level: e,
			Summary: "Change a custom field's label or choices (its key and type are fixed)", handle: a.updateField},
		{Pattern: "DELETE /api/v1/fields/{id}", Access: Member, Category: c, Level: e, Summary: "Delete a custom field and its values", handle: a.deleteField},

		{Pattern: "GET /api/v1/lists", Access: Member, Category: c, Level: g, Summary: "The account's lists with their member counts", handle: a.listLists},
		{Pattern: "POST /api/v1/lists", Access: Member, Category: c, Level: e, Summary: "Create a list", handle: a.createList},
		{Pattern: "GET /api/v1/lists/{id}", Access: Member, Category: c, Level: g, Summary: "One list", handle: a.getList},
		{Pattern: "PATCH /api/v1/lists/{id}", Access: Member, Category: c, Level: e, Summary: "Rename a list or change its description", handle: a.updateList},
		{Pattern: "DELETE /api/v1/lists/{id}", Access: Member, Category: c, Level: e, Summary: "Delete a list (its contacts stay)", handle: a.deleteList},
		{Pattern: "POST /api/v1/lists/{id}/contacts", Access: Member, Category: c, Level: e,
			Summary: `Add contacts to a list: {"contacts": [ids]}`, handle: a.addToList},
		{Pattern: "DELETE /api/v1/lists/{id}/contacts", Access: Member, Category: c, Level: e,
			Summary: `Remove contacts from a list: {"contacts": [ids]}`, handle: a.removeFromList},

		{Pattern: "GET /api/v1/blacklist", Access: Member, Category: c, Level: g,
			Summary: "The blacklist (emails, domains, phones that never receive anything); type filters; cursor and limit page", handle: a.listBlacklist},
		{Pattern: "POST /api/v1/blacklist", Access: Member, Category: c, Level: e,
			Summary: `Blacklist an email, a domain or a phone: {"type", "value"}`, handle: a.addToBlacklist},
		{Pattern: "DELETE /api/v1/blacklist", Access: Member, Category: c, Level: e,
			Summary: `Remove a blacklist entry: {"id"} or ?id=`, handle: a.removeFromBlacklist},

		{Pattern: "GET /api/v1/settings", Access: Member, Category: rights.Settings, Level: g,
			Summary: "The account's settings (for now: unique_key, refuse_duplicates, default_country, score_interval_hours)", handle: a.getSettings},
		{Pattern: "PATCH /api/v1/settings", Access: Member, Category: rights.Settings, Level: ap,
			Summary: "Change the account's settings (unique key, duplicate refusal, default country, score_interval_hours: 1 to 720)", handle: a.updateSettings},
	}
}

package web

import (
	"context"

	"envoi/internal/contact"
	"envoi/internal/rights"
)

// contactRoutes are the Contacts section (SPEC §4): the contact list and
// records, lists, custom fields and the blacklist. Consulting needs
// contacts ≥ guest, changing ≥ editor; a bulk delete is checked at approver
// by the service (one form carries every bulk action).
//
// Actions on lists and fields end in /edit or /delete so that no pattern
// /contacts/{id}/x (three segments) overlaps /contacts/lists/{id}: Go's
// ServeMux refuses overlapping patterns where neither is more specific.
func (w *Web) contactRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "GET /contacts", Access: Member, Category: c, Level: g, handle: w.contactsPage},
		{Pattern: "POST /contacts/bulk", Access: Member, Category: c, Level: e, handle: w.bulkContacts},
		{Pattern: "GET /contacts/new", Access: Member, Category: c, Level: e, handle: w.newContactPage},
		{Pattern: "POST /contacts", Access: Member, Category: c, Level: e, handle: w.createContact},
		{Pattern: "GET /contacts/{id}", Access: Member, Category: c, Level: g, handle: w.contactPage},
		{Pattern: "POST /contacts/{id}", Access: Member, Category: c, Level: e, handle: w.saveContact},
		{Pattern: "POST /contacts/{id}/delete", Access: Member, Category: c, Level: e, handle: w.removeThen("contact", "/contacts?done=deleted", func(ctx context.Context, by rights.Actor, id int64) error {
			return w.Contacts.Delete(ctx, by, contact.ID(id))
		})},

		{Pattern: "GET /contacts/fields", Access: Member, Category: c, Level: g, handle: w.fieldsPage},
		{Pattern: "POST /contacts/fields", Access: Member, Category: c, Level: e, handle: w.createField},
		{Pattern: "POST /contacts/fields/{id}/edit", Access: Member, Category: c, Level: e, handle: w.saveField},
		{Pattern: "POST /contacts/fields/{id}/delete", Access: Member, Category: c, Level: e, handle: w.deleteField},

		{Pattern: "GET /contacts/lists", Access: Member, Category: c, Level: g, handle: w.listsPage},
		{Pattern: "POST /contacts/lists", Access: Member, Category: c, Level: e, handle: w.createList},
		{Pattern: "GET /contacts/lists/{id}", Access: Member, Category: c, Level: g, handle: w.listPage},
		{Pattern: "POST /contacts/lists/{id}/edit", Access: Member, Category: c, Level: e, handle: w.saveList},
		{Pattern: "POST /contacts/lists/{id}/delete", Access: Member, Category: c, Level: e, handle: w.removeThen("list", "/contacts/lists?done=deleted", func(ctx context.Context, by rights.Actor, id int64) error {
			return w.Contacts.DeleteList(ctx, by, contact.ListID(id))
		})},

		{Pattern: "GET /contacts/blacklist", Access: Member, Category: c, Level: g, handle: w.blacklistPage},
		{Pattern: "POST /contacts/blacklist", Access: Member, Category: c, Level: e, handle: w.addToBlacklist},
		{Pattern: "POST /contacts/blacklist/{id}/delete", Access: Member, Category: c, Level: e, handle: w.removeThen("blacklist entry", "/contacts/blacklist?done=removed", w.Contacts.RemoveFromBlacklist)},
	}
}

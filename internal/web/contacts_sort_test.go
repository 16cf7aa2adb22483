package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"envoi/internal/database"
	"envoi/internal/dbtest"
)

// TestContactListSortsAndPages: the sort select orders the list, the next
// page link keeps the order (its cursor holds the sort key), and every
// contact shows once; the French page explains what the search matches.
func TestContactListSortsAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		byName := map[string]string{} // id → last name
		for i := range 55 {
			last := fmt.Sprintf("Nom%02d", (i*7)%55)
			ct := e.newContact(acc, fmt.Sprintf("p%02d@example.com", i), "Ada", last)
			byName[fmt.Sprint(ct.ID)] = last
		}
		c := e.login("owner@example.com")
		_, body, _ := e.get(c, "/contacts?sort=-name")
		if !strings.Contains(body, `<option value="-name" selected>`) || !strings.Contains(body, "Nom, de Z à A") ||
			!strings.Contains(body, `id="contacts-search-help"`) || !strings.Contains(body, "commence par ce que vous tapez") {
			t.Fatalf("sort select or search help missing:\n%s", body)
		}
		first := rows(body)
		next := regexp.MustCompile(`id="contacts-next" href="([^"]+)"`).FindStringSubmatch(body)
		if len(first) != 50 || next == nil || !strings.Contains(next[1], "sort=-name") {
			t.Fatalf("first page: %d rows, next link %v", len(first), next)
		}
		_, body, _ = e.get(c, strings.ReplaceAll(next[1], "&amp;", "&"))
		all := append(first, rows(body)...)
		var names []string
		for _, id := range all {
			names = append(names, byName[id])
		}
		want := slices.Clone(names)
		slices.Sort(want)
		slices.Reverse(want)
		if len(all) != 55 || !slices.Equal(names, want) {
			t.Fatalf("by name descending over two pages: %v", names)
		}
		if status, body, _ := e.get(c, "/contacts?sort=size"); status != 400 || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("unknown sort: %d", status)
		}
	})
}

package contact_test

// BenchmarkSearch measures the contacts page's queries (issue 4: "Contacts
// page with a search over 1M contacts: under 100 ms per page") over a
// generated base (search_gen_test.go) of ENVOI_BENCH_CONTACTS contacts
// (1,000,000 by default, 100,000 with -short) in one account, plus 5 % in
// another, on SQLite and PostgreSQL. Run by bench/contacts-search.sh;
// figures in bench/RESULTS.md.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

var benchStores = []struct {
	name string
	open func(testing.TB) *database.DB
}{
	{"sqlite", dbtest.SQLite},
	{"postgres", dbtest.Postgres},
}

func benchSize(b *testing.B) int {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	if s := os.Getenv("ENVOI_BENCH_CONTACTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 10_000 {
			b.Fatalf("ENVOI_BENCH_CONTACTS=%q: want a number ≥ 10000", s)
		}
		n = v
	}
	return n
}

// nationalFormat writes +33612345678 as people do: 06 12 34 56 78.
func nationalFormat(e164 string) string {
	d := "0" + strings.TrimPrefix(e164, "+33")
	var parts []string
	for i := 0; i < len(d); i += 2 {
		parts = append(parts, d[i:min(i+2, len(d))])
	}
	return strings.Join(parts, " ")
}

func BenchmarkSearch(b *testing.B) {
	n := benchSize(b)
	for _, store := range benchStores {
		b.Run(fmt.Sprintf("%s/%dk", store.name, n/1000), func(b *testing.B) {
			db := store.open(b)
			ctx := context.Background()
			by := benchAccount(b, db, "Acme")
			other := benchAccount(b, db, "Other")
			svc := &contact.Service{DB: db, Now: time.Now}
			start := time.Now()
			data := generateContacts(b, db, svc, by, other.AccountID, n)
			b.Logf("%s: generated %d contacts (%d distinct last names) in %s", store.name, n, data.lastNames, time.Since(start).Round(time.Second))
			// The cursor of page 200 of 50, in each order it is measured in.
			cursorAt := func(f contact.Filter, page int) string {
				f.Limit = 50
				for range page - 1 {
					p, err := svc.List(ctx, by, f)
					if err != nil || p.Cursor == "" {
						b.Fatalf("walking to page %d: %v", page, err)
					}
					f.Cursor = p.Cursor
				}
				return f.Cursor
			}
			page200 := cursorAt(contact.Filter{}, 200)
			page200ByName := cursorAt(contact.Filter{Sort: contact.SortName}, 200)
			emailPrefix := func(i int) string {
				e := data.emails[i%len(data.emails)]
				return e[:min(len(e), strings.IndexByte(e, '@')+1, 8)]
			}
			cases := []struct {
				name   string
				filter func(i int) contact.Filter
				empty  bool
			}{
				{"first-page", func(int) contact.Filter { return contact.Filter{} }, false},
				{"page-200", func(int) contact.Filter { return contact.Filter{Cursor: page200} }, false},
				{"common-last-name", func(int) contact.Filter { return contact.Filter{Query: "martin"} }, false},
				{"common-last-name/by-name", func(int) contact.Filter { return contact.Filter{Query: "Martin", Sort: contact.SortName} }, false},
				{"rare-last-name-prefix", func(int) contact.Filter { return contact.Filter{Query: "quemen"} }, false},
				{"first-and-last-name", func(int) contact.Filter { return contact.Filter{Query: "hélène martin"} }, false},
				{"one-letter", func(int) contact.Filter { return contact.Filter{Query: "m"} }, false},
				{"email-prefix", func(i int) contact.Filter { return contact.Filter{Query: emailPrefix(i)} }, false},
				{"whole-email", func(i int) contact.Filter { return contact.Filter{Query: data.emails[i%len(data.emails)]} }, false},
				{"phone-national", func(i int) contact.Filter {
					return contact.Filter{Query: nationalFormat(data.phones[i%len(data.phones)])}
				}, false},
				{"phone-start", func(int) contact.Filter { return contact.Filter{Query: "06 12"} }, false},
				{"no-result", func(int) contact.Filter { return contact.Filter{Query: "zzyzx"} }, true},
				{"list-10%", func(int) contact.Filter { return contact.Filter{List: data.lists["Clients"]} }, false},
				{"list-200", func(int) contact.Filter { return contact.Filter{List: data.lists["VIP"]} }, false},
				{"list-60%/by-name", func(int) contact.Filter {
					return contact.Filter{List: data.lists["Newsletter"], Sort: contact.SortName}
				}, false},
				{"list-1%/by-email", func(int) contact.Filter {
					return contact.Filter{List: data.lists["Salon 2026"], Sort: contact.SortEmail}
				}, false},
				{"search+list", func(int) contact.Filter { return contact.Filter{Query: "martin", List: data.lists["Clients"]} }, false},
				{"status-complained", func(int) contact.Filter { return contact.Filter{Status: contact.EmailComplained} }, false},
				{"page-200/by-name", func(int) contact.Filter { return contact.Filter{Cursor: page200ByName, Sort: contact.SortName} }, false},
			}
			for _, s := range contact.Sorts[1:] {
				cases = append(cases, struct {
					name   string
					filter func(i int) contact.Filter
					empty  bool
				}{"sort/" + string(s), func(int) contact.Filter { return contact.Filter{Sort: s} }, false})
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					i := 0
					for b.Loop() {
						f := c.filter(i)
						f.Limit = 50
						p, err := svc.List(ctx, by, f)
						if err != nil {
							b.Fatal(err)
						}
						if (len(p.Contacts) == 0) != c.empty {
							b.Fatalf("%+v: %d contacts", f, len(p.Contacts))
						}
						i++
					}
				})
			}
			b.Run("lists-with-counts", func(b *testing.B) {
				for b.Loop() {
					if ls, err := svc.Lists(ctx, by); err != nil || len(ls) != 4 {
						b.Fatal(ls, err)
					}
				}
			})
			b.Run("list-names", func(b *testing.B) {
				for b.Loop() {
					if ls, err := svc.ListNames(ctx, by); err != nil || len(ls) != 4 {
						b.Fatal(ls, err)
					}
				}
			})
		})
	}
}

package history_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func TestVisible(t *testing.T) {
	actor := func(l rights.Level) rights.Actor {
		return rights.Actor{AccountID: 1, UserID: 10, Rights: rights.Set{rights.Users: l}}
	}
	tests := []struct {
		name      string
		by        rights.Actor
		ask       history.Filter
		wantUser  int64
		forbidden bool
	}{
		{"none may not read", actor(rights.None), history.Filter{}, 0, true},
		{"none may not read even their own", actor(rights.None), history.Filter{UserID: 10}, 0, true},
		{"other categories do not count", rights.Actor{AccountID: 1, UserID: 10, Rights: rights.Set{rights.Contacts: rights.Approver}}, history.Filter{}, 0, true},
		{"guest sees their own", actor(rights.Guest), history.Filter{}, 10, false},
		{"guest asking for another user still sees their own", actor(rights.Guest), history.Filter{UserID: 11}, 10, false},
		{"editor asking for another user still sees their own", actor(rights.Editor), history.Filter{UserID: 11}, 10, false},
		{"approver sees everyone", actor(rights.Approver), history.Filter{}, 0, false},
		{"approver may pick a user", actor(rights.Approver), history.Filter{UserID: 11}, 11, false},
		{"owner sees everyone", rights.Actor{AccountID: 1, UserID: 10, Owner: true, Rights: rights.All()}, history.Filter{}, 0, false},
		{"guest without a user id is refused, not widened", rights.Actor{AccountID: 1, Rights: rights.Set{rights.Users: rights.Guest}}, history.Filter{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ask.Category = rights.Contacts
			got, err := history.Visible(tt.by, tt.ask)
			if tt.forbidden {
				if !fault.Is(err, fault.Forbidden) {
					t.Fatalf("got %+v, %v; want Forbidden", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.UserID != tt.wantUser || got.Category != rights.Contacts {
				t.Fatalf("filter = %+v, want user %d and the other filters kept", got, tt.wantUser)
			}
		})
	}
}

func TestListForAppliesTheRule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		alice := rights.Actor{AccountID: 1, UserID: 10, Name: "Alice", Rights: rights.Set{rights.Users: rights.Guest}}
		bob := rights.Actor{AccountID: 1, UserID: 11, Name: "Bob", Rights: rights.Set{rights.Users: rights.Approver}}
		stranger := rights.Actor{AccountID: 2, UserID: 12, Name: "Mallory", Rights: rights.All()}
		record(t, db, alice, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1}, t0)
		record(t, db, bob, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 2}, t0.Add(time.Minute))
		record(t, db, stranger, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 3}, t0)

		actors := func(es []history.Entry) string {
			var out []string
			for _, e := range es {
				out = append(out, e.ActorName)
			}
			return strings.Join(out, ",")
		}
		for _, tt := range []struct {
			name string
			by   rights.Actor
			f    history.Filter
			want string
		}{
			{"guest, no filter", alice, history.Filter{}, "Alice"},
			{"guest asking for Bob", alice, history.Filter{UserID: 11}, "Alice"},
			{"approver, no filter", bob, history.Filter{}, "Bob,Alice"},
			{"approver asking for Alice", bob, history.Filter{UserID: 10}, "Alice"},
			{"another account's owner sees only theirs", stranger, history.Filter{}, "Mallory"},
		} {
			got, _, err := history.ListFor(ctx, db.Read(), tt.by, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if actors(got) != tt.want {
				t.Errorf("%s: got %q, want %q", tt.name, actors(got), tt.want)
			}
		}
		nobody := rights.Actor{AccountID: 1, UserID: 13}
		if _, _, err := history.ListFor(ctx, db.Read(), nobody, history.Filter{}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("users=none: %v, want Forbidden", err)
		}
	})
}

func TestPeopleAreTheAccountsMembersByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Now().UnixMilli()
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO accounts (id, name, created_at, updated_at) VALUES ($1, 'A', $2, $2), ($3, 'B', $2, $2)`, []any{1, now, 2}},
			{`INSERT INTO users (id, email, first_name, last_name, created_at, updated_at) VALUES
				(10, 'zoe@example.com', 'Zoé', 'Martin', $1, $1), (11, 'bob@example.com', '', '', $1, $1),
				(12, 'eve@example.com', 'Eve', '', $1, $1)`, []any{now}},
			{`INSERT INTO members (account_id, user_id, status, created_at, updated_at) VALUES
				(1, 10, 'active', $1, $1), (1, 11, 'invited', $1, $1), (2, 12, 'active', $1, $1)`, []any{now}},
		} {
			if _, err := db.Write().Exec(ctx, stmt.sql, stmt.args...); err != nil {
				t.Fatal(err)
			}
		}
		people, err := history.People(ctx, db.Read(), 1)
		if err != nil {
			t.Fatal(err)
		}
		want := []history.Person{{UserID: 11, Name: "bob@example.com"}, {UserID: 10, Name: "Zoé Martin"}}
		if len(people) != 2 || people[0] != want[0] || people[1] != want[1] {
			t.Fatalf("people = %+v, want %+v", people, want)
		}
	})
}

package account_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// sentInvitations records the invitations handed to the mailer (the edge:
// mail delivery itself is tested in outbox and smtprelay).
type sentInvitations struct {
	mu    sync.Mutex
	links []string
	to    []string
}

func (s *sentInvitations) Invitation(_ context.Context, _ int64, to, _, _, _, link string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.links, s.to = append(s.links, link), append(s.to, to)
	return nil
}

type fixture struct {
	db      *database.DB
	members *account.Members
	auth    *auth.Service
	mail    *sentInvitations
	now     time.Time
	acc     account.Account
	owner   rights.Actor
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, mail: &sentInvitations{}, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	secret, _ := instance.Secret(ctx, db)
	f.auth = &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), Now: clock}
	f.members = &account.Members{DB: db, Now: clock, Inviter: f.mail, BaseURL: "https://envoi.example"}
	acc, owner, err := (&account.Service{DB: db, Now: clock}).Create(ctx, account.New{Name: "Acme", Admin: user.New{Email: "owner@example.com", Password: "owner password 1", FirstName: "Olga"}})
	if err != nil {
		t.Fatal(err)
	}
	f.acc = acc
	f.owner, err = account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// join invites a person with rights, accepts the invitation and returns
// their actor.
func (f *fixture) join(t *testing.T, email string, set rights.Set) rights.Actor {
	t.Helper()
	ctx := context.Background()
	p, link, err := f.members.Invite(ctx, f.owner, account.Invite{Email: email, Rights: set})
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	if err := f.db.InTx(ctx, func(q database.Querier) error {
		_, err := account.AcceptInvitation(ctx, q, token, "member password 1", "ip", "ua", f.now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	a, err := account.ActorFor(ctx, f.db.Read(), f.acc.ID, p.User, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInvitationLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		p, link, err := f.members.Invite(ctx, f.owner, account.Invite{Email: " Bob@Example.com ", FirstName: "Bob",
			Rights: rights.Set{rights.Emailings: rights.Editor}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != account.Invited || p.Email != "bob@example.com" || p.InviteExpires == nil || !p.InviteExpires.Equal(f.now.Add(7*24*time.Hour)) {
			t.Fatalf("invited person = %+v", p)
		}
		if len(f.mail.links) != 1 || f.mail.links[0] != link || !strings.HasPrefix(link, "https://envoi.example/invitation/") || f.mail.to[0] != "bob@example.com" {
			t.Fatalf("invitation mail: %v %v", f.mail.to, f.mail.links)
		}
		// An invited person cannot log in yet: no password.
		if _, err := f.auth.Login(ctx, "bob@example.com", "", "ip", "ua"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("login before accepting: %v", err)
		}
		token := link[strings.LastIndex(link, "/")+1:]
		accept := func(token, pw string) error {
			return db.InTx(ctx, func(q database.Querier) error {
				_, err := account.AcceptInvitation(ctx, q, token, pw, "192.0.2.1", "ua", f.now)
				return err
			})
		}
		if err := accept(token, "short"); !fault.Is(err, fault.Invalid) {
			t.Fatalf("short password: %v", err)
		}
		if err := accept("forged", "bob password 12"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("forged token: %v", err)
		}
		if err := accept(token, "bob password 12"); err != nil {
			t.Fatal(err)
		}
		if err := accept(token, "bob password 12"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second use of the link: %v", err)
		}
		if _, err := f.auth.Login(ctx, "bob@example.com", "bob password 12", "ip", "ua"); err != nil {
			t.Fatalf("login after accepting: %v", err)
		}
		got, _ := f.members.Get(ctx, f.owner, p.User.ID)
		if got.Status != account.Active || got.Rights.Of(rights.Emailings) != rights.Editor {
			t.Fatalf("after accept: %+v", got)
		}
		entries, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{ObjectType: "user", ObjectID: int64(p.User.ID)})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != "login.succeeded,user.invite.accept,user.invite" {
			t.Fatalf("history of bob = %v", actions)
		}
	})
}

func TestInvitationExpiresAfterSevenDaysAndResendReplacesIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		p, first, err := f.members.Invite(ctx, f.owner, account.Invite{Email: "carol@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.members.ResendInvitation(ctx, f.owner, p.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok := func(link string) string { return link[strings.LastIndex(link, "/")+1:] }
		if _, _, err := account.FindInvitation(ctx, db.Read(), tok(first), f.now); !fault.Is(err, fault.NotFound) {
			t.Fatalf("replaced link still works: %v", err)
		}
		if _, _, err := account.FindInvitation(ctx, db.Read(), tok(second), f.now.Add(7*24*time.Hour-time.Minute)); err != nil {
			t.Fatalf("link on day 7: %v", err)
		}
		if _, _, err := account.FindInvitation(ctx, db.Read(), tok(second), f.now.Add(7*24*time.Hour)); !fault.Is(err, fault.NotFound) {
			t.Fatalf("expired link: %v", err)
		}
		if err := f.members.CancelInvitation(ctx, f.owner, p.User.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.members.Get(ctx, f.owner, p.User.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("cancelled invitee still a member: %v", err)
		}
		if _, _, err := account.FindInvitation(ctx, db.Read(), tok(second), f.now); !fault.Is(err, fault.NotFound) {
			t.Fatalf("cancelled link works: %v", err)
		}
	})
}

func TestNobodyGrantsAboveTheirOwnLevel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		manager := f.join(t, "manager@example.com", rights.Set{rights.Users: rights.Editor, rights.Contacts: rights.Editor})
		guest := f.join(t, "guest@example.com", rights.Set{rights.Users: rights.Guest})
		senior := f.join(t, "senior@example.com", rights.Set{rights.Emailings: rights.Approver})
		tests := []struct {
			name string
			run  func() error
			want fault.Kind
		}{
			{"grant within own level", func() error {
				_, _, err := f.members.Invite(ctx, manager, account.Invite{Email: "a@example.com", Rights: rights.Set{rights.Contacts: rights.Editor}})
				return err
			}, fault.Internal},
			{"grant above own level", func() error {
				_, _, err := f.members.Invite(ctx, manager, account.Invite{Email: "b@example.com", Rights: rights.Set{rights.Contacts: rights.Approver}})
				return err
			}, fault.Forbidden},
			{"grant in a category one has no right in", func() error {
				_, _, err := f.members.Invite(ctx, manager, account.Invite{Email: "c@example.com", Rights: rights.Set{rights.Invoices: rights.Guest}})
				return err
			}, fault.Forbidden},
			{"guest cannot invite", func() error {
				_, _, err := f.members.Invite(ctx, guest, account.Invite{Email: "d@example.com"})
				return err
			}, fault.Forbidden},
			{"change own rights", func() error {
				_, err := f.members.SetRights(ctx, manager, user.ID(manager.UserID), 0, rights.Set{rights.Users: rights.Approver})
				return err
			}, fault.Forbidden},
			{"demote someone above oneself", func() error {
				_, err := f.members.SetRights(ctx, manager, user.ID(senior.UserID), 0, rights.Set{})
				return err
			}, fault.Forbidden},
			{"demote the administrator", func() error {
				_, err := f.members.SetRights(ctx, f.owner, user.ID(f.owner.UserID), 0, rights.Set{})
				return err
			}, fault.Forbidden},
			{"editor cannot delete", func() error { return f.members.Delete(ctx, manager, user.ID(guest.UserID)) }, fault.Forbidden},
			{"delete the administrator", func() error { return f.members.Delete(ctx, f.owner, user.ID(f.owner.UserID)) }, fault.Forbidden},
			{"editor cannot suspend", func() error {
				_, err := f.members.SetStatus(ctx, manager, user.ID(guest.UserID), account.Suspended)
				return err
			}, fault.Forbidden},
			{"only the owner transfers", func() error { return f.members.TransferOwnership(ctx, manager, user.ID(manager.UserID)) }, fault.Rule},
		}
		for _, tt := range tests {
			err := tt.run()
			if tt.want == fault.Internal && err != nil || tt.want != fault.Internal && fault.KindOf(err) != tt.want {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
		// The refused changes left the rights as they were.
		p, _ := f.members.Get(ctx, f.owner, user.ID(senior.UserID))
		if p.Rights.Of(rights.Emailings) != rights.Approver {
			t.Fatal("a refused demotion changed the rights")
		}
	})
}

func TestRightsUpdateIsRecordedPerCategory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		bob := f.join(t, "bob@example.com", rights.Set{rights.Contacts: rights.Guest})
		p, err := f.members.SetRights(ctx, f.owner, user.ID(bob.UserID), 0, rights.Set{rights.Contacts: rights.Editor, rights.Invoices: rights.Guest})
		if err != nil {
			t.Fatal(err)
		}
		if p.Rights.Of(rights.Contacts) != rights.Editor || p.Rights.Of(rights.Invoices) != rights.Guest {
			t.Fatalf("rights = %v", p.Rights)
		}
		entries, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{Category: rights.Users, Limit: 1})
		e := entries[0]
		if e.Action != "user.rights.update" || e.UserID != f.owner.UserID || len(e.Changes) != 2 ||
			e.Changes[0].Field != "rights.contacts" || e.Changes[0].Before != "guest" || e.Changes[0].After != "editor" {
			t.Fatalf("entry = %+v", e)
		}
	})
}

func TestStaleVersionIsRefusedNamingWhoChangedIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		bob := f.join(t, "bob@example.com", nil)
		seen, _ := f.members.Get(ctx, f.owner, user.ID(bob.UserID))
		name := "Robert"
		if _, err := f.members.Update(ctx, f.owner, user.ID(bob.UserID), seen.Member.Version, account.Patch{FirstName: &name}); err != nil {
			t.Fatal(err)
		}
		other := "Bobby"
		_, err := f.members.Update(ctx, f.owner, user.ID(bob.UserID), seen.Member.Version, account.Patch{FirstName: &other})
		if !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "modified by Olga") {
			t.Fatalf("stale save: %v", err)
		}
		p, _ := f.members.Get(ctx, f.owner, user.ID(bob.UserID))
		if p.FirstName != "Robert" {
			t.Fatalf("the stale save overwrote: %q", p.FirstName)
		}
	})
}

func TestSuspendAndDeleteCutAccessAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		bob := f.join(t, "bob@example.com", rights.Set{rights.Contacts: rights.Guest})
		login, err := f.auth.Login(ctx, "bob@example.com", "member password 1", "ip", "ua")
		if err != nil {
			t.Fatal(err)
		}
		session := login.Token
		key, _, err := f.auth.CreateKey(ctx, f.acc.ID, "bob@example.com", "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.members.SetStatus(ctx, f.owner, user.ID(bob.UserID), account.Suspended); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Session(ctx, session); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("session after suspension: %v", err)
		}
		if _, err := f.auth.APIKey(ctx, key); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("key after suspension: %v", err)
		}
		if _, err := f.auth.Login(ctx, "bob@example.com", "member password 1", "ip", "ua"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("login while suspended: %v", err)
		}
		if _, err := f.members.SetStatus(ctx, f.owner, user.ID(bob.UserID), account.Active); err != nil {
			t.Fatal(err)
		}
		login, err = f.auth.Login(ctx, "bob@example.com", "member password 1", "ip", "ua")
		if err != nil {
			t.Fatalf("login after reactivation: %v", err)
		}
		session = login.Token
		key, _, err = f.auth.CreateKey(ctx, f.acc.ID, "bob@example.com", "k2", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.members.Delete(ctx, f.owner, user.ID(bob.UserID)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Session(ctx, session); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("session after deletion: %v", err)
		}
		if _, err := f.auth.APIKey(ctx, key); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("key after deletion: %v", err)
		}
		entries, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{UserID: bob.UserID})
		if len(entries) == 0 {
			t.Fatal("the deleted user's past actions left the history")
		}
	})
}

func TestPlanLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := db.Write().Exec(ctx, `UPDATE accounts SET max_users = 2 WHERE id = $1`, f.acc.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.members.Invite(ctx, f.owner, account.Invite{Email: "second@example.com"}); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.members.Invite(ctx, f.owner, account.Invite{Email: "third@example.com"})
		if !fault.Is(err, fault.Rule) || !strings.Contains(err.Error(), "plan allows 2 users") {
			t.Fatalf("third user on a 2-user plan: %v", err)
		}
	})
}

func TestInviteBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.join(t, "bob@example.com", nil)
		neg := int64(-1)
		for _, tt := range []struct {
			in    account.Invite
			field string
		}{
			{account.Invite{Email: "not an email"}, "email"},
			{account.Invite{Email: "bob@example.com"}, "email"},
			{account.Invite{Email: "x@example.com", Language: "de"}, "language"},
			{account.Invite{Email: "y@example.com", Caps: account.Caps{EmailMonthly: &neg}}, "caps.email_monthly"},
		} {
			_, _, err := f.members.Invite(ctx, f.owner, tt.in)
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != tt.field {
				t.Errorf("%+v: got %v, want Invalid on %s", tt.in, err, tt.field)
			}
		}
		people, _ := f.members.List(ctx, f.owner)
		if len(people) != 2 {
			t.Fatalf("failed invitations left %d members", len(people))
		}
	})
}

func TestTransferOwnership(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		bob := f.join(t, "bob@example.com", nil)
		if err := f.members.TransferOwnership(ctx, f.owner, user.ID(bob.UserID)); err != nil {
			t.Fatal(err)
		}
		people, _ := f.members.List(ctx, f.owner)
		for _, p := range people {
			if (p.Email == "bob@example.com") != p.Owner {
				t.Errorf("%s owner=%v", p.Email, p.Owner)
			}
			if p.Email == "owner@example.com" && p.Rights.Of(rights.Invoices) != rights.Approver {
				t.Errorf("former owner lost rights: %v", p.Rights)
			}
		}
	})
}

func TestCapReservationsUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		cap := int64(1000)
		bob := f.join(t, "bob@example.com", nil)
		if _, err := f.members.Update(ctx, f.owner, user.ID(bob.UserID), 0, account.Patch{Caps: &account.Caps{EmailMonthly: &cap}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make(chan error, 2)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results <- db.InTx(ctx, func(q database.Querier) error {
					return account.Reserve(ctx, q, f.acc.ID, user.ID(bob.UserID), account.Email, 600, "campaign", f.now)
				})
			}()
		}
		wg.Wait()
		close(results)
		var ok, refused int
		for err := range results {
			switch {
			case err == nil:
				ok++
			case fault.Is(err, fault.Rule) && strings.Contains(err.Error(), "leaves 400"):
				refused++
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("two racing reservations of 600 against a cap of 1000: %d passed, %d refused", ok, refused)
		}
		used, _ := account.Usage(ctx, db.Read(), f.acc.ID, user.ID(bob.UserID), account.Email, f.now.AddDate(0, -1, 0))
		if used != 600 {
			t.Fatalf("usage = %d", used)
		}
		// Next month the cap is fresh; SMS have no cap.
		if err := db.InTx(ctx, func(q database.Querier) error {
			if err := account.Reserve(ctx, q, f.acc.ID, user.ID(bob.UserID), account.Email, 1000, "", f.now.AddDate(0, 1, 0)); err != nil {
				return err
			}
			return account.Reserve(ctx, q, f.acc.ID, user.ID(bob.UserID), account.SMS, 1_000_000, "", f.now)
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEveryMutationLeavesExactlyOneEntry: each use case records one history
// entry, with the actor, the action and the object it acted on (SPEC §3.1).
func TestEveryMutationLeavesExactlyOneEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.owner.IP = "198.51.100.4"
		p, _, err := f.members.Invite(ctx, f.owner, account.Invite{Email: "eve@example.com", FirstName: "Eve"})
		if err != nil {
			t.Fatal(err)
		}
		uid := p.User.ID
		name := "Evelyn"
		steps := []struct {
			action string
			run    func() error
		}{
			{"user.invite.resend", func() error { _, err := f.members.ResendInvitation(ctx, f.owner, uid); return err }},
			{"user.update", func() error {
				_, err := f.members.Update(ctx, f.owner, uid, 0, account.Patch{FirstName: &name})
				return err
			}},
			{"user.rights.update", func() error {
				_, err := f.members.SetRights(ctx, f.owner, uid, 0, rights.Set{rights.SMS: rights.Editor})
				return err
			}},
			{"user.invite.cancel", func() error { return f.members.CancelInvitation(ctx, f.owner, uid) }},
		}
		for _, s := range steps {
			before, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{Limit: 500})
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.action, err)
			}
			after, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{Limit: 500})
			if len(after) != len(before)+1 {
				t.Fatalf("%s left %d entries", s.action, len(after)-len(before))
			}
			e := after[0]
			if e.Action != s.action || e.UserID != f.owner.UserID || e.ActorName != "Olga" || e.IP != "198.51.100.4" ||
				e.Object.Type != "user" || e.Object.ID != int64(uid) {
				t.Errorf("%s recorded as %+v", s.action, e)
			}
		}
		// A refused change records nothing.
		before, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{Limit: 500})
		f.members.SetRights(ctx, f.owner, user.ID(f.owner.UserID), 0, rights.Set{})
		after, _, _ := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{Limit: 500})
		if len(after) != len(before) {
			t.Fatal("a refused change was recorded")
		}
		if n, err := history.Verify(ctx, db.Read(), int64(f.acc.ID)); err != nil || n != len(after) {
			t.Fatalf("verify: %d %v", n, err)
		}
	})
}

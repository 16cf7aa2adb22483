package app

import (
	"context"
	"strings"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// demoEmail is the demo administrator's login.
const demoEmail = "demo@example.com"

// Demo creates the demo account on first call — a small team with varied
// rights, so every page has something to show — and returns its
// administrator's login; the password is new at every call. Later features
// add their own demo data here.
func (a *App) Demo(ctx context.Context) (email, password string, err error) {
	email, password = demoEmail, GeneratePassword()
	var created bool
	var acc account.Account
	var admin user.User
	err = a.DB.InTx(ctx, func(q database.Querier) error {
		u, err := user.ByEmail(ctx, q, email)
		if err == nil {
			return user.SetPassword(ctx, q, u.ID, password, a.now())
		}
		if !fault.Is(err, fault.NotFound) {
			return err
		}
		created = true
		acc, admin, err = account.Create(ctx, q, account.New{Name: "Démo", Language: "fr",
			Admin: user.New{Email: email, Password: password, FirstName: "Camille", LastName: "Martin", Language: "fr"}}, a.now())
		return err
	})
	if err != nil || !created {
		return email, password, err
	}
	return email, password, a.demoTeam(ctx, acc, admin)
}

// demoTeam invites three colleagues through the real use cases (so the
// history and the outbox show them); two accept.
func (a *App) demoTeam(ctx context.Context, acc account.Account, admin user.User) error {
	owner, err := account.ActorFor(ctx, a.DB.Read(), acc.ID, admin, 0, nil)
	if err != nil {
		return err
	}
	owner.IP, owner.UserAgent = "127.0.0.1", "envoi serve --demo"
	team := []struct {
		invite account.Invite
		accept bool
	}{
		{account.Invite{Email: "lea.dubois@example.com", FirstName: "Léa", LastName: "Dubois", Language: "fr",
			Rights: rights.Set{rights.Contacts: rights.Editor, rights.Emailings: rights.Editor, rights.SMS: rights.Guest}}, true},
		{account.Invite{Email: "hugo.bernard@example.com", FirstName: "Hugo", LastName: "Bernard", Language: "fr",
			Rights: presetAllBut(rights.Approver, rights.Invoices)}, true},
		{account.Invite{Email: "chloe.petit@example.com", FirstName: "Chloé", LastName: "Petit", Language: "en",
			Rights: rights.Set{rights.Contacts: rights.Guest, rights.Emailings: rights.Guest}}, false},
	}
	for _, m := range team {
		_, link, err := a.Members.Invite(ctx, owner, m.invite)
		if err != nil {
			return err
		}
		if !m.accept {
			continue
		}
		token := link[strings.LastIndex(link, "/")+1:]
		if err := a.DB.InTx(ctx, func(q database.Querier) error {
			_, err := account.AcceptInvitation(ctx, q, token, GeneratePassword(), "127.0.0.1", "envoi serve --demo", a.now())
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

func presetAllBut(l rights.Level, except rights.Category) rights.Set {
	s := rights.Set{}
	for _, c := range rights.Categories {
		if c != except {
			s[c] = l
		}
	}
	return s
}

package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// InvitationLifetime is how long an invitation link works (SPEC §2.1).
const InvitationLifetime = 7 * 24 * time.Hour

// Inviter sends invitation emails; the app passes its notifier.
type Inviter interface {
	Invitation(ctx context.Context, accountID int64, to, lang, inviterName, accountName, link string, expires time.Time) error
}

// Person is a member of an account with their details, as the Users pages
// and the API show them.
type Person struct {
	user.User
	Member
	InvitedAt     *time.Time // pending invitation, if any
	InviteExpires *time.Time
}

// Members holds the use cases of an account's users (SPEC §2.1–2.4).
type Members struct {
	DB      *database.DB
	Now     func() time.Time
	Inviter Inviter
	BaseURL string
}

// List returns the account's members, by name.
func (s *Members) List(ctx context.Context, by rights.Actor) ([]Person, error) {
	if err := rights.Check(by, rights.Users, rights.Guest); err != nil {
		return nil, err
	}
	return listPeople(ctx, s.DB.Read(), ID(by.AccountID), 0)
}

// Get returns one member; a person of another account is not found.
func (s *Members) Get(ctx context.Context, by rights.Actor, uid user.ID) (Person, error) {
	if by.UserID != int64(uid) {
		if err := rights.Check(by, rights.Users, rights.Guest); err != nil {
			return Person{}, err
		}
	}
	return getPerson(ctx, s.DB.Read(), ID(by.AccountID), uid)
}

func getPerson(ctx context.Context, q database.Querier, accountID ID, uid user.ID) (Person, error) {
	people, err := listPeople(ctx, q, accountID, uid)
	if err != nil {
		return Person{}, err
	}
	if len(people) == 0 {
		return Person{}, fault.Notf("user not found")
	}
	return people[0], nil
}

func listPeople(ctx context.Context, q database.Querier, accountID ID, only user.ID) ([]Person, error) {
	query := `SELECT u.id, u.email, u.password_hash, u.first_name, u.last_name, u.phone, u.language, u.operator, u.created_at, u.version,
		m.account_id, m.user_id, m.owner, m.status, m.rights, m.version, m.updated_at, m.updated_by,
		m.email_monthly, m.email_yearly, m.sms_monthly, m.sms_yearly,
		(SELECT MAX(i.created_at) FROM invitations i WHERE i.account_id = m.account_id AND i.user_id = m.user_id
			AND i.used_at IS NULL AND i.cancelled_at IS NULL),
		(SELECT MAX(i.expires_at) FROM invitations i WHERE i.account_id = m.account_id AND i.user_id = m.user_id
			AND i.used_at IS NULL AND i.cancelled_at IS NULL)
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1`
	args := []any{accountID}
	if only != 0 {
		query += ` AND m.user_id = $2`
		args = append(args, only)
	}
	rows, err := q.Query(ctx, query+` ORDER BY m.owner DESC, LOWER(u.last_name), LOWER(u.first_name), u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var created, updated int64
		var status, rightsJSON string
		var by, em, ey, sm, sy, invited, expires sql.NullInt64
		if err := rows.Scan(&p.User.ID, &p.Email, &p.PasswordHash, &p.FirstName, &p.LastName, &p.Phone, &p.User.Language, &p.Operator, &created, &p.User.Version,
			&p.AccountID, &p.UserID, &p.Owner, &status, &rightsJSON, &p.Member.Version, &updated, &by, &em, &ey, &sm, &sy, &invited, &expires); err != nil {
			return nil, err
		}
		p.User.CreatedAt, p.UpdatedAt, p.UpdatedBy, p.Status = time.UnixMilli(created), time.UnixMilli(updated), by.Int64, Status(status)
		p.Caps = Caps{EmailMonthly: ptr(em), EmailYearly: ptr(ey), SMSMonthly: ptr(sm), SMSYearly: ptr(sy)}
		if invited.Valid && p.Status == Invited {
			t, e := time.UnixMilli(invited.Int64), time.UnixMilli(expires.Int64)
			p.InvitedAt, p.InviteExpires = &t, &e
		}
		if err := json.Unmarshal([]byte(rightsJSON), &p.Rights); err != nil {
			return nil, err
		}
		if p.Owner {
			p.Rights = rights.All()
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Invite is what adding a user needs.
type Invite struct {
	Email     string
	FirstName string
	LastName  string
	Phone     string
	Language  string
	Rights    rights.Set
	Caps      Caps
}

// checkGrant enforces SPEC §2.3: nobody grants a level above their own, nor
// changes a level that is above their own; the owner may do anything.
func checkGrant(by rights.Actor, before, after rights.Set) error {
	if by.Owner {
		return nil
	}
	for _, c := range rights.Categories {
		if after.Of(c) > by.Level(c) {
			return fault.New(fault.Forbidden, "you cannot grant %s on %s: it is above your own level (%s)", after.Of(c), c, by.Level(c)).
				WithKey("users.grant_above_own").WithArgs(map[string]any{"Category": string(c)})
		}
		if before.Of(c) > by.Level(c) && before.Of(c) != after.Of(c) {
			return fault.New(fault.Forbidden, "you cannot change the %s level on %s: it is above your own (%s)", before.Of(c), c, by.Level(c)).
				WithKey("users.grant_above_own").WithArgs(map[string]any{"Category": string(c)})
		}
	}
	return nil
}

func checkCaps(c Caps) error {
	for field, v := range map[string]*int64{"caps.email_monthly": c.EmailMonthly, "caps.email_yearly": c.EmailYearly,
		"caps.sms_monthly": c.SMSMonthly, "caps.sms_yearly": c.SMSYearly} {
		if v != nil && *v < 0 {
			return fault.Invalidf(field, "must be zero or more (leave it empty for no cap)")
		}
	}
	return nil
}

// Invite adds a person to the account with the given rights and emails
// them a single-use link, valid 7 days, where they set their password
// (SPEC §2.1). A person who already has a login elsewhere keeps it and just
// accepts. It returns the link (for the API and tests).
func (s *Members) Invite(ctx context.Context, by rights.Actor, in Invite) (Person, string, error) {
	if err := rights.Check(by, rights.Users, rights.Editor); err != nil {
		return Person{}, "", err
	}
	if err := checkGrant(by, rights.Set{}, in.Rights); err != nil {
		return Person{}, "", err
	}
	if err := checkCaps(in.Caps); err != nil {
		return Person{}, "", err
	}
	email, err := user.NormalizeEmail("email", in.Email)
	if err != nil {
		return Person{}, "", err
	}
	now := s.Now()
	var token string
	var p Person
	var acc Account
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		acc, err = Get(ctx, q, ID(by.AccountID))
		if err != nil {
			return err
		}
		if err := checkPlanLimit(ctx, q, acc); err != nil {
			return err
		}
		u, err := user.ByEmail(ctx, q, email)
		if fault.Is(err, fault.NotFound) {
			u, err = user.Create(ctx, q, user.New{Email: email, FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone, Language: in.Language}, now)
		}
		if err != nil {
			return err
		}
		m := Member{AccountID: acc.ID, UserID: u.ID, Status: Invited, Rights: in.Rights, Caps: in.Caps}
		if err := AddMember(ctx, q, m, now); err != nil {
			return err
		}
		if err := saveCaps(ctx, q, m.AccountID, u.ID, in.Caps, by.UserID, now); err != nil {
			return err
		}
		if token, err = newInvitation(ctx, q, acc.ID, u.ID, by.UserID, now); err != nil {
			return err
		}
		p, err = getPerson(ctx, q, acc.ID, u.ID)
		if err != nil {
			return err
		}
		return history.Record(ctx, q, by, "user.invite", rights.Users, personObject(p), []history.Change{
			{Field: "email", After: p.Email}, {Field: "rights", After: in.Rights}}, now)
	})
	if err != nil {
		return Person{}, "", err
	}
	link := s.inviteLink(token)
	return p, link, s.sendInvitation(ctx, by, acc, p, link, now)
}

func (s *Members) inviteLink(token string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + "/invitation/" + token
}

// sendInvitation emails after the transaction committed: the outbox is a
// database write of its own, and a mail server must not hold a transaction.
func (s *Members) sendInvitation(ctx context.Context, by rights.Actor, acc Account, p Person, link string, now time.Time) error {
	if s.Inviter == nil {
		return nil
	}
	lang := p.User.Language
	if err := s.Inviter.Invitation(ctx, int64(acc.ID), p.Email, lang, by.Name, acc.Name, link, now.Add(InvitationLifetime)); err != nil {
		return fault.Wrap(fault.Unavailable, err, "the user was added but the invitation email could not be sent; try \"resend\"")
	}
	return nil
}

func checkPlanLimit(ctx context.Context, q database.Querier, acc Account) error {
	if acc.MaxUsers == nil {
		return nil
	}
	var n int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE account_id = $1`, acc.ID).Scan(&n); err != nil {
		return err
	}
	if n >= *acc.MaxUsers {
		return fault.New(fault.Rule, "your plan allows %d users and the account has %d: remove a user or ask your provider for a larger plan", *acc.MaxUsers, n).
			WithKey("users.plan_limit").WithArgs(map[string]any{"Max": *acc.MaxUsers})
	}
	return nil
}

func newInvitation(ctx context.Context, q database.Querier, accountID ID, uid user.ID, invitedBy int64, now time.Time) (string, error) {
	// A new link replaces the older ones.
	if _, err := q.Exec(ctx, `UPDATE invitations SET cancelled_at = $3 WHERE account_id = $1 AND user_id = $2
		AND used_at IS NULL AND cancelled_at IS NULL`, accountID, uid, now.UnixMilli()); err != nil {
		return "", err
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return "", err
	}
	token := instance.RandomToken(32)
	_, err = q.Exec(ctx, `INSERT INTO invitations (account_id, id, user_id, token_hash, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, accountID, id, uid, instance.HashToken(token), nullInt(invitedBy),
		now.UnixMilli(), now.Add(InvitationLifetime).UnixMilli())
	return token, err
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func personObject(p Person) history.Object {
	return history.Object{Type: "user", ID: int64(p.User.ID), Label: p.User.Name()}
}

// ResendInvitation emails a new link (the old one stops working).
func (s *Members) ResendInvitation(ctx context.Context, by rights.Actor, uid user.ID) (string, error) {
	if err := rights.Check(by, rights.Users, rights.Editor); err != nil {
		return "", err
	}
	now := s.Now()
	var token string
	var p Person
	var acc Account
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		var err error
		if p, err = getPerson(ctx, q, ID(by.AccountID), uid); err != nil {
			return err
		}
		if p.Status != Invited {
			return fault.New(fault.Rule, "%s has already accepted the invitation", p.Email).WithKey("users.already_accepted")
		}
		if acc, err = Get(ctx, q, p.AccountID); err != nil {
			return err
		}
		if token, err = newInvitation(ctx, q, p.AccountID, uid, by.UserID, now); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "user.invite.resend", rights.Users, personObject(p), nil, now)
	})
	if err != nil {
		return "", err
	}
	link := s.inviteLink(token)
	return link, s.sendInvitation(ctx, by, acc, p, link, now)
}

// CancelInvitation withdraws a pending invitation: the person is no longer
// a member of the account.
func (s *Members) CancelInvitation(ctx context.Context, by rights.Actor, uid user.ID) error {
	if err := rights.Check(by, rights.Users, rights.Editor); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		p, err := getPerson(ctx, q, ID(by.AccountID), uid)
		if err != nil {
			return err
		}
		if p.Status != Invited {
			return fault.New(fault.Rule, "%s has already accepted the invitation: suspend or delete the user instead", p.Email).WithKey("users.already_accepted")
		}
		if _, err := q.Exec(ctx, `UPDATE invitations SET cancelled_at = $3 WHERE account_id = $1 AND user_id = $2 AND used_at IS NULL AND cancelled_at IS NULL`,
			p.AccountID, uid, now.UnixMilli()); err != nil {
			return err
		}
		if err := removeMember(ctx, q, p.AccountID, uid, now); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "user.invite.cancel", rights.Users, personObject(p), nil, now)
	})
}

// Invitation is a pending invitation found by its link.
type Invitation struct {
	AccountID   ID
	AccountName string
	User        user.User
	HasPassword bool
	ExpiresAt   time.Time
}

var errBadInvitation = fault.New(fault.NotFound, "this invitation link is not valid: it may have expired, been used or been replaced by a newer one").WithKey("invitation.invalid")

// FindInvitation checks an invitation link.
func FindInvitation(ctx context.Context, q database.Querier, token string, now time.Time) (Invitation, int64, error) {
	var inv Invitation
	var id, uid, expires int64
	var used, cancelled sql.NullInt64
	err := q.QueryRow(ctx, `SELECT account_id, id, user_id, expires_at, used_at, cancelled_at FROM invitations WHERE token_hash = $1`,
		instance.HashToken(token)).Scan(&inv.AccountID, &id, &uid, &expires, &used, &cancelled)
	if errors.Is(err, sql.ErrNoRows) || token == "" {
		return Invitation{}, 0, errBadInvitation
	}
	if err != nil {
		return Invitation{}, 0, err
	}
	inv.ExpiresAt = time.UnixMilli(expires)
	if used.Valid || cancelled.Valid || !now.Before(inv.ExpiresAt) {
		return Invitation{}, 0, errBadInvitation
	}
	m, err := GetMember(ctx, q, inv.AccountID, user.ID(uid))
	if err != nil || m.Status != Invited {
		return Invitation{}, 0, errBadInvitation
	}
	if inv.User, err = user.Get(ctx, q, user.ID(uid)); err != nil {
		return Invitation{}, 0, err
	}
	acc, err := Get(ctx, q, inv.AccountID)
	if err != nil {
		return Invitation{}, 0, err
	}
	inv.AccountName, inv.HasPassword = acc.Name, inv.User.PasswordHash != ""
	return inv, id, nil
}

// AcceptInvitation activates the membership of an invitation link, setting
// the person's password when they have none yet, within q's transaction.
// It returns the person.
func AcceptInvitation(ctx context.Context, q database.Querier, token, password, ip, userAgent string, now time.Time) (Invitation, error) {
	inv, id, err := FindInvitation(ctx, q, token, now)
	if err != nil {
		return Invitation{}, err
	}
	if !inv.HasPassword {
		if password == "" {
			return Invitation{}, fault.Invalidf("password", "is required")
		}
		if err := user.SetPassword(ctx, q, inv.User.ID, password, now); err != nil {
			return Invitation{}, err
		}
	}
	res, err := q.Exec(ctx, `UPDATE invitations SET used_at = $3 WHERE account_id = $1 AND id = $2 AND used_at IS NULL`, inv.AccountID, id, now.UnixMilli())
	if err != nil {
		return Invitation{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Invitation{}, errBadInvitation
	}
	if _, err := q.Exec(ctx, `UPDATE members SET status = 'active', updated_at = $3, updated_by = $2, version = version + 1
		WHERE account_id = $1 AND user_id = $2`, inv.AccountID, inv.User.ID, now.UnixMilli()); err != nil {
		return Invitation{}, err
	}
	by := rights.Actor{AccountID: int64(inv.AccountID), UserID: int64(inv.User.ID), Name: inv.User.Name(), IP: ip, UserAgent: userAgent}
	obj := history.Object{Type: "user", ID: int64(inv.User.ID), Label: inv.User.Name()}
	return inv, history.Record(ctx, q, by, "user.invite.accept", rights.Users, obj, nil, now)
}

// Patch changes a member's details; nil fields are left as they are.
type Patch struct {
	Email     *string
	FirstName *string
	LastName  *string
	Phone     *string
	Language  *string
	Caps      *Caps
}

// errModified is the version conflict of SPEC §3.2.
func errModified(ctx context.Context, q database.Querier, m Member) error {
	name := "another user"
	if m.UpdatedBy != 0 {
		if u, err := user.Get(ctx, q, user.ID(m.UpdatedBy)); err == nil {
			name = u.Name()
		}
	}
	return fault.New(fault.Conflict, "modified by %s at %s: reload to see the latest version", name, m.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")).
		WithKey("error.modified_by").WithArgs(map[string]any{"Name": name, "At": m.UpdatedAt})
}

// Update changes a member's details and caps (users ≥ editor; a person may
// change their own name, phone and language). version is the member's
// version the caller saw (0 to skip the check, for API clients that don't
// send one).
func (s *Members) Update(ctx context.Context, by rights.Actor, uid user.ID, version int64, p Patch) (Person, error) {
	self := by.UserID == int64(uid)
	if !self || p.Caps != nil || p.Email != nil {
		if err := rights.Check(by, rights.Users, rights.Editor); err != nil {
			return Person{}, err
		}
	}
	if self && p.Caps != nil {
		return Person{}, fault.New(fault.Forbidden, "you cannot change your own sending caps").WithKey("users.own_caps")
	}
	if p.Caps != nil {
		if err := checkCaps(*p.Caps); err != nil {
			return Person{}, err
		}
	}
	now := s.Now()
	var out Person
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getPerson(ctx, q, ID(by.AccountID), uid)
		if err != nil {
			return err
		}
		if version != 0 && cur.Member.Version != version {
			return errModified(ctx, q, cur.Member)
		}
		if cur.Owner && !by.Owner && !self {
			return fault.New(fault.Forbidden, "only the administrator can change the administrator's details").WithKey("users.owner_protected")
		}
		var changes []history.Change
		set := func(field string, before string, after *string) string {
			if after == nil || strings.TrimSpace(*after) == before {
				return before
			}
			v := strings.TrimSpace(*after)
			changes = append(changes, history.Change{Field: field, Before: before, After: v})
			return v
		}
		u := cur.User
		u.FirstName = set("first_name", u.FirstName, p.FirstName)
		u.LastName = set("last_name", u.LastName, p.LastName)
		u.Phone = set("phone", u.Phone, p.Phone)
		if p.Language != nil {
			lang, err := user.NormalizeLanguage(*p.Language)
			if err != nil {
				return err
			}
			u.Language = set("language", u.Language, &lang)
		}
		if p.Email != nil {
			email, err := user.NormalizeEmail("email", *p.Email)
			if err != nil {
				return err
			}
			if email != u.Email {
				var others int
				if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE user_id = $1 AND account_id <> $2`, uid, by.AccountID).Scan(&others); err != nil {
					return err
				}
				if others > 0 {
					return fault.New(fault.Rule, "%s also belongs to other accounts: only they can change their email", cur.Email).WithKey("users.email_shared")
				}
				u.Email = set("email", u.Email, &email)
			}
		}
		if _, err := q.Exec(ctx, `UPDATE users SET email = $2, first_name = $3, last_name = $4, phone = $5, language = $6,
			updated_at = $7, version = version + 1 WHERE id = $1`, uid, u.Email, u.FirstName, u.LastName, u.Phone, u.Language, now.UnixMilli()); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.Invalidf("email", "%s is already used by another user", u.Email).WithKey("error.email_taken")
			}
			return err
		}
		if p.Caps != nil {
			changes = append(changes, history.Change{Field: "caps", Before: cur.Caps, After: *p.Caps})
			if err := saveCaps(ctx, q, cur.AccountID, uid, *p.Caps, by.UserID, now); err != nil {
				return err
			}
		}
		if err := touchMember(ctx, q, cur.AccountID, uid, by.UserID, now); err != nil {
			return err
		}
		if out, err = getPerson(ctx, q, cur.AccountID, uid); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		return history.Record(ctx, q, by, "user.update", rights.Users, personObject(out), changes, now)
	})
	return out, err
}

func touchMember(ctx context.Context, q database.Querier, accountID ID, uid user.ID, by int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE members SET version = version + 1, updated_at = $3, updated_by = $4 WHERE account_id = $1 AND user_id = $2`,
		accountID, uid, now.UnixMilli(), nullInt(by))
	return err
}

func saveCaps(ctx context.Context, q database.Querier, accountID ID, uid user.ID, c Caps, by int64, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE members SET email_monthly = $3, email_yearly = $4, sms_monthly = $5, sms_yearly = $6
		WHERE account_id = $1 AND user_id = $2`, accountID, uid, c.EmailMonthly, c.EmailYearly, c.SMSMonthly, c.SMSYearly)
	return err
}

// SetRights replaces a member's rights (SPEC §2.3): users ≥ editor, never
// one's own, never the administrator's, never above one's own level.
func (s *Members) SetRights(ctx context.Context, by rights.Actor, uid user.ID, version int64, set rights.Set) (Person, error) {
	if err := rights.Check(by, rights.Users, rights.Editor); err != nil {
		return Person{}, err
	}
	if by.UserID == int64(uid) {
		return Person{}, fault.New(fault.Forbidden, "you cannot change your own rights").WithKey("users.own_rights")
	}
	now := s.Now()
	var out Person
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getPerson(ctx, q, ID(by.AccountID), uid)
		if err != nil {
			return err
		}
		if version != 0 && cur.Member.Version != version {
			return errModified(ctx, q, cur.Member)
		}
		if cur.Owner {
			return fault.New(fault.Forbidden, "the administrator has every right; transfer the ownership first").WithKey("users.owner_protected")
		}
		if err := checkGrant(by, cur.Rights, set); err != nil {
			return err
		}
		var changes []history.Change
		for _, c := range rights.Categories {
			if cur.Rights.Of(c) != set.Of(c) {
				changes = append(changes, history.Change{Field: "rights." + string(c), Before: cur.Rights.Of(c).String(), After: set.Of(c).String()})
			}
		}
		b, err := json.Marshal(set)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE members SET rights = $3, version = version + 1, updated_at = $4, updated_by = $5
			WHERE account_id = $1 AND user_id = $2`, cur.AccountID, uid, string(b), now.UnixMilli(), by.UserID); err != nil {
			return err
		}
		if out, err = getPerson(ctx, q, cur.AccountID, uid); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		return history.Record(ctx, q, by, "user.rights.update", rights.Users, personObject(out), changes, now)
	})
	return out, err
}

// SetStatus suspends or reactivates a member (users approver). Suspending
// revokes their sessions in this account and their keys at once.
func (s *Members) SetStatus(ctx context.Context, by rights.Actor, uid user.ID, status Status) (Person, error) {
	if err := rights.Check(by, rights.Users, rights.Approver); err != nil {
		return Person{}, err
	}
	if status != Suspended && status != Active {
		return Person{}, fault.Invalidf("status", "must be active or suspended")
	}
	now := s.Now()
	var out Person
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getPerson(ctx, q, ID(by.AccountID), uid)
		if err != nil {
			return err
		}
		if err := protect(by, cur, "suspend"); err != nil {
			return err
		}
		if cur.Status == Invited {
			return fault.New(fault.Rule, "%s has not accepted the invitation yet: cancel it instead", cur.Email).WithKey("users.still_invited")
		}
		if cur.Status == status {
			out = cur
			return nil
		}
		if _, err := q.Exec(ctx, `UPDATE members SET status = $3, version = version + 1, updated_at = $4, updated_by = $5
			WHERE account_id = $1 AND user_id = $2`, cur.AccountID, uid, string(status), now.UnixMilli(), by.UserID); err != nil {
			return err
		}
		if status == Suspended {
			if err := revokeAccess(ctx, q, cur.AccountID, uid, now); err != nil {
				return err
			}
		}
		if out, err = getPerson(ctx, q, cur.AccountID, uid); err != nil {
			return err
		}
		action := "user.suspend"
		if status == Active {
			action = "user.reactivate"
		}
		return history.Record(ctx, q, by, action, rights.Users, personObject(out),
			[]history.Change{{Field: "status", Before: string(cur.Status), After: string(status)}}, now)
	})
	return out, err
}

func protect(by rights.Actor, p Person, what string) error {
	if p.Owner {
		return fault.New(fault.Forbidden, "the administrator cannot be suspended or deleted; transfer the ownership first").WithKey("users.owner_protected")
	}
	if by.UserID == int64(p.User.ID) {
		return fault.New(fault.Forbidden, "you cannot %s yourself", what).WithKey("users.not_yourself")
	}
	return nil
}

// revokeAccess ends the person's sessions working in this account and
// revokes their keys in it.
func revokeAccess(ctx context.Context, q database.Querier, accountID ID, uid user.ID, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND account_id = $2 AND revoked_at IS NULL`,
		uid, accountID, now.UnixMilli()); err != nil {
		return err
	}
	return user.RevokeMemberKeys(ctx, q, int64(accountID), uid, now)
}

func removeMember(ctx context.Context, q database.Querier, accountID ID, uid user.ID, now time.Time) error {
	if err := revokeAccess(ctx, q, accountID, uid, now); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM members WHERE account_id = $1 AND user_id = $2`, accountID, uid)
	return err
}

// Delete removes a member from the account (users approver). Their past
// actions stay in the history under their name; their sessions here and
// their keys stop working at once.
func (s *Members) Delete(ctx context.Context, by rights.Actor, uid user.ID) error {
	if err := rights.Check(by, rights.Users, rights.Approver); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getPerson(ctx, q, ID(by.AccountID), uid)
		if err != nil {
			return err
		}
		if err := protect(by, cur, "delete"); err != nil {
			return err
		}
		if err := removeMember(ctx, q, cur.AccountID, uid, now); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "user.delete", rights.Users, personObject(cur), []history.Change{{Field: "email", Before: cur.Email}}, now)
	})
}

// TransferOwnership makes another active member the administrator; only
// the administrator can (SPEC §2.2). The former owner keeps every right as
// an approver in every category.
func (s *Members) TransferOwnership(ctx context.Context, by rights.Actor, to user.ID) error {
	if !by.Owner || by.KeyID != 0 {
		// A rule rather than a right: no level grants it, only being the owner.
		return fault.New(fault.Rule, "only the administrator can transfer the ownership, from the web interface").WithKey("users.owner_only")
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		target, err := getPerson(ctx, q, ID(by.AccountID), to)
		if err != nil {
			return err
		}
		if target.Status != Active {
			return fault.New(fault.Rule, "%s must be an active user to become the administrator", target.Email).WithKey("users.must_be_active")
		}
		if target.Owner {
			return nil
		}
		all, _ := json.Marshal(rights.All())
		if _, err := q.Exec(ctx, `UPDATE members SET owner = FALSE, rights = $3, version = version + 1, updated_at = $4, updated_by = $2
			WHERE account_id = $1 AND user_id = $2`, by.AccountID, by.UserID, string(all), now.UnixMilli()); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `UPDATE members SET owner = TRUE, rights = $3, version = version + 1, updated_at = $4, updated_by = $5
			WHERE account_id = $1 AND user_id = $2`, by.AccountID, to, string(all), now.UnixMilli(), by.UserID); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "account.ownership.transfer", rights.Users, personObject(target), nil, now)
	})
}

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
	"envoi/internal/rights"
	"envoi/internal/user"
)

// ID identifies an account.
type ID int64

// Account is a tenant: everything in it is shared by its members.
type Account struct {
	ID        ID
	Name      string
	Language  string
	Timezone  string
	MaxUsers  *int64 // plan limit set by operators; nil is unlimited
	CreatedAt time.Time
	Version   int64
}

// Status of a membership.
type Status string

const (
	Invited   Status = "invited"
	Active    Status = "active"
	Suspended Status = "suspended"
)

// Member is a person's membership of an account.
type Member struct {
	AccountID ID
	UserID    user.ID
	Owner     bool
	Status    Status
	Rights    rights.Set
	Caps      Caps
	Version   int64
	UpdatedAt time.Time
	UpdatedBy int64
}

// Caps are a member's sending caps (SPEC §2.4); nil is no cap.
type Caps struct {
	EmailMonthly *int64 `json:"email_monthly"`
	EmailYearly  *int64 `json:"email_yearly"`
	SMSMonthly   *int64 `json:"sms_monthly"`
	SMSYearly    *int64 `json:"sms_yearly"`
}

// New is what creating an account needs: its name and its administrator.
type New struct {
	Name     string
	Language string
	Timezone string
	Admin    user.New
}

// Service holds account use cases.
type Service struct {
	DB  *database.DB
	Now func() time.Time
}

// Create makes an account and its administrator in one transaction. When
// the administrator's email already belongs to a person (agency case), that
// person becomes the owner and their password is left unchanged.
func (s *Service) Create(ctx context.Context, n New) (Account, user.User, error) {
	var acc Account
	var admin user.User
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		var err error
		acc, admin, err = Create(ctx, q, n, s.Now())
		return err
	})
	return acc, admin, err
}

// Create is Service.Create within the caller's transaction (first-run setup
// consumes its token in the same one).
func Create(ctx context.Context, q database.Querier, n New, now time.Time) (Account, user.User, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" {
		return Account{}, user.User{}, fault.Invalidf("name", "is required")
	}
	if len(name) > 200 {
		return Account{}, user.User{}, fault.Invalidf("name", "must be at most 200 characters")
	}
	lang, err := user.NormalizeLanguage(n.Language)
	if err != nil {
		return Account{}, user.User{}, err
	}
	tz := strings.TrimSpace(n.Timezone)
	if tz == "" {
		tz = "Europe/Paris"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Account{}, user.User{}, fault.Invalidf("timezone", "%q is not a known time zone", tz)
	}
	email, err := user.NormalizeEmail("admin_email", n.Admin.Email)
	if err != nil {
		return Account{}, user.User{}, err
	}
	admin, err := user.ByEmail(ctx, q, email)
	if fault.Is(err, fault.NotFound) {
		if n.Admin.Language == "" {
			n.Admin.Language = lang
		}
		admin, err = user.Create(ctx, q, n.Admin, now)
	}
	if err != nil {
		return Account{}, user.User{}, err
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return Account{}, user.User{}, err
	}
	acc := Account{ID: ID(id), Name: name, Language: lang, Timezone: tz, CreatedAt: now, Version: 1}
	if _, err := q.Exec(ctx, `INSERT INTO accounts (id, name, language, timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		acc.ID, acc.Name, acc.Language, acc.Timezone, now.UnixMilli()); err != nil {
		return Account{}, user.User{}, fmt.Errorf("create account: %w", err)
	}
	if err := AddMember(ctx, q, Member{AccountID: acc.ID, UserID: admin.ID, Owner: true, Status: Active, Rights: rights.All()}, now); err != nil {
		return Account{}, user.User{}, err
	}
	return acc, admin, nil
}

// SetMaxUsers sets the plan's user limit (nil: unlimited). It is an
// operator's act, outside any account's rights.
func (s *Service) SetMaxUsers(ctx context.Context, id ID, limit *int64) error {
	return s.DB.InTx(ctx, func(q database.Querier) error {
		res, err := q.Exec(ctx, `UPDATE accounts SET max_users = $2, updated_at = $3, version = version + 1 WHERE id = $1`, id, limit, s.Now().UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.Notf("account %d not found", id)
		}
		return nil
	})
}

// AddMember inserts a membership.
func AddMember(ctx context.Context, q database.Querier, m Member, now time.Time) error {
	b, err := json.Marshal(m.Rights)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO members (account_id, user_id, owner, status, rights, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, m.AccountID, m.UserID, m.Owner, string(m.Status), string(b), now.UnixMilli())
	if fault.Is(err, fault.Conflict) {
		return fault.Invalidf("email", "this person is already a member of the account")
	}
	return err
}

const accountColumns = `id, name, language, timezone, max_users, created_at, version`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var maxUsers sql.NullInt64
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &a.Language, &a.Timezone, &maxUsers, &created, &a.Version); err != nil {
		return Account{}, err
	}
	if maxUsers.Valid {
		a.MaxUsers = &maxUsers.Int64
	}
	a.CreatedAt = time.UnixMilli(created)
	return a, nil
}

// Get loads an account.
func Get(ctx context.Context, q database.Querier, id ID) (Account, error) {
	a, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fault.Notf("account not found")
	}
	return a, err
}

// ForUser lists the accounts where a person is an active member, by name.
func ForUser(ctx context.Context, q database.Querier, uid user.ID) ([]Account, error) {
	rows, err := q.Query(ctx, `SELECT a.id, a.name, a.language, a.timezone, a.max_users, a.created_at, a.version
		FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1 AND m.status = 'active' ORDER BY a.name, a.id`, uid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const memberColumns = `account_id, user_id, owner, status, rights, version, updated_at, updated_by,
	email_monthly, email_yearly, sms_monthly, sms_yearly`

func scanMember(row interface{ Scan(...any) error }) (Member, error) {
	var m Member
	var status, rightsJSON string
	var updated int64
	var by, em, ey, sm, sy sql.NullInt64
	if err := row.Scan(&m.AccountID, &m.UserID, &m.Owner, &status, &rightsJSON, &m.Version, &updated, &by, &em, &ey, &sm, &sy); err != nil {
		return Member{}, err
	}
	m.Status, m.UpdatedAt, m.UpdatedBy = Status(status), time.UnixMilli(updated), by.Int64
	m.Caps = Caps{EmailMonthly: ptr(em), EmailYearly: ptr(ey), SMSMonthly: ptr(sm), SMSYearly: ptr(sy)}
	if err := json.Unmarshal([]byte(rightsJSON), &m.Rights); err != nil {
		return Member{}, fmt.Errorf("member %d/%d rights: %w", m.AccountID, m.UserID, err)
	}
	return m, nil
}

func ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// GetMember loads a person's membership of an account.
func GetMember(ctx context.Context, q database.Querier, accountID ID, uid user.ID) (Member, error) {
	m, err := scanMember(q.QueryRow(ctx, `SELECT `+memberColumns+` FROM members WHERE account_id = $1 AND user_id = $2`, accountID, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, fault.Notf("user not found")
	}
	return m, err
}

// ActorFor builds the actor of a person acting in an account, possibly
// through a key with narrower rights. A suspended or missing membership is
// Unauthenticated: sessions and keys stop working at once. Invited members
// may act through a key (SPEC §1.2).
func ActorFor(ctx context.Context, q database.Querier, accountID ID, u user.User, keyID int64, narrow *rights.Set) (rights.Actor, error) {
	m, err := GetMember(ctx, q, accountID, u.ID)
	if fault.Is(err, fault.NotFound) || (err == nil && m.Status == Suspended) {
		return rights.Actor{}, fault.New(fault.Unauthenticated, "you no longer have access to this account").WithKey("error.no_access")
	}
	if err != nil {
		return rights.Actor{}, err
	}
	set := m.Rights
	if m.Owner {
		set = rights.All()
	}
	if narrow != nil {
		set = set.Narrow(*narrow)
	}
	return rights.Actor{AccountID: int64(accountID), UserID: int64(u.ID), KeyID: keyID, Owner: m.Owner, Rights: set, Name: u.Name()}, nil
}

// Resolve loads, in one query, what authenticating a request needs: the
// person, the account and the actor with its rights (narrowed for an API
// key). It is on the path of every request, hence one join instead of
// three reads.
func Resolve(ctx context.Context, q database.Querier, accountID ID, uid user.ID, keyID int64, narrow *rights.Set) (user.User, Account, rights.Actor, error) {
	var u user.User
	var a Account
	var owner bool
	var status, rightsJSON string
	var uCreated, aCreated int64
	var maxUsers sql.NullInt64
	err := q.QueryRow(ctx, `SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.language, u.operator, u.created_at, u.version,
			m.owner, m.status, m.rights,
			a.id, a.name, a.language, a.timezone, a.max_users, a.created_at, a.version
		FROM members m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id
		WHERE m.account_id = $1 AND m.user_id = $2`, accountID, uid).
		Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.Language, &u.Operator, &uCreated, &u.Version,
			&owner, &status, &rightsJSON, &a.ID, &a.Name, &a.Language, &a.Timezone, &maxUsers, &aCreated, &a.Version)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && Status(status) == Suspended) {
		return user.User{}, Account{}, rights.Actor{}, fault.New(fault.Unauthenticated, "you no longer have access to this account").WithKey("error.no_access")
	}
	if err != nil {
		return user.User{}, Account{}, rights.Actor{}, err
	}
	u.CreatedAt, a.CreatedAt = time.UnixMilli(uCreated), time.UnixMilli(aCreated)
	if maxUsers.Valid {
		a.MaxUsers = &maxUsers.Int64
	}
	set := rights.All()
	if !owner {
		if err := json.Unmarshal([]byte(rightsJSON), &set); err != nil {
			return user.User{}, Account{}, rights.Actor{}, fmt.Errorf("member %d/%d rights: %w", accountID, uid, err)
		}
	}
	if narrow != nil {
		set = set.Narrow(*narrow)
	}
	actor := rights.Actor{AccountID: int64(a.ID), UserID: int64(u.ID), KeyID: keyID, Owner: owner, Rights: set, Name: u.Name()}
	return u, a, actor, nil
}

package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
)

// ID identifies a person across the installation.
type ID int64

// User is a person who can log in.
type User struct {
	ID           ID
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	Language     string
	Operator     bool // platform operator (SPEC §1.3)
	PasswordHash string
	CreatedAt    time.Time
	Version      int64
}

// Name is how other users see this person.
func (u User) Name() string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Email
}

// NormalizeEmail lower-cases and trims an address and checks it is one.
func NormalizeEmail(field, raw string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" {
		return "", fault.Invalidf(field, "is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", fault.Invalidf(field, "%q is not an email address", raw).WithKey("error.email")
	}
	return e, nil
}

// NormalizeLanguage accepts "fr" and "en" (and regional forms like fr-FR).
func NormalizeLanguage(raw string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(raw))
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	switch l {
	case "":
		return "en", nil
	case "fr", "en":
		return l, nil
	}
	return "", fault.Invalidf("language", "must be fr or en, got %q", raw)
}

// New is what is needed to create a person.
type New struct {
	Email     string
	Password  string // may be empty: the person sets it through an invitation
	FirstName string
	LastName  string
	Phone     string
	Language  string
	Operator  bool
}

// Create inserts a person within q's transaction. An email already in use
// is a Conflict naming the field.
func Create(ctx context.Context, q database.Querier, n New, now time.Time) (User, error) {
	email, err := NormalizeEmail("email", n.Email)
	if err != nil {
		return User{}, err
	}
	lang, err := NormalizeLanguage(n.Language)
	if err != nil {
		return User{}, err
	}
	hash := ""
	if n.Password != "" {
		if err := CheckPassword(n.Password, email); err != nil {
			return User{}, err
		}
		hash = HashPassword(n.Password)
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return User{}, err
	}
	u := User{ID: ID(id), Email: email, FirstName: strings.TrimSpace(n.FirstName), LastName: strings.TrimSpace(n.LastName),
		Phone: strings.TrimSpace(n.Phone), Language: lang, Operator: n.Operator, PasswordHash: hash, CreatedAt: now, Version: 1}
	_, err = q.Exec(ctx, `INSERT INTO users (id, email, password_hash, first_name, last_name, phone, language, operator, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		u.ID, u.Email, u.PasswordHash, u.FirstName, u.LastName, u.Phone, u.Language, u.Operator, now.UnixMilli())
	if fault.Is(err, fault.Conflict) {
		return User{}, fault.Invalidf("email", "%s is already used by another user", email).WithKey("error.email_taken")
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

const userColumns = `id, email, password_hash, first_name, last_name, phone, language, operator, created_at, version`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.FirstName, &u.LastName, &u.Phone, &u.Language, &u.Operator, &created, &u.Version)
	u.CreatedAt = time.UnixMilli(created)
	return u, err
}

// Get loads a person by id.
func Get(ctx context.Context, q database.Querier, id ID) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fault.Notf("user not found")
	}
	return u, err
}

// ByEmail loads a person by (normalised) email.
func ByEmail(ctx context.Context, q database.Querier, email string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fault.Notf("user not found")
	}
	return u, err
}

// SetLanguage changes the person's interface language.
func SetLanguage(ctx context.Context, q database.Querier, id ID, lang string, now time.Time) error {
	l, err := NormalizeLanguage(lang)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE users SET language = $1, updated_at = $2, version = version + 1 WHERE id = $3`, l, now.UnixMilli(), id)
	return err
}

// SetPassword checks and stores a new password.
func SetPassword(ctx context.Context, q database.Querier, id ID, pw string, now time.Time) error {
	var email string
	if err := q.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, id).Scan(&email); errors.Is(err, sql.ErrNoRows) {
		return fault.Notf("user not found")
	} else if err != nil {
		return err
	}
	if err := CheckPassword(pw, email); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2, version = version + 1 WHERE id = $3`,
		HashPassword(pw), now.UnixMilli(), id)
	return err
}

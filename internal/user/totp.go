package user

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/instance"
)

// Two-factor authentication (SPEC §2.6): TOTP as RFC 6238 defines it with
// the parameters every authenticator app understands (SHA-1, 6 digits, 30 s),
// plus one-time recovery codes for a lost phone.
//
// Invariants: a secret is stored only encrypted (AES-256-GCM under a key
// derived from the installation secret, bound to the person's id); a code's
// time step is accepted at most once (totp_last_step only grows); a recovery
// code works once and is stored only as an HMAC.
const (
	totpPeriod = 30
	totpSkew   = 1 // steps accepted either side of now: clocks drift
	totpDigits = otp.DigitsSix
	// RecoveryCodeCount is how many recovery codes an enrolment gives.
	RecoveryCodeCount = 10
	// LoginChallengeTTL is how long the second step of a login may wait.
	LoginChallengeTTL = 5 * time.Minute
	// TOTPIssuer names the service in authenticator apps.
	TOTPIssuer = "envoi"
)

// Factor is what proved a second factor.
type Factor int

const (
	// FactorTOTP is a code from the authenticator app.
	FactorTOTP Factor = iota + 1
	// FactorRecovery is one of the one-time recovery codes.
	FactorRecovery
)

// TOTP encrypts TOTP secrets and hashes recovery codes with keys derived
// from the installation secret.
type TOTP struct {
	aead    cipher.AEAD
	codeKey []byte
}

// NewTOTP derives its keys from the installation secret.
func NewTOTP(secret []byte) *TOTP {
	block, err := aes.NewCipher(derive(secret, "envoi/totp-secret/v1"))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &TOTP{aead: aead, codeKey: derive(secret, "envoi/recovery-code/v1")}
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

const sealPrefix = "v1."

// seal encrypts a secret for one person: the person's id is the additional
// data, so a ciphertext copied to another row does not open.
func (t *TOTP) seal(uid ID, plain string) string {
	nonce := make([]byte, t.aead.NonceSize())
	rand.Read(nonce)
	out := t.aead.Seal(nonce, nonce, []byte(plain), aad(uid))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out)
}

func (t *TOTP) open(uid ID, sealed string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealPrefix))
	if err != nil || !strings.HasPrefix(sealed, sealPrefix) || len(raw) < t.aead.NonceSize() {
		return "", fmt.Errorf("two-factor secret of user %d is malformed", uid)
	}
	n := t.aead.NonceSize()
	plain, err := t.aead.Open(nil, raw[:n], raw[n:], aad(uid))
	if err != nil {
		return "", fmt.Errorf("two-factor secret of user %d does not decrypt (installation secret changed?): %w", uid, err)
	}
	return string(plain), nil
}

func aad(uid ID) []byte { return []byte("envoi totp user " + strconv.FormatInt(int64(uid), 10)) }

// TwoFactor is a person's two-factor state.
type TwoFactor struct {
	Enabled      bool
	EnabledAt    time.Time
	Pending      bool // an enrolment is waiting for its confirming code
	RecoveryLeft int  // unused recovery codes
}

// TwoFactorOf reads a person's two-factor state.
func TwoFactorOf(ctx context.Context, q database.Querier, uid ID) (TwoFactor, error) {
	var secret, pending string
	var enabledAt sql.NullInt64
	err := q.QueryRow(ctx, `SELECT totp_secret, totp_pending, totp_enabled_at FROM users WHERE id = $1`, uid).Scan(&secret, &pending, &enabledAt)
	if errors.Is(err, sql.ErrNoRows) {
		return TwoFactor{}, fault.Notf("user not found")
	}
	if err != nil {
		return TwoFactor{}, fmt.Errorf("two-factor state: %w", err)
	}
	tf := TwoFactor{Enabled: secret != "", Pending: pending != ""}
	if enabledAt.Valid {
		tf.EnabledAt = time.UnixMilli(enabledAt.Int64)
	}
	if tf.Enabled {
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, uid).Scan(&tf.RecoveryLeft); err != nil {
			return TwoFactor{}, fmt.Errorf("count recovery codes: %w", err)
		}
	}
	return tf, nil
}

// Enrolment is a secret being set up: shown as a QR code (URL, an
// otpauth:// link) and as text (Secret, base32) for typing in by hand.
type Enrolment struct {
	Secret string
	URL    string
}

// BeginTOTP makes a new secret for a person and keeps it, encrypted, as
// pending until ConfirmTOTP sees a code made from it. Starting again
// replaces the pending secret.
func (t *TOTP) BeginTOTP(ctx context.Context, q database.Querier, u User) (Enrolment, error) {
	tf, err := TwoFactorOf(ctx, q, u.ID)
	if err != nil {
		return Enrolment{}, err
	}
	if tf.Enabled {
		return Enrolment{}, fault.New(fault.Rule, "two-factor authentication is already on").WithKey("security.totp_already_on")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: u.Email, Period: totpPeriod, Digits: totpDigits, SecretSize: 20})
	if err != nil {
		return Enrolment{}, fmt.Errorf("generate TOTP secret: %w", err)
	}
	if _, err := q.Exec(ctx, `UPDATE users SET totp_pending = $1 WHERE id = $2`, t.seal(u.ID, key.Secret()), u.ID); err != nil {
		return Enrolment{}, fmt.Errorf("store pending TOTP secret: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// PendingTOTP returns the enrolment waiting for its code; NotFound when
// there is none.
func (t *TOTP) PendingTOTP(ctx context.Context, q database.Querier, u User) (Enrolment, error) {
	var sealed string
	if err := q.QueryRow(ctx, `SELECT totp_pending FROM users WHERE id = $1`, u.ID).Scan(&sealed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Enrolment{}, err
	}
	if sealed == "" {
		return Enrolment{}, fault.Notf("no two-factor enrolment in progress").WithKey("security.totp_no_enrolment")
	}
	secret, err := t.open(u.ID, sealed)
	if err != nil {
		return Enrolment{}, err
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return Enrolment{}, fmt.Errorf("pending TOTP secret of user %d: %w", u.ID, err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: u.Email, Period: totpPeriod, Digits: totpDigits, Secret: raw})
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP turns two-factor on when code was made from the pending
// secret, and returns new recovery codes in clear, once.
func (t *TOTP) ConfirmTOTP(ctx context.Context, q database.Querier, uid ID, code string, now time.Time) ([]string, error) {
	var sealed string
	if err := q.QueryRow(ctx, `SELECT totp_pending FROM users WHERE id = $1`, uid).Scan(&sealed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if sealed == "" {
		return nil, fault.New(fault.Rule, "no two-factor enrolment in progress: start again").WithKey("security.totp_no_enrolment")
	}
	secret, err := t.open(uid, sealed)
	if err != nil {
		return nil, err
	}
	step, ok := matchStep(secret, normalizeCode(code), now)
	if !ok {
		return nil, errWrongCode()
	}
	if _, err := q.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_enabled_at = $1,
		totp_last_step = $2 WHERE id = $3`, now.UnixMilli(), step, uid); err != nil {
		return nil, fmt.Errorf("enable TOTP: %w", err)
	}
	return t.newRecoveryCodes(ctx, q, uid, now)
}

// DisableTOTP turns two-factor off and forgets the secret and the recovery
// codes. The caller checks the password and a code first.
func DisableTOTP(ctx context.Context, q database.Querier, uid ID) error {
	if _, err := q.Exec(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_enabled_at = NULL, totp_last_step = 0
		WHERE id = $1`, uid); err != nil {
		return fmt.Errorf("disable TOTP: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, uid); err != nil {
		return fmt.Errorf("delete recovery codes: %w", err)
	}
	return nil
}

// CheckSecondFactor accepts a code from the authenticator app or an unused
// recovery code, and uses it up: the app code's time step (and every
// earlier one) cannot be used again, the recovery code is spent. A wrong,
// replayed or spent code is Invalid on the field "code". Run it in the
// transaction that acts on the proof, so a failed action gives the code
// back.
func (t *TOTP) CheckSecondFactor(ctx context.Context, q database.Querier, uid ID, code string, now time.Time) (Factor, error) {
	code = normalizeCode(code)
	var sealed string
	var last int64
	err := q.QueryRow(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = $1`, uid).Scan(&sealed, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fault.Notf("user not found")
	}
	if err != nil {
		return 0, err
	}
	if sealed == "" {
		return 0, fault.New(fault.Rule, "two-factor authentication is off").WithKey("security.totp_off")
	}
	if isAppCode(code) {
		secret, err := t.open(uid, sealed)
		if err != nil {
			return 0, err
		}
		step, ok := matchStep(secret, code, now)
		if !ok || step <= last {
			return 0, errWrongCode()
		}
		// Conditional: of two concurrent uses of one code, one wins.
		res, err := q.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, uid)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return 0, errWrongCode()
		}
		return FactorTOTP, nil
	}
	if len(code) != recoveryCodeLen {
		return 0, errWrongCode()
	}
	res, err := q.Exec(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND hash = $3 AND used_at IS NULL`,
		now.UnixMilli(), uid, t.hashCode(code))
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, errWrongCode()
	}
	return FactorRecovery, nil
}

// TOTPEnabled reports whether the person must give a second factor.
func TOTPEnabled(ctx context.Context, q database.Querier, uid ID) (bool, error) {
	var sealed string
	err := q.QueryRow(ctx, `SELECT totp_secret FROM users WHERE id = $1`, uid).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fault.Notf("user not found")
	}
	return sealed != "", err
}

func errWrongCode() error {
	return fault.Invalidf("code", "this code is not valid (or was already used)").WithKey("security.wrong_code")
}

// normalizeCode removes what people type around a code: spaces, hyphens;
// recovery codes are lower case and never contain 0, 1 or 8 (base32), so
// those are read as the letters they look like.
func normalizeCode(code string) string {
	code = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	if isAppCode(code) || len(code) > 64 {
		return code
	}
	return strings.NewReplacer("0", "o", "1", "l", "8", "b").Replace(code)
}

func isAppCode(code string) bool {
	if len(code) != totpDigits.Length() {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// matchStep finds the time step, within the skew around now, whose code is
// code. Every candidate is computed and compared in constant time.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if !isAppCode(code) {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	found, ok := int64(0), false
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = s, true
		}
	}
	return found, ok
}

// recoveryCodeLen is the length of a recovery code without its hyphen:
// 10 base32 characters, 50 bits.
const recoveryCodeLen = 10

func (t *TOTP) hashCode(code string) string {
	m := hmac.New(sha256.New, t.codeKey)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// newRecoveryCodes replaces a person's recovery codes and returns them in
// clear, formatted "xxxxx-xxxxx".
func (t *TOTP) newRecoveryCodes(ctx context.Context, q database.Querier, uid ID, now time.Time) ([]string, error) {
	if _, err := q.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, uid); err != nil {
		return nil, fmt.Errorf("delete recovery codes: %w", err)
	}
	codes := make([]string, 0, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		c := strings.ToLower(rand.Text()[:recoveryCodeLen])
		if _, err := q.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES ($1, $2, $3)`,
			uid, t.hashCode(c), now.UnixMilli()); err != nil {
			return nil, fmt.Errorf("store recovery code: %w", err)
		}
		codes = append(codes, c[:5]+"-"+c[5:])
	}
	return codes, nil
}

// CreateLoginChallenge records that a person gave the right password and
// now owes a second factor; it returns the token the browser keeps for the
// second step. Expired challenges are swept on the way.
func CreateLoginChallenge(ctx context.Context, q database.Querier, uid ID, ip, userAgent string, now time.Time) (string, error) {
	if _, err := q.Exec(ctx, `DELETE FROM login_challenges WHERE expires_at <= $1`, now.UnixMilli()); err != nil {
		return "", fmt.Errorf("sweep login challenges: %w", err)
	}
	token := instance.RandomToken(32)
	if _, err := q.Exec(ctx, `INSERT INTO login_challenges (id, user_id, created_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, instance.HashToken(token), uid, now.UnixMilli(), now.Add(LoginChallengeTTL).UnixMilli(),
		ip, truncate(userAgent, 512)); err != nil {
		return "", fmt.Errorf("create login challenge: %w", err)
	}
	return token, nil
}

func errChallengeGone() error {
	return fault.New(fault.Unauthenticated, "this login has expired, please log in again").WithKey("security.login_expired")
}

// LoginChallenge returns the person a live challenge token belongs to.
func LoginChallenge(ctx context.Context, q database.Querier, token string, now time.Time) (ID, error) {
	if token == "" || len(token) > 200 {
		return 0, errChallengeGone()
	}
	var uid ID
	var expires int64
	err := q.QueryRow(ctx, `SELECT user_id, expires_at FROM login_challenges WHERE id = $1`, instance.HashToken(token)).Scan(&uid, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errChallengeGone()
	}
	if err != nil {
		return 0, err
	}
	if now.UnixMilli() >= expires {
		return 0, errChallengeGone()
	}
	return uid, nil
}

// EndLoginChallenge spends a challenge; it fails when another request spent
// it first, so one challenge opens at most one session.
func EndLoginChallenge(ctx context.Context, q database.Querier, token string) error {
	res, err := q.Exec(ctx, `DELETE FROM login_challenges WHERE id = $1`, instance.HashToken(token))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChallengeGone()
	}
	return nil
}

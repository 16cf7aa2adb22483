package user

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"envoi/internal/fault"
)

// argon2id parameters (RFC 9106 second recommended option, lighter memory):
// about 40 ms on the reference machine.
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// MaxPasswordBytes is the longest: argon2 hashes any length, but a megabyte
// "password" is an attack on the server, not a secret.
const MaxPasswordBytes = 1024

// CheckPassword enforces the password rules: at least MinPasswordLength
// characters, at most MaxPasswordBytes bytes, not a common password (nor a
// run of three or fewer distinct characters like "abababababab"), and not
// one of the person's own identifiers: pass their email as personal and
// neither it nor its local part is accepted. Comparisons ignore case.
func CheckPassword(pw string, personal ...string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return fault.Invalidf("password", "must be at least %d characters long", MinPasswordLength).WithKey("password.too_short")
	case len(pw) > MaxPasswordBytes:
		return fault.Invalidf("password", "must be at most %d bytes long", MaxPasswordBytes).WithKey("password.too_long")
	case isCommonPassword(pw) || distinctRunes(pw) <= 3:
		return fault.Invalidf("password", "is too common or too easy to guess: choose another one").WithKey("password.too_common")
	}
	folded := strings.ToLower(strings.TrimSpace(pw))
	for _, p := range personal {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		local, _, _ := strings.Cut(p, "@")
		if folded == p || folded == local {
			return fault.Invalidf("password", "must not be your email address or a part of it").WithKey("password.personal")
		}
	}
	return nil
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range strings.ToLower(s) {
		seen[r] = true
	}
	return len(seen)
}

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether pw matches a hash made by HashPassword. An
// empty or malformed hash never matches.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// DummyHash is verified against when the email is unknown, so a login for
// an unknown address takes as long as one with a wrong password. Computed on
// first use: hashing at package load would slow every start.
var DummyHash = sync.OnceValue(func() string { return HashPassword("envoi-dummy-password-for-timing") })

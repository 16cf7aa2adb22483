package user

import (
	"strings"
	"testing"
	"unicode/utf8"

	"envoi/internal/fault"
)

func TestPasswordRules(t *testing.T) {
	varied := func(n int) string { // n bytes, many distinct characters
		const abc = "abcdefghijklmnopqrstuvwxyz0123456789"
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteByte(abc[(i*7)%len(abc)])
		}
		return b.String()
	}
	tests := []struct {
		name, pw, email string
		key             string // "" when accepted
	}{
		{"a passphrase", "long enough password", "alice@example.com", ""},
		{"accents count as characters", "été à Nîmes!", "alice@example.com", ""},
		{"exactly the maximum", varied(MaxPasswordBytes), "", ""},
		{"nine characters", "abcdefgh9", "", "password.too_short"},
		{"empty", "", "", "password.too_short"},
		{"one byte too long", varied(MaxPasswordBytes + 1), "", "password.too_long"},
		{"common, English", "password1234", "", "password.too_common"},
		{"common, other case", "PassWord1234", "", "password.too_common"},
		{"common, French", "motdepasse2024", "", "password.too_common"},
		{"keyboard walk", "azertyuiop", "", "password.too_common"},
		{"keyboard walk, QWERTY", "QWERTYUIOP", "", "password.too_common"},
		{"digit run", "1234567890", "", "password.too_common"},
		{"common with spaces", "azerty 12345", "", "password.too_common"},
		{"first name and year", "Camille2025", "", "password.too_common"},
		{"few distinct characters", "abababababab", "", "password.too_common"},
		{"one character repeated", "zzzzzzzzzzzz", "", "password.too_common"},
		{"the email", "Jean.Dupont@Example.com", "jean.dupont@example.com", "password.personal"},
		{"the email's local part", "jean-christophe.dupont", "Jean-Christophe.Dupont@example.com", "password.personal"},
		{"longer than the email's local part", "jean-christophe.dupont!", "jean-christophe.dupont@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw, tt.email)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("%q refused: %v", tt.pw, err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != "password" || f.Key != tt.key {
				t.Fatalf("%q: got %v, want Invalid on password with key %s", tt.pw, err, tt.key)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 3000 {
		t.Fatalf("%d common passwords, want a few thousand", len(list))
	}
	for pw := range list {
		if utf8.RuneCountInString(pw) < MinPasswordLength || pw != strings.ToLower(pw) || strings.ContainsAny(pw, " \t") {
			t.Errorf("%q: entries are lower case, without spaces, at least %d characters (shorter ones are refused anyway)", pw, MinPasswordLength)
		}
	}
	// The list must not refuse the passphrases the test suites use.
	for _, pw := range []string{"long enough password", "correct horse battery", "a long enough password", "long enough pw", "a long enough passphrase"} {
		if isCommonPassword(pw) {
			t.Errorf("%q is on the list", pw)
		}
	}
}

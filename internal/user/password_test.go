package user

import (
	"strings"
	"testing"

	"envoi/internal/fault"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h := HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash format %q", h)
	}
	if h == HashPassword("correct horse battery") {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	tests := []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"", "", false},
		{"$argon2id$v=19$m=1,t=1,p=1$$", "x", false},
		{"$bcrypt$whatever", "x", false},
	}
	for _, tt := range tests {
		if got := VerifyPassword(tt.hash, tt.pw); got != tt.want {
			t.Errorf("Verify(%q, %q) = %v", tt.hash, tt.pw, got)
		}
	}
}

func TestEmailAndLanguageNormalisation(t *testing.T) {
	good := map[string]string{" Alice@Example.COM ": "alice@example.com", "a.b+c@sub.example.fr": "a.b+c@sub.example.fr"}
	for in, want := range good {
		if got, err := NormalizeEmail("email", in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "alice", "alice@", "@example.com", "Alice <alice@example.com>", "a@localhost"} {
		_, err := NormalizeEmail("email", bad)
		if fe, ok := fault.As(err); !ok || fe.Field != "email" {
			t.Errorf("NormalizeEmail(%q) = %v, want an Invalid on email", bad, err)
		}
	}
	for in, want := range map[string]string{"fr-FR": "fr", "EN": "en", "": "en"} {
		if got, err := NormalizeLanguage(in); err != nil || got != want {
			t.Errorf("NormalizeLanguage(%q) = %q %v", in, got, err)
		}
	}
	if _, err := NormalizeLanguage("de"); err == nil {
		t.Error("de accepted")
	}
}

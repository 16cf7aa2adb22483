package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOfFollowsWrapping(t *testing.T) {
	base := Invalidf("email", "is not an email address")
	wrapped := fmt.Errorf("create user: %w", base)
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"direct", base, Invalid},
		{"wrapped", wrapped, Invalid},
		{"plain error", errors.New("boom"), Internal},
		{"not found", Notf("contact not found"), NotFound},
		{"wrap keeps kind", Wrap(Conflict, errors.New("dup"), "already exists"), Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorMessageNamesField(t *testing.T) {
	err := Invalidf("email", "is not an email address")
	if got := err.Error(); got != "email: is not an email address" {
		t.Fatalf("Error() = %q", got)
	}
	if !Is(fmt.Errorf("x: %w", err), Invalid) {
		t.Fatal("Is should see through wrapping")
	}
	if Is(nil, Internal) {
		t.Fatal("nil is no fault")
	}
}

func TestCodesAreStable(t *testing.T) {
	want := map[Kind]string{Internal: "internal", Invalid: "invalid", Unauthenticated: "unauthenticated",
		Forbidden: "forbidden", NotFound: "not_found", Conflict: "conflict", Rule: "rule", TooMany: "too_many", Unavailable: "unavailable"}
	for k, code := range want {
		if k.Code() != code {
			t.Errorf("%d.Code() = %q, want %q", k, k.Code(), code)
		}
	}
}

package user

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestSecretsAreSealedPerPersonAndInstallation(t *testing.T) {
	installation := []byte("0123456789abcdef0123456789abcdef")
	tf := NewTOTP(installation)
	sealed := tf.seal(42, "JBSWY3DPEHPK3PXP")
	if strings.Contains(sealed, "JBSWY3DPEHPK3PXP") {
		t.Fatal("the sealed secret contains the secret")
	}
	if tf.seal(42, "JBSWY3DPEHPK3PXP") == sealed {
		t.Fatal("two seals of one secret are equal: nonce missing")
	}
	if got, err := tf.open(42, sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := tf.open(43, sealed); err == nil {
		t.Error("a secret copied to another person's row opens")
	}
	if _, err := NewTOTP([]byte("another installation secret.....")).open(42, sealed); err == nil {
		t.Error("a secret opens without the installation secret")
	}
	for _, bad := range []string{"", "v1.", "v1.!!!", sealed[:len(sealed)-2], "v2." + sealed[3:]} {
		if _, err := tf.open(42, bad); err == nil {
			t.Errorf("open(%q) succeeded", bad)
		}
	}
}

func TestMatchStep(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Date(2026, 11, 23, 10, 0, 15, 0, time.UTC)
	step := now.Unix() / totpPeriod
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		code string
		want int64 // -1 refused
	}{
		{"now", code(now), step},
		{"previous step (clock drift)", code(now.Add(-30 * time.Second)), step - 1},
		{"next step (clock drift)", code(now.Add(30 * time.Second)), step + 1},
		{"three steps ago", code(now.Add(-90 * time.Second)), -1},
		{"not digits", "12a456", -1},
		{"too short", code(now)[:5], -1},
	}
	for _, tt := range tests {
		got, ok := matchStep(secret, tt.code, now)
		if (tt.want == -1) == ok || (ok && got != tt.want) {
			t.Errorf("%s: step %d, %v; want %d", tt.name, got, ok, tt.want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		" 123 456 ":   "123456",
		"123-456":     "123456",
		"ABCDE-FGHIJ": "abcdefghij",
		"abcd0 l1b8x": "abcdollbbx",
		"":            "",
	} {
		if got := normalizeCode(in); got != want {
			t.Errorf("normalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeviceOf(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                                  "Firefox 128 · Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36":                         "Chrome 126 · Windows 10",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari 17 · iOS 17.5",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                   "Safari 17 · macOS",
		"": "",
	} {
		if got := DeviceOf(ua).String(); got != want {
			t.Errorf("DeviceOf(%q) = %q, want %q", ua, got, want)
		}
	}
	if !DeviceOf("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36").Mobile {
		t.Error("an Android phone is not mobile")
	}
}

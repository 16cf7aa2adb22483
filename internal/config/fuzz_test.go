package config

import (
	"strings"
	"testing"
)

// FuzzParseSMTP checks that any ENVOI_SMTP_URL either is refused or gives a
// usable relay whose redacted description parses back to the same relay.
func FuzzParseSMTP(f *testing.F) {
	for _, s := range []string{"smtp://relay", "smtp://u:p@relay:2525?tls=none", "smtp://[::1]?tls=tls",
		"smtp://:pw@h", "smtp:relay", "smtps://x", "smtp://h/x", "smtp://h?tls=ssl", "smtp://u%40x:p%2F@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, problem := parseSMTP(raw)
		redactURL(raw)
		if problem != "" {
			return
		}
		if s.Host == "" || s.Port < 1 || s.Port > 65535 || !strings.Contains(" none starttls tls ", " "+s.TLS+" ") {
			t.Fatalf("parseSMTP(%q) accepted %#v", raw, s)
		}
		back, problem := parseSMTP(s.String())
		if problem != "" {
			t.Fatalf("redacted %q of %q does not parse: %s", s.String(), raw, problem)
		}
		if back.Host != s.Host || back.Port != s.Port || back.TLS != s.TLS || back.Username != s.Username {
			t.Fatalf("%q: %#v round-trips to %#v", raw, s, back)
		}
	})
}

// FuzzLoadEnv checks that Load never panics, and that an accepted
// configuration validates again unchanged and never shows the SMTP password.
func FuzzLoadEnv(f *testing.F) {
	f.Add("127.0.0.1:8080", "", "smtp://u:Secret1@relay", "5m,30m", "1MiB", "postgres://u:pw@h/db")
	f.Add(":0", "https://x.test/", "", "1s", "10", "sqlite:/x")
	f.Add("[::]:1", "http://::", "smtp://::", "0s", "0", "mysql://")
	f.Fuzz(func(t *testing.T, addr, base, smtp, delays, body, db string) {
		env := map[string]string{"ENVOI_ADDR": addr, "ENVOI_BASE_URL": base, "ENVOI_SMTP_URL": smtp,
			"ENVOI_SEND_RETRY_DELAYS": delays, "ENVOI_MAX_BODY": body, "ENVOI_DATABASE_URL": db}
		c, _, err := Load(nil, envOf(env))
		if err != nil {
			return
		}
		again := c
		if err := again.Validate(); err != nil {
			t.Fatalf("accepted config fails a second Validate: %v", err)
		}
		if again.String() != c.String() {
			t.Fatalf("second Validate changed %s into %s", c, again)
		}
		if _, problem := parseSMTP(c.SMTP.String()); c.SMTP.Host != "" && problem != "" {
			t.Fatalf("SMTP %s does not parse back: %s", c.SMTP, problem)
		}
		// A password also found elsewhere in the text (the address…) is
		// no leak; one found only because of the SMTP setting is.
		if p := c.SMTP.Password; len(p) >= 3 && strings.Contains(c.String(), p) &&
			!strings.Contains(smtpWithoutUser(c), p) {
			t.Fatalf("password %q shown in %s", p, c)
		}
	})
}

// smtpWithoutUser is the configuration's text with the SMTP user info cut,
// so that a password equal to some other part of the text is not a leak.
func smtpWithoutUser(c Config) string {
	c.SMTP.Username, c.SMTP.Password = "", ""
	return c.String()
}

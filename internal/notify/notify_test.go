package notify_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/i18n"
	"envoi/internal/notify"
)

// untranslated finds a catalogue key left in an email.
var untranslated = regexp.MustCompile(`mail\.(greeting|footer|link_help|invitation\.|password_reset\.)`)

// recorder is a Mailer that keeps what it is given.
type recorder struct {
	sent []notify.Email
	err  error
}

func (r *recorder) Send(_ context.Context, m notify.Email) error {
	r.sent = append(r.sent, m)
	return r.err
}

func newNotifier(t *testing.T) (*notify.Notifier, *recorder) {
	t.Helper()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &notify.Notifier{Mailer: rec, From: "envoi <envoi@example.com>", BaseURL: "https://envoi.example.com", I18n: cat}, rec
}

func TestEmailsAreRenderedInTheRecipientsLanguage(t *testing.T) {
	ctx := context.Background()
	expires := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	hostile := `<script>alert("x")</script> & Co`
	tests := []struct {
		name        string
		send        func(n *notify.Notifier) error
		kind        string
		account     int64
		link        string
		subject     string   // a part of the subject
		textHas     []string // parts of the text part
		htmlHas     []string // parts of the HTML part
		htmlHasNot  []string
		wantLangTag string
	}{
		{
			name: "invitation in English, hostile names",
			send: func(n *notify.Notifier) error {
				return n.Invitation(ctx, 42, "bob@example.com", "en", "Alice <b>Admin</b>", hostile, "/invite/tok-EN_123", expires)
			},
			kind: notify.KindInvitation, account: 42, link: "https://envoi.example.com/invite/tok-EN_123",
			subject:     "invites you to join",
			textHas:     []string{"Alice <b>Admin</b> invites you", hostile, "Dec 1, 2026"},
			htmlHas:     []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co", "Alice &lt;b&gt;Admin&lt;/b&gt;", "Choose my password", "Dec 1, 2026"},
			htmlHasNot:  []string{"<script>", "<b>Admin</b>"},
			wantLangTag: `<html lang="en">`,
		},
		{
			name: "invitation in French",
			send: func(n *notify.Notifier) error {
				return n.Invitation(ctx, 7, "bob@example.com", "fr-FR", "Alice", "Acme", "https://other.example/invite/abc", expires)
			},
			kind: notify.KindInvitation, account: 7, link: "https://other.example/invite/abc",
			subject:     "vous invite à rejoindre Acme",
			textHas:     []string{"Bonjour,", "01/12/2026"},
			htmlHas:     []string{"Choisir mon mot de passe", "01/12/2026"},
			wantLangTag: `<html lang="fr">`,
		},
		{
			name: "password reset in English",
			send: func(n *notify.Notifier) error {
				return n.PasswordReset(ctx, "bob@example.com", "en", "/password/reset/tok")
			},
			kind: notify.KindPasswordReset, link: "https://envoi.example.com/password/reset/tok",
			subject: "new envoi password", textHas: []string{"valid for one hour"}, htmlHas: []string{"Choose a new password"},
			wantLangTag: `<html lang="en">`,
		},
		{
			name: "password reset in French",
			send: func(n *notify.Notifier) error {
				return n.PasswordReset(ctx, "bob@example.com", "fr", "/password/reset/tok")
			},
			kind: notify.KindPasswordReset, link: "https://envoi.example.com/password/reset/tok",
			subject: "nouveau mot de passe", textHas: []string{"valable une heure"}, htmlHas: []string{"Choisir un nouveau mot de passe"},
			wantLangTag: `<html lang="fr">`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, rec := newNotifier(t)
			if err := tt.send(n); err != nil {
				t.Fatal(err)
			}
			if len(rec.sent) != 1 {
				t.Fatalf("%d emails sent, want 1", len(rec.sent))
			}
			m := rec.sent[0]
			if m.Kind != tt.kind || m.AccountID != tt.account || m.To != "bob@example.com" || m.From != "envoi <envoi@example.com>" {
				t.Errorf("envelope = kind %q account %d to %q from %q", m.Kind, m.AccountID, m.To, m.From)
			}
			if !strings.Contains(m.Subject, tt.subject) || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject %q, want it to contain %q on one line", m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, tt.link) {
				t.Errorf("text part lacks the link %s:\n%s", tt.link, m.Text)
			}
			if !strings.Contains(m.HTML, `href="`+tt.link+`"`) {
				t.Errorf("HTML part lacks a link to %s:\n%s", tt.link, m.HTML)
			}
			if !strings.Contains(m.HTML, tt.wantLangTag) || !strings.Contains(m.HTML, `name="viewport"`) {
				t.Errorf("HTML part lacks %s or the mobile viewport", tt.wantLangTag)
			}
			for _, s := range tt.textHas {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text part lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tt.htmlHas {
				if !strings.Contains(m.HTML, s) {
					t.Errorf("HTML part lacks %q:\n%s", s, m.HTML)
				}
			}
			for _, s := range tt.htmlHasNot {
				if strings.Contains(m.HTML, s) {
					t.Errorf("HTML part holds %q unescaped", s)
				}
			}
			for _, part := range []string{m.Subject, m.Text, m.HTML} {
				if untranslated.MatchString(part) {
					t.Errorf("untranslated key in %q", part)
				}
			}
		})
	}
}

func TestHostileLinkIsNeutralised(t *testing.T) {
	n, rec := newNotifier(t)
	if err := n.PasswordReset(context.Background(), "bob@example.com", "en", "javascript:alert(1)"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.sent[0].HTML, `href="javascript:`) {
		t.Fatal("a javascript: link reached an href")
	}
}

func TestMailerErrorIsReturned(t *testing.T) {
	n, rec := newNotifier(t)
	rec.err = errors.New("relay down")
	err := n.PasswordReset(context.Background(), "bob@example.com", "en", "/x")
	if !errors.Is(err, rec.err) || !strings.Contains(err.Error(), "password_reset") {
		t.Fatalf("err = %v, want the mailer's error naming the kind", err)
	}
}

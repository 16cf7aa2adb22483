package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// defaults is what Load gives with no flag and no environment.
func defaults() Config {
	return Config{
		DataDir:         "data",
		Addr:            "127.0.0.1:8080",
		BaseURL:         "http://127.0.0.1:8080",
		SendRetryDelays: []time.Duration{5 * time.Minute, 30 * time.Minute},
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		MaxBodyBytes:    1 << 20,
	}
}

func with(f func(c *Config)) Config {
	c := defaults()
	f(&c)
	return c
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		want     Config
		wantRest []string
	}{
		{name: "defaults", want: defaults()},
		{
			name: "unknown ENVOI variables are ignored",
			env:  map[string]string{"ENVOI_NOPE": "x", "ENVOI_TEST_POSTGRES": "postgres://x"},
			want: defaults(),
		},
		{
			name: "every variable from the environment",
			env: map[string]string{
				"ENVOI_DATA":              "/var/lib/envoi",
				"ENVOI_DATABASE_URL":      "postgres://envoi:pw@db:5432/envoi?sslmode=disable",
				"ENVOI_ADDR":              "0.0.0.0:9000",
				"ENVOI_BASE_URL":          "https://mail.example.com/",
				"ENVOI_SMTP_URL":          "smtp://u%40x:p%2Fw@relay.example.com:2525?tls=tls",
				"ENVOI_SEND_RETRY_DELAYS": " 10s , 2h ",
				"ENVOI_LOG_LEVEL":         "DEBUG",
				"ENVOI_LOG_FORMAT":        "JSON",
				"ENVOI_MAX_BODY":          "512KiB",
			},
			want: Config{
				DataDir:         "/var/lib/envoi",
				DatabaseURL:     "postgres://envoi:pw@db:5432/envoi?sslmode=disable",
				Addr:            "0.0.0.0:9000",
				BaseURL:         "https://mail.example.com",
				SMTPURL:         "smtp://u%40x:p%2Fw@relay.example.com:2525?tls=tls",
				SMTP:            SMTP{Host: "relay.example.com", Port: 2525, Username: "u@x", Password: "p/w", TLS: "tls"},
				SendRetryDelays: []time.Duration{10 * time.Second, 2 * time.Hour},
				LogLevel:        slog.LevelDebug,
				LogFormat:       "json",
				MaxBodyBytes:    512 << 10,
			},
		},
		{
			name: "flags win over the environment",
			args: []string{"--data", "d2", "--db", "sqlite:/tmp/x.db", "--addr", "127.0.0.1:7000",
				"--base-url", "http://envoi.test", "--smtp-url", "smtp://relay", "--log-level", "warn",
				"--log-format", "text", "--demo", "extra", "args"},
			env: map[string]string{
				"ENVOI_DATA": "d1", "ENVOI_DATABASE_URL": "postgres://db/x", "ENVOI_ADDR": "127.0.0.1:6000",
				"ENVOI_BASE_URL": "https://other.test", "ENVOI_SMTP_URL": "smtp://other?tls=none",
				"ENVOI_LOG_LEVEL": "error", "ENVOI_LOG_FORMAT": "json",
			},
			want: with(func(c *Config) {
				c.DataDir = "d2"
				c.DatabaseURL = "sqlite:/tmp/x.db"
				c.Addr = "127.0.0.1:7000"
				c.BaseURL = "http://envoi.test"
				c.SMTPURL = "smtp://relay"
				c.SMTP = SMTP{Host: "relay", Port: 587, TLS: "starttls"}
				c.LogLevel = slog.LevelWarn
				c.Demo = true
			}),
			wantRest: []string{"extra", "args"},
		},
		{
			name: "single-dash flags and = syntax",
			args: []string{"-addr=:9999", "-log-level=error"},
			want: with(func(c *Config) {
				c.Addr = ":9999"
				c.BaseURL = "http://localhost:9999"
				c.LogLevel = slog.LevelError
			}),
		},
		{
			name: "unspecified IPv6 listen address gives a localhost base URL",
			args: []string{"--addr", "[::]:8080"},
			want: with(func(c *Config) { c.Addr = "[::]:8080"; c.BaseURL = "http://localhost:8080" }),
		},
		{
			name: "listen host is lower-cased in the default base URL",
			args: []string{"--addr", "Envoi.Local:80"},
			want: with(func(c *Config) { c.Addr = "Envoi.Local:80"; c.BaseURL = "http://envoi.local:80" }),
		},
		{
			name: "IPv6 loopback listen address",
			args: []string{"--addr", "[::1]:8081"},
			want: with(func(c *Config) { c.Addr = "[::1]:8081"; c.BaseURL = "http://[::1]:8081" }),
		},
		{
			name: "port 0 picks a free port",
			args: []string{"--addr", "127.0.0.1:0"},
			want: with(func(c *Config) { c.Addr = "127.0.0.1:0"; c.BaseURL = "http://127.0.0.1:0" }),
		},
		{
			name: "base URL with a path keeps it without the trailing slash",
			env:  map[string]string{"ENVOI_BASE_URL": "HTTPS://Mail.Example.com:8443/envoi/"},
			want: with(func(c *Config) { c.BaseURL = "https://mail.example.com:8443/envoi" }),
		},
		{
			name: "postgresql scheme",
			env:  map[string]string{"ENVOI_DATABASE_URL": "postgresql://localhost/envoi"},
			want: with(func(c *Config) { c.DatabaseURL = "postgresql://localhost/envoi" }),
		},
		{
			name: "smtp tls=none defaults to port 25",
			env:  map[string]string{"ENVOI_SMTP_URL": "smtp://localhost?tls=none"},
			want: with(func(c *Config) {
				c.SMTPURL = "smtp://localhost?tls=none"
				c.SMTP = SMTP{Host: "localhost", Port: 25, TLS: "none"}
			}),
		},
		{
			name: "smtp tls=tls defaults to port 465, user without password",
			env:  map[string]string{"ENVOI_SMTP_URL": "smtp://me@smtp.example.com/?tls=tls"},
			want: with(func(c *Config) {
				c.SMTPURL = "smtp://me@smtp.example.com/?tls=tls"
				c.SMTP = SMTP{Host: "smtp.example.com", Port: 465, Username: "me", TLS: "tls"}
			}),
		},
		{
			name: "smtp IPv6 host, explicit starttls and port",
			env:  map[string]string{"ENVOI_SMTP_URL": "smtp://a:b@[::1]:1025?tls=starttls"},
			want: with(func(c *Config) {
				c.SMTPURL = "smtp://a:b@[::1]:1025?tls=starttls"
				c.SMTP = SMTP{Host: "::1", Port: 1025, Username: "a", Password: "b", TLS: "starttls"}
			}),
		},
		{
			name: "one retry delay, byte count body limit",
			env:  map[string]string{"ENVOI_SEND_RETRY_DELAYS": "1m", "ENVOI_MAX_BODY": "2048"},
			want: with(func(c *Config) {
				c.SendRetryDelays = []time.Duration{time.Minute}
				c.MaxBodyBytes = 2048
			}),
		},
		{
			name: "warning is accepted for warn, MiB suffix",
			env:  map[string]string{"ENVOI_LOG_LEVEL": "warning", "ENVOI_MAX_BODY": "10MiB"},
			want: with(func(c *Config) { c.LogLevel = slog.LevelWarn; c.MaxBodyBytes = 10 << 20 }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := Load(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Config{})); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRest, rest, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("remaining args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // each must be one line of the error
	}{
		{name: "addr without port", env: map[string]string{"ENVOI_ADDR": "localhost"},
			want: []string{`ENVOI_ADDR / --addr: "localhost" is not host:port`}},
		{name: "addr with a bad port", args: []string{"--addr", "127.0.0.1:http"},
			want: []string{`ENVOI_ADDR / --addr: port "http" is not a number from 0 to 65535`}},
		{name: "addr port out of range", args: []string{"--addr", ":70000"},
			want: []string{`ENVOI_ADDR / --addr: port "70000" is not a number from 0 to 65535`}},
		{name: "addr host unusable in a URL", args: []string{"--addr", "a b:80"},
			want: []string{`ENVOI_ADDR / --addr: host "a b" cannot be used in a URL; set ENVOI_BASE_URL / --base-url`}},
		{name: "empty data dir", args: []string{"--data="},
			want: []string{`ENVOI_DATA / --data: must not be empty`}},
		{name: "unknown database scheme", env: map[string]string{"ENVOI_DATABASE_URL": "mysql://root@db/envoi"},
			want: []string{`ENVOI_DATABASE_URL / --db: must start with postgres:// or sqlite:, got "mysql://root@db/envoi"`}},
		{name: "sqlite without a path", args: []string{"--db", "sqlite:"},
			want: []string{`ENVOI_DATABASE_URL / --db: sqlite: needs a file path, as in sqlite:/var/lib/envoi/envoi.db`}},
		{name: "unparsable postgres URL", env: map[string]string{"ENVOI_DATABASE_URL": "postgres://u:p%zz@h/db"},
			want: []string{`ENVOI_DATABASE_URL / --db: not a valid PostgreSQL URL (percent-encode special characters in the password)`}},
		{name: "base URL without scheme", env: map[string]string{"ENVOI_BASE_URL": "mail.example.com"},
			want: []string{`ENVOI_BASE_URL / --base-url: must be an absolute http(s) URL such as https://mail.example.com, got "mail.example.com"`}},
		{name: "base URL with another scheme", args: []string{"--base-url", "ftp://example.com"},
			want: []string{`ENVOI_BASE_URL / --base-url: must be an absolute http(s) URL such as https://mail.example.com, got "ftp://example.com"`}},
		{name: "base URL without host", args: []string{"--base-url", "https://"},
			want: []string{`ENVOI_BASE_URL / --base-url: must be an absolute http(s) URL such as https://mail.example.com, got "https://"`}},
		{name: "base URL with a query", args: []string{"--base-url", "https://example.com/?a=b"},
			want: []string{`ENVOI_BASE_URL / --base-url: must be an absolute http(s) URL such as https://mail.example.com, got "https://example.com/?a=b"`}},
		{name: "base URL with credentials", args: []string{"--base-url", "https://u:pw@example.com"},
			want: []string{`ENVOI_BASE_URL / --base-url: must be an absolute http(s) URL such as https://mail.example.com, got "https://u:xxxxx@example.com"`}},
		{name: "smtp bad tls", env: map[string]string{"ENVOI_SMTP_URL": "smtp://relay?tls=ssl"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: tls must be none, starttls or tls, got "ssl"`}},
		{name: "smtp wrong scheme", env: map[string]string{"ENVOI_SMTP_URL": "smtps://u:pw@relay"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: must start with smtp://, as in smtp://user:pass@host:587?tls=starttls, got "smtps://u:xxxxx@relay"`}},
		{name: "smtp without host", env: map[string]string{"ENVOI_SMTP_URL": "smtp://:25"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: needs a host, as in smtp://user:pass@host:587?tls=starttls`}},
		{name: "smtp without slashes", env: map[string]string{"ENVOI_SMTP_URL": "smtp:relay:25"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: needs a host, as in smtp://user:pass@host:587?tls=starttls`}},
		{name: "smtp bad port", env: map[string]string{"ENVOI_SMTP_URL": "smtp://relay:0"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: port "0" is not a number from 1 to 65535`}},
		{name: "smtp unknown parameter", env: map[string]string{"ENVOI_SMTP_URL": "smtp://relay?tsl=none"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: unknown parameter "tsl" (only tls is allowed)`}},
		{name: "smtp with a path", env: map[string]string{"ENVOI_SMTP_URL": "smtp://relay/x"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: must not have a path, got "/x"`}},
		{name: "smtp password without user", env: map[string]string{"ENVOI_SMTP_URL": "smtp://:pw@relay"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: has a password but no user name`}},
		{name: "smtp unparsable", env: map[string]string{"ENVOI_SMTP_URL": "smtp://u:p%zz@relay"},
			want: []string{`ENVOI_SMTP_URL / --smtp-url: not a valid URL, expected smtp://user:pass@host:587?tls=starttls (percent-encode special characters in the password)`}},
		{name: "retry delay not a duration", env: map[string]string{"ENVOI_SEND_RETRY_DELAYS": "5x"},
			want: []string{`ENVOI_SEND_RETRY_DELAYS: "5x" is not a duration (use e.g. 5m,30m)`}},
		{name: "retry delay empty element", env: map[string]string{"ENVOI_SEND_RETRY_DELAYS": "5m,"},
			want: []string{`ENVOI_SEND_RETRY_DELAYS: "" is not a duration (use e.g. 5m,30m)`}},
		{name: "retry delay zero", env: map[string]string{"ENVOI_SEND_RETRY_DELAYS": "0s"},
			want: []string{`ENVOI_SEND_RETRY_DELAYS: "0s" must be positive`}},
		{name: "too many retry delays", env: map[string]string{"ENVOI_SEND_RETRY_DELAYS": "1m,2m,3m"},
			want: []string{`ENVOI_SEND_RETRY_DELAYS: at most 2 delays (3 sending attempts), got 3`}},
		{name: "bad log level", args: []string{"--log-level", "verbose"},
			want: []string{`ENVOI_LOG_LEVEL / --log-level: must be debug, info, warn or error, got "verbose"`}},
		{name: "bad log format", env: map[string]string{"ENVOI_LOG_FORMAT": "xml"},
			want: []string{`ENVOI_LOG_FORMAT / --log-format: must be text or json, got "xml"`}},
		{name: "bad body size", env: map[string]string{"ENVOI_MAX_BODY": "1MB"},
			want: []string{`ENVOI_MAX_BODY: "1MB" is not a positive size in bytes (e.g. 1048576, 512KiB or 1MiB)`}},
		{name: "zero body size", env: map[string]string{"ENVOI_MAX_BODY": "0"},
			want: []string{`ENVOI_MAX_BODY: "0" is not a positive size in bytes (e.g. 1048576, 512KiB or 1MiB)`}},
		{name: "overflowing body size", env: map[string]string{"ENVOI_MAX_BODY": "9223372036854775807GiB"},
			want: []string{`ENVOI_MAX_BODY: "9223372036854775807GiB" is not a positive size in bytes (e.g. 1048576, 512KiB or 1MiB)`}},
		{
			name: "every bad setting is reported at once",
			env: map[string]string{"ENVOI_ADDR": "nope", "ENVOI_LOG_FORMAT": "xml",
				"ENVOI_SMTP_URL": "smtp://relay?tls=ssl", "ENVOI_SEND_RETRY_DELAYS": "5x"},
			want: []string{
				`ENVOI_ADDR / --addr: "nope" is not host:port`,
				`ENVOI_SMTP_URL / --smtp-url: tls must be none, starttls or tls, got "ssl"`,
				`ENVOI_SEND_RETRY_DELAYS: "5x" is not a duration (use e.g. 5m,30m)`,
				`ENVOI_LOG_FORMAT / --log-format: must be text or json, got "xml"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(tt.args, envOf(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			var se *SettingError
			if !errors.As(err, &se) {
				t.Errorf("error %v is not a *SettingError", err)
			}
		})
	}
}

func TestLoadRejectsUnknownFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Bind(fs, nil)
	if err := fs.Parse([]string{"--nope"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
	// Load itself reports flag errors rather than exiting.
	if _, _, err := Load([]string{"--addr"}, nil); err == nil {
		t.Fatal("flag without its value accepted")
	}
}

func TestBindForSubcommand(t *testing.T) {
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	c := Bind(fs, envOf(map[string]string{"ENVOI_DATA": "/srv/envoi"}))
	name := fs.String("name", "", "account name")
	if err := fs.Parse([]string{"--name", "Acme", "--db", "sqlite:/tmp/a.db"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if *name != "Acme" || c.DataDir != "/srv/envoi" || c.DatabaseURL != "sqlite:/tmp/a.db" {
		t.Errorf("got name=%q data=%q db=%q", *name, c.DataDir, c.DatabaseURL)
	}
	if fs.Lookup("demo") != nil {
		t.Error("Bind registered --demo, which belongs to serve")
	}
}

func TestValidateAgainAfterChanges(t *testing.T) {
	c := Default()
	c.LogLevel = slog.LevelDebug
	c.MaxBodyBytes = 4096
	c.SendRetryDelays = []time.Duration{time.Second}
	c.SMTPURL = "smtp://relay:2525?tls=none"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != slog.LevelDebug || c.MaxBodyBytes != 4096 || len(c.SendRetryDelays) != 1 {
		t.Errorf("Validate reset changed fields: %v", c)
	}
	if c.SMTP.Addr() != "relay:2525" || c.SMTP.TLS != "none" {
		t.Errorf("SMTP = %#v", c.SMTP)
	}
	c.SendRetryDelays = []time.Duration{-time.Second}
	if err := c.Validate(); err == nil {
		t.Error("negative retry delay accepted")
	}
}

func TestValidateHandBuilt(t *testing.T) {
	c := Config{DataDir: "d", Addr: "127.0.0.1:0"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := with(func(w *Config) { w.DataDir = "d"; w.Addr = "127.0.0.1:0"; w.BaseURL = "http://127.0.0.1:0" })
	if diff := cmp.Diff(want, c, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDefault(t *testing.T) {
	if diff := cmp.Diff(defaults(), Default(), cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSecureCookies(t *testing.T) {
	for base, want := range map[string]bool{
		"https://mail.example.com": true,
		"HTTPS://mail.example.com": true,
		"http://mail.example.com":  false,
		"":                         false, // http://127.0.0.1:8080
	} {
		c, _, err := Load(nil, envOf(map[string]string{"ENVOI_BASE_URL": base}))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.SecureCookies(); got != want {
			t.Errorf("base %q: SecureCookies = %v, want %v", base, got, want)
		}
	}
}

func TestSecretsNeverShown(t *testing.T) {
	const smtpPass, pgPass, queryPass = "Smtp-S3cret!", "Pg-S3cret", "Query-S3cret"
	secrets := []string{smtpPass, pgPass, queryPass, "Smtp-S3cret%21"}
	env := envOf(map[string]string{
		"ENVOI_SMTP_URL":     "smtp://mailer:" + "Smtp-S3cret%21" + "@relay.example.com:587",
		"ENVOI_DATABASE_URL": "postgres://envoi:" + pgPass + "@db:5432/envoi?password=" + queryPass + "&sslmode=require",
	})
	c, _, err := Load(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Password != smtpPass {
		t.Fatalf("SMTP password parsed as %q", c.SMTP.Password)
	}

	var outputs []string
	outputs = append(outputs, c.String(), fmt.Sprint(c), fmt.Sprintf("%v %+v %#v", c, c, c),
		fmt.Sprintf("%v %+v %#v", &c, &c, &c), fmt.Sprintf("%v %+v %#v %s", c.SMTP, c.SMTP, c.SMTP, c.SMTP))
	for _, h := range []func(io.Writer) slog.Handler{
		func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("starting", "config", c, "ptr", &c, "smtp", c.SMTP)
		outputs = append(outputs, buf.String())
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var help bytes.Buffer
	fs.SetOutput(&help)
	Bind(fs, env)
	fs.PrintDefaults()
	outputs = append(outputs, help.String())

	// Bad settings carrying a password do not echo it in their error.
	_, _, err = Load(nil, envOf(map[string]string{
		"ENVOI_DATABASE_URL": "mysql://root:" + pgPass + "@db/envoi",
		"ENVOI_SMTP_URL":     "smtps://mailer:" + smtpPass + "@relay",
		"ENVOI_BASE_URL":     "https://u:" + queryPass + "@example.com",
	}))
	if err == nil {
		t.Fatal("bad URLs accepted")
	}
	outputs = append(outputs, err.Error())

	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("secret %q shown in:\n%s", s, out)
			}
		}
	}
	for _, want := range []string{"smtp://mailer:xxxxx@relay.example.com:587?tls=starttls",
		"postgres://envoi:xxxxx@db:5432/envoi?password=xxxxx&sslmode=require", "max_body_bytes=1048576",
		"send_retry_delays=5m0s,30m0s", "log_level=info", "demo=false"} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("String() = %s\nlacks %s", c.String(), want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"postgres://u@h/db":               "postgres://u@h/db",
		"postgres://u:p@h/db":             "postgres://u:xxxxx@h/db",
		"postgres://u:p@h/db?PASSWORD=p":  "postgres://u:xxxxx@h/db?PASSWORD=xxxxx",
		"postgres://u:p%zz@h/db":          "(unparsable URL, hidden)",
		"postgres://h/db?password=a;b=%z": "postgres://h/db?(hidden)",
		"sqlite:/var/lib/envoi.db":        "sqlite:/var/lib/envoi.db",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

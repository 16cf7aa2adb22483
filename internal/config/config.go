package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Built-in defaults, used when neither a flag nor an ENVOI_* variable is set.
const (
	DefaultDataDir         = "data"
	DefaultAddr            = "127.0.0.1:8080"
	DefaultSendRetryDelays = "5m,30m"
	DefaultLogFormat       = "text"
	DefaultMaxBodyBytes    = 1 << 20
	MaxSendRetries         = 2 // SPEC §7.5: at most 3 sending attempts
)

const (
	redacted                = "xxxxx"
	defaultMaxBodySetting   = "1MiB"
	defaultLogLevelSetting  = "info"
	defaultSMTPTLS          = "starttls"
	settingData             = "ENVOI_DATA / --data"
	settingDB               = "ENVOI_DATABASE_URL / --db"
	settingAddr             = "ENVOI_ADDR / --addr"
	settingBaseURL          = "ENVOI_BASE_URL / --base-url"
	settingSMTP             = "ENVOI_SMTP_URL / --smtp-url"
	settingRetryDelays      = "ENVOI_SEND_RETRY_DELAYS"
	settingLogLevel         = "ENVOI_LOG_LEVEL / --log-level"
	settingLogFormat        = "ENVOI_LOG_FORMAT / --log-format"
	settingMaxBody          = "ENVOI_MAX_BODY"
	smtpURLExample          = "smtp://user:pass@host:587?tls=starttls"
	databaseURLPrefixesHelp = "postgres:// or sqlite:"
)

// Config is the configuration of one envoi process. Build it with Load, or
// with Bind and Validate when a subcommand adds flags of its own. The
// exported fields are valid once Validate returned nil.
type Config struct {
	DataDir         string          // --data, ENVOI_DATA: SQLite file and local files
	DatabaseURL     string          // --db, ENVOI_DATABASE_URL: postgres://… or sqlite:PATH; "" = SQLite in DataDir
	Addr            string          // --addr, ENVOI_ADDR: host:port to listen on
	BaseURL         string          // --base-url, ENVOI_BASE_URL: public URL, no trailing slash
	SMTPURL         string          // --smtp-url, ENVOI_SMTP_URL: "" = local outbox
	SMTP            SMTP            // parsed from SMTPURL; zero when SMTPURL is ""
	SendRetryDelays []time.Duration // ENVOI_SEND_RETRY_DELAYS: waits before the 2nd and 3rd attempts
	LogLevel        slog.Level      // --log-level, ENVOI_LOG_LEVEL
	LogFormat       string          // --log-format, ENVOI_LOG_FORMAT: "text" or "json"
	Demo            bool            // --demo (serve only)
	MaxBodyBytes    int64           // ENVOI_MAX_BODY: largest request body accepted

	// Raw settings parsed by Validate.
	logLevel    string
	retryDelays string
	maxBody     string
}

// SMTP is the relay envoi sends through, parsed from Config.SMTPURL.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // "none", "starttls" or "tls"
}

// Addr is the relay's host:port.
func (s SMTP) Addr() string {
	if s.Host == "" {
		return ""
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// String describes the relay with its password hidden.
func (s SMTP) String() string {
	if s.Host == "" {
		return "local outbox"
	}
	u := url.URL{Scheme: "smtp", Host: s.Addr(), RawQuery: "tls=" + s.TLS}
	switch {
	case s.Password != "":
		u.User = url.UserPassword(s.Username, redacted)
	case s.Username != "":
		u.User = url.User(s.Username)
	}
	return u.String()
}

// GoString hides the password from %#v too.
func (s SMTP) GoString() string { return "config.SMTP(" + s.String() + ")" }

// LogValue implements slog.LogValuer with the password hidden.
func (s SMTP) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SettingError is a bad value for one setting.
type SettingError struct {
	Setting string // e.g. "ENVOI_ADDR / --addr"
	Problem string
}

func (e *SettingError) Error() string { return e.Setting + ": " + e.Problem }

// Bind registers the settings every subcommand shares on fs, with defaults
// taken from the environment through getenv (nil means an empty
// environment), so that a flag given on the command line wins over an
// ENVOI_* variable, which wins over the built-in default. Call Validate
// after fs.Parse. --demo is not registered here (see Load).
func Bind(fs *flag.FlagSet, getenv func(string) string) *Config {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &Config{}
	fs.StringVar(&c.DataDir, "data", env("ENVOI_DATA", DefaultDataDir),
		"directory holding the SQLite database and local files (env ENVOI_DATA)")
	c.DatabaseURL = env("ENVOI_DATABASE_URL", "")
	fs.Var(secretURL{&c.DatabaseURL}, "db",
		"database `URL`: postgres://user:pass@host:5432/db or sqlite:PATH; empty means SQLite in the data directory (env ENVOI_DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", env("ENVOI_ADDR", DefaultAddr),
		"host:port to listen on (env ENVOI_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", env("ENVOI_BASE_URL", ""),
		"public URL of this installation, used in links and emails; default http://ADDR (env ENVOI_BASE_URL)")
	c.SMTPURL = env("ENVOI_SMTP_URL", "")
	fs.Var(secretURL{&c.SMTPURL}, "smtp-url",
		"SMTP relay `URL`: "+smtpURLExample+" (tls=none|starttls|tls); empty means the local outbox (env ENVOI_SMTP_URL)")
	fs.StringVar(&c.logLevel, "log-level", env("ENVOI_LOG_LEVEL", defaultLogLevelSetting),
		"log level: debug, info, warn or error (env ENVOI_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("ENVOI_LOG_FORMAT", DefaultLogFormat),
		"log format: text or json (env ENVOI_LOG_FORMAT)")
	c.retryDelays = env("ENVOI_SEND_RETRY_DELAYS", DefaultSendRetryDelays)
	c.maxBody = env("ENVOI_MAX_BODY", defaultMaxBodySetting)
	return c
}

// Load builds the configuration of `envoi serve`: the shared settings of
// Bind plus --demo, parsed from args (without the program and subcommand
// names) and validated. It returns the arguments left after the flags.
func Load(args []string, getenv func(string) string) (Config, []string, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := Bind(fs, getenv)
	fs.BoolVar(&c.Demo, "demo", false, "create a demo account filled with realistic data and print its login")
	if err := fs.Parse(args); err != nil {
		return Config{}, nil, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, nil, err
	}
	return *c, fs.Args(), nil
}

// Default is the configuration given no flag and no environment: SQLite in
// ./data, the local outbox, listening on 127.0.0.1:8080. Tests start from it.
func Default() Config {
	c, _, err := Load(nil, nil)
	if err != nil {
		panic("config: built-in defaults are invalid: " + err.Error())
	}
	return c
}

// Validate checks every setting and fills the derived fields (SMTP,
// SendRetryDelays, LogLevel, MaxBodyBytes, the default BaseURL). It reports
// all bad settings at once, joined, each as a *SettingError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)})
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad(settingData, "must not be empty")
	}

	if err := checkDatabaseURL(c.DatabaseURL); err != "" {
		bad(settingDB, "%s", err)
	}

	addrOK := true
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		addrOK = false
		bad(settingAddr, "%q is not host:port", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		addrOK = false
		bad(settingAddr, "port %q is not a number from 0 to 65535", port)
	}

	switch {
	case c.BaseURL == "" && addrOK:
		c.BaseURL = "http://" + net.JoinHostPort(publicHost(host), port)
		if base, ok := normalizeBaseURL(c.BaseURL); ok {
			c.BaseURL = base
		} else {
			bad(settingAddr, "host %q cannot be used in a URL; set ENVOI_BASE_URL / --base-url", host)
		}
	case c.BaseURL != "":
		if base, ok := normalizeBaseURL(c.BaseURL); ok {
			c.BaseURL = base
		} else {
			bad(settingBaseURL, "must be an absolute http(s) URL such as https://mail.example.com, got %q", redactURL(c.BaseURL))
		}
	}

	c.SMTP = SMTP{}
	if c.SMTPURL != "" {
		s, problem := parseSMTP(c.SMTPURL)
		if problem != "" {
			bad(settingSMTP, "%s", problem)
		} else {
			c.SMTP = s
		}
	}

	// The raw settings from Bind are consumed here: once parsed, the
	// exported fields are the truth, so a caller may change them and
	// validate again.
	if c.retryDelays != "" {
		if delays, problem := parseDelays(c.retryDelays); problem != "" {
			bad(settingRetryDelays, "%s", problem)
		} else {
			c.SendRetryDelays, c.retryDelays = delays, ""
		}
	} else if c.SendRetryDelays == nil {
		c.SendRetryDelays, _ = parseDelays(DefaultSendRetryDelays)
	} else if problem := checkDelays(c.SendRetryDelays); problem != "" {
		bad(settingRetryDelays, "%s", problem)
	}

	if c.logLevel != "" {
		switch strings.ToLower(strings.TrimSpace(c.logLevel)) {
		case "debug":
			c.LogLevel, c.logLevel = slog.LevelDebug, ""
		case "info":
			c.LogLevel, c.logLevel = slog.LevelInfo, ""
		case "warn", "warning":
			c.LogLevel, c.logLevel = slog.LevelWarn, ""
		case "error":
			c.LogLevel, c.logLevel = slog.LevelError, ""
		default:
			bad(settingLogLevel, "must be debug, info, warn or error, got %q", c.logLevel)
		}
	}

	switch f := strings.ToLower(strings.TrimSpace(c.LogFormat)); f {
	case "text", "json":
		c.LogFormat = f
	case "":
		c.LogFormat = DefaultLogFormat
	default:
		bad(settingLogFormat, "must be text or json, got %q", c.LogFormat)
	}

	if c.maxBody != "" {
		if n, ok := parseSize(c.maxBody); ok {
			c.MaxBodyBytes, c.maxBody = n, ""
		} else {
			bad(settingMaxBody, "%q is not a positive size in bytes (e.g. 1048576, 512KiB or 1MiB)", c.maxBody)
		}
	} else if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}

	return errors.Join(errs...)
}

// SecureCookies says whether cookies must carry the Secure attribute: the
// installation is served over https.
func (c Config) SecureCookies() bool {
	return strings.HasPrefix(strings.ToLower(c.BaseURL), "https://")
}

// LogValue implements slog.LogValuer: every setting, secrets hidden.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(c.attrs()...)
}

// String lists every setting as key=value, secrets hidden.
func (c Config) String() string {
	var b strings.Builder
	for i, a := range c.attrs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Key)
		b.WriteByte('=')
		v := a.Value.String()
		if v == "" || strings.ContainsAny(v, " \"=\t\n") {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// GoString hides secrets from %#v too.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

func (c Config) attrs() []slog.Attr {
	db := "sqlite in " + c.DataDir
	if c.DatabaseURL != "" {
		db = redactURL(c.DatabaseURL)
	}
	smtp := "local outbox"
	switch {
	case c.SMTP.Host != "":
		smtp = c.SMTP.String()
	case c.SMTPURL != "":
		smtp = redactURL(c.SMTPURL)
	}
	delays := make([]string, len(c.SendRetryDelays))
	for i, d := range c.SendRetryDelays {
		delays[i] = d.String()
	}
	return []slog.Attr{
		slog.String("data", c.DataDir),
		slog.String("db", db),
		slog.String("addr", c.Addr),
		slog.String("base_url", c.BaseURL),
		slog.String("smtp", smtp),
		slog.String("send_retry_delays", strings.Join(delays, ",")),
		slog.String("log_level", strings.ToLower(c.LogLevel.String())),
		slog.String("log_format", c.LogFormat),
		slog.Bool("demo", c.Demo),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
	}
}

// secretURL is a flag.Value for a URL that may carry a password: -help shows
// its default (taken from the environment) redacted.
type secretURL struct{ p *string }

func (s secretURL) Set(v string) error { *s.p = v; return nil }

func (s secretURL) String() string {
	if s.p == nil {
		return ""
	}
	return redactURL(*s.p)
}

// redactURL hides the password of a URL, in its user info or in a password
// query parameter. A URL that does not parse is hidden whole, since where
// its password lies cannot be known.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL, hidden)"
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = "(hidden)"
			changed = true
		} else {
			hide := false
			for k := range q {
				if strings.EqualFold(k, "password") || strings.EqualFold(k, "pass") {
					q[k] = []string{redacted}
					hide = true
				}
			}
			if hide {
				u.RawQuery = q.Encode()
				changed = true
			}
		}
	}
	if !changed {
		return raw // as given, when there is nothing to hide
	}
	return u.String()
}

// checkDatabaseURL returns a problem, or "".
func checkDatabaseURL(raw string) string {
	switch {
	case raw == "":
		return ""
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "not a valid PostgreSQL URL (percent-encode special characters in the password)"
		}
		return ""
	case strings.HasPrefix(raw, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//") == "" {
			return "sqlite: needs a file path, as in sqlite:/var/lib/envoi/envoi.db"
		}
		return ""
	default:
		return fmt.Sprintf("must start with %s, got %q", databaseURLPrefixesHelp, redactURL(raw))
	}
}

// publicHost is the host to put in the default base URL for a listen host.
func publicHost(host string) string {
	if host == "" {
		return "localhost"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "localhost"
	}
	return host
}

func normalizeBaseURL(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	if p := u.Port(); p != "" {
		// Port 0 is let through: it is what the default gives for
		// --addr host:0 (a port picked at listen time).
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return "", false
		}
	}
	if h := u.Hostname(); strings.Contains(h, ":") && net.ParseIP(h) == nil {
		return "", false
	}
	u.Host = strings.ToLower(u.Host)
	return strings.TrimRight(u.String(), "/"), true
}

// parseSMTP parses smtp://user:pass@host:port?tls=none|starttls|tls.
func parseSMTP(raw string) (SMTP, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, "not a valid URL, expected " + smtpURLExample + " (percent-encode special characters in the password)"
	}
	if u.Scheme != "smtp" {
		return SMTP{}, fmt.Sprintf("must start with smtp://, as in %s, got %q", smtpURLExample, redactURL(raw))
	}
	if h := u.Hostname(); u.Opaque != "" || h == "" || (strings.Contains(h, ":") && net.ParseIP(h) == nil) {
		return SMTP{}, "needs a host, as in " + smtpURLExample
	}
	if u.Path != "" && u.Path != "/" {
		return SMTP{}, fmt.Sprintf("must not have a path, got %q", u.Path)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return SMTP{}, "has a malformed query string"
	}
	for k := range q {
		if k != "tls" {
			return SMTP{}, fmt.Sprintf("unknown parameter %q (only tls is allowed)", k)
		}
	}
	s := SMTP{Host: u.Hostname(), TLS: q.Get("tls")}
	switch s.TLS {
	case "":
		s.TLS = defaultSMTPTLS
	case "none", "starttls", "tls":
	default:
		return SMTP{}, fmt.Sprintf("tls must be none, starttls or tls, got %q", s.TLS)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Sprintf("port %q is not a number from 1 to 65535", p)
		}
		s.Port = n
	} else {
		s.Port = map[string]int{"none": 25, "starttls": 587, "tls": 465}[s.TLS]
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" && s.Password != "" {
			return SMTP{}, "has a password but no user name"
		}
	}
	return s, ""
}

func parseDelays(raw string) ([]time.Duration, string) {
	var out []time.Duration
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Sprintf("%q is not a duration (use e.g. 5m,30m)", part)
		}
		if d <= 0 {
			return nil, fmt.Sprintf("%q must be positive", part)
		}
		out = append(out, d)
	}
	return out, checkDelays(out)
}

func checkDelays(delays []time.Duration) string {
	for _, d := range delays {
		if d <= 0 {
			return fmt.Sprintf("%q must be positive", d.String())
		}
	}
	if len(delays) > MaxSendRetries {
		return fmt.Sprintf("at most %d delays (%d sending attempts), got %d", MaxSendRetries, MaxSendRetries+1, len(delays))
	}
	return ""
}

// parseSize reads a byte count, optionally with a KiB, MiB or GiB suffix.
func parseSize(raw string) (int64, bool) {
	s := strings.TrimSpace(raw)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

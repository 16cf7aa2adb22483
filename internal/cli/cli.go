// Package cli implements envoi's subcommands (SPEC §1.2): flags and ENVOI_*
// variables become a config.Config, the app is built from it, and errors
// become messages and exit codes. Nothing here holds product logic.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"envoi/internal/account"
	"envoi/internal/app"
	"envoi/internal/config"
	"envoi/internal/user"
)

// version is set at build time with -ldflags "-X envoi/internal/cli.version=…".
var version = "dev"

const usage = `envoi — email and SMS marketing for teams

Usage:
  envoi serve [--demo] [settings]     run the web UI, API, workers and scheduler
  envoi worker [settings]             run only the background workers
  envoi migrate [settings]            bring the database schema up to date
  envoi account create --name NAME --admin-email EMAIL [--admin-password PW] [--max-users N] [--json]
  envoi account plan --account ID --max-users N|unlimited   (operators: plan limits)
  envoi apikey create --account ID --user EMAIL [--name NAME]
  envoi history verify --account ID    check that the account's history was not altered
  envoi version

Settings (flags, or ENVOI_* environment variables):
  --data DIR        ENVOI_DATA          SQLite database and local files (default ./data)
  --db URL          ENVOI_DATABASE_URL  postgres://… to use PostgreSQL
  --addr HOST:PORT  ENVOI_ADDR          listen address (default 127.0.0.1:8080)
  --base-url URL    ENVOI_BASE_URL      public URL used in links
  --smtp-url URL    ENVOI_SMTP_URL      smtp://user:pass@host:port?tls=none|starttls|tls
Run "envoi COMMAND -h" for a command's flags.
`

// exitUsage is the exit code for bad command lines.
const exitUsage = 2

// Run executes one command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, rest, stdout, stderr, getenv)
	case "worker":
		err = worker(ctx, rest, stderr, getenv)
	case "migrate":
		err = migrate(ctx, rest, stdout, stderr, getenv)
	case "account":
		err = sub(rest, "account", map[string]func([]string) error{
			"create": func(a []string) error { return accountCreate(ctx, a, stdout, stderr, getenv) },
			"plan":   func(a []string) error { return accountPlan(ctx, a, stdout, stderr, getenv) },
		})
	case "history":
		err = historyCommand(ctx, rest, stdout, stderr, getenv)
	case "apikey":
		err = sub(rest, "apikey", map[string]func([]string) error{
			"create": func(a []string) error { return apikeyCreate(ctx, a, stdout, stderr, getenv) },
		})
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "envoi", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "envoi: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "envoi:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "envoi:", err)
		return 1
	}
}

// usageError is a bad command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func sub(args []string, name string, cmds map[string]func([]string) error) error {
	if len(args) == 0 {
		return usageError{fmt.Sprintf("%s needs a subcommand: %s", name, strings.Join(keys(cmds), ", "))}
	}
	fn, ok := cmds[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q %q (try: %s)", name, args[0], strings.Join(keys(cmds), ", "))}
	}
	return fn(args[1:])
}

func keys(m map[string]func([]string) error) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// parse binds the shared settings plus a command's own flags, parses and
// validates.
func parse(name string, args []string, stderr io.Writer, getenv func(string) string, own func(fs *flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet("envoi "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config.Bind(fs, getenv)
	if own != nil {
		own(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, err
		}
		return config.Config{}, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return config.Config{}, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if err := cfg.Validate(); err != nil {
		return config.Config{}, usageError{err.Error()}
	}
	return *cfg, nil
}

// withApp builds the app from cfg (opening and migrating the database),
// runs fn with it and closes it: the prelude of every command that needs
// the database.
func withApp(ctx context.Context, cfg config.Config, stderr io.Writer, fn func(a *app.App) error) error {
	a, err := app.New(ctx, cfg, logger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

func logger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var demo bool
	cfg, err := parse("serve", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&demo, "demo", false, "create a demo account filled with realistic data and print its login")
	})
	if err != nil {
		return err
	}
	cfg.Demo = demo
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		// The demo account is made before serving, so no setup link is offered.
		var demoEmail, demoPassword string
		if demo {
			var err error
			if demoEmail, demoPassword, err = a.Demo(ctx); err != nil {
				return fmt.Errorf("demo account: %w", err)
			}
		}
		return a.Serve(ctx, func(baseURL, setupURL string) {
			fmt.Fprintf(stdout, "envoi is running at %s\n", baseURL)
			if setupURL != "" {
				fmt.Fprintf(stdout, "\nFirst run: open this link to create your account (it works once):\n  %s\n\n", setupURL)
			}
			if demo {
				fmt.Fprintf(stdout, "Demo account ready. Log in at %s/login as %s with password %s\n", baseURL, demoEmail, demoPassword)
			}
		})
	})
}

func worker(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parse("worker", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error { return a.Work(ctx) })
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parse("migrate", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		current, _, err := a.DB.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database schema at version %d\n", current)
		return nil
	})
}

func accountCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var name, email, password, lang, maxUsers string
	var asJSON bool
	cfg, err := parse("account create", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "account name (required)")
		fs.StringVar(&email, "admin-email", "", "administrator's email (required)")
		fs.StringVar(&password, "admin-password", "", "administrator's password; generated and printed when omitted")
		fs.StringVar(&lang, "language", "en", "account language: fr or en")
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
		fs.StringVar(&maxUsers, "max-users", "unlimited", "plan limit: the most users the account may have")
	})
	if err != nil {
		return err
	}
	if name == "" || email == "" {
		return usageError{"account create needs --name and --admin-email"}
	}
	limit, err := parseMaxUsers(maxUsers)
	if err != nil {
		return err
	}
	generated := ""
	if password == "" {
		generated = app.GeneratePassword()
		password = generated
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		acc, admin, err := a.Accounts.Create(ctx, account.New{Name: name, Language: lang, Admin: user.New{Email: email, Password: password}})
		if err != nil {
			return err
		}
		if err := a.Accounts.SetMaxUsers(ctx, acc.ID, limit); err != nil {
			return err
		}
		if asJSON {
			out := map[string]any{"account_id": acc.ID, "admin_id": admin.ID, "admin_email": admin.Email}
			if generated != "" {
				out["admin_password"] = generated
			}
			return json.NewEncoder(stdout).Encode(out)
		}
		fmt.Fprintf(stdout, "account %d %q created; administrator %d <%s>\n", acc.ID, acc.Name, admin.ID, admin.Email)
		if generated != "" {
			fmt.Fprintf(stdout, "administrator password (shown once): %s\n", generated)
		}
		return nil
	})
}

func apikeyCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var accountID, email, name string
	cfg, err := parse("apikey create", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&accountID, "account", "", "account id (required)")
		fs.StringVar(&email, "user", "", "email of the member the key acts as (required)")
		fs.StringVar(&name, "name", "", "a name to recognise the key")
	})
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(accountID, 10, 64)
	if perr != nil || id <= 0 || email == "" {
		return usageError{"apikey create needs --account ID (a number) and --user EMAIL"}
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		key, _, err := a.Auth.CreateKey(ctx, account.ID(id), email, name, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "API key created; it is shown once, store it now:")
		fmt.Fprintln(stdout, key)
		return nil
	})
}

// parseMaxUsers reads a plan's user limit: a positive number or "unlimited".
func parseMaxUsers(raw string) (*int64, error) {
	if raw == "" || raw == "unlimited" {
		return nil, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		return nil, usageError{fmt.Sprintf("--max-users must be a number of users (at least 1) or \"unlimited\", got %q", raw)}
	}
	return &n, nil
}

// accountPlan sets an account's plan limits (platform operators, SPEC §1.3).
func accountPlan(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var accountID, maxUsers string
	cfg, err := parse("account plan", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&accountID, "account", "", "account id (required)")
		fs.StringVar(&maxUsers, "max-users", "", "the most users the account may have, or \"unlimited\" (required)")
	})
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(accountID, 10, 64)
	if perr != nil || id <= 0 || maxUsers == "" {
		return usageError{"account plan needs --account ID (a number) and --max-users N|unlimited"}
	}
	limit, err := parseMaxUsers(maxUsers)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		if err := a.Accounts.SetMaxUsers(ctx, account.ID(id), limit); err != nil {
			return err
		}
		if limit == nil {
			fmt.Fprintf(stdout, "account %d: unlimited users\n", id)
		} else {
			fmt.Fprintf(stdout, "account %d: at most %d users\n", id, *limit)
		}
		return nil
	})
}

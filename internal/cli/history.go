package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"envoi/internal/account"
	"envoi/internal/app"
	"envoi/internal/history"
)

// historyCommand runs `envoi history SUBCOMMAND`.
func historyCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return sub(args, "history", map[string]func([]string) error{
		"verify": func(a []string) error { return historyVerify(ctx, a, stdout, stderr, getenv) },
	})
}

// historyVerify recomputes an account's hash chain (SPEC §3.1): exit 0 when
// it is intact, 1 naming the first altered, removed or inserted entry.
func historyVerify(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var accountID string
	cfg, err := parse("history verify", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&accountID, "account", "", "account id (required)")
	})
	if err != nil {
		return err
	}
	id, perr := strconv.ParseInt(accountID, 10, 64)
	if perr != nil || id <= 0 {
		return usageError{"history verify needs --account ID (a number)"}
	}
	return withApp(ctx, cfg, stderr, func(a *app.App) error {
		if _, err := account.Get(ctx, a.DB.Read(), account.ID(id)); err != nil {
			return fmt.Errorf("account %d: %w", id, err)
		}
		n, err := history.Verify(ctx, a.DB.Read(), id)
		if err != nil {
			return fmt.Errorf("history of account %d is NOT intact (%d entries check out before the fault): %w", id, n, err)
		}
		fmt.Fprintf(stdout, "history of account %d: %d entries, chain intact\n", id, n)
		return nil
	})
}

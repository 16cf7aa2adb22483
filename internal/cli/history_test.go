package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"envoi/internal/cli"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// run calls the CLI as the binary would and returns its exit code and
// outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
	return code, stdout.String(), stderr.String()
}

// eachStore runs fn with the settings flags of a fresh SQLite data directory
// and of a fresh PostgreSQL database, and the options to open it.
func eachStore(t *testing.T, fn func(t *testing.T, settings []string, opt database.Options)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, []string{"--data", dir}, database.Options{DataDir: dir})
	})
	t.Run("postgres", func(t *testing.T) {
		url := dbtest.PostgresURL(t)
		fn(t, []string{"--data", t.TempDir(), "--db", url}, database.Options{URL: url})
	})
}

func TestHistoryVerify(t *testing.T) {
	eachStore(t, func(t *testing.T, settings []string, opt database.Options) {
		ctx := context.Background()
		code, out, errOut := run(t, append([]string{"account", "create", "--name", "Acme", "--admin-email", "boss@example.com", "--json"}, settings...)...)
		if code != 0 {
			t.Fatalf("account create: %d %s", code, errOut)
		}
		var created struct {
			AccountID int64 `json:"account_id"`
			AdminID   int64 `json:"admin_id"`
		}
		if err := json.Unmarshal([]byte(out), &created); err != nil {
			t.Fatal(err)
		}
		verify := append([]string{"history", "verify", "--account", fmt.Sprint(created.AccountID)}, settings...)

		// An account without entries yet has an intact, empty chain.
		if code, out, errOut := run(t, verify...); code != 0 || out != fmt.Sprintf("history of account %d: 0 entries, chain intact\n", created.AccountID) {
			t.Fatalf("empty history: %d %q %q", code, out, errOut)
		}

		db, err := database.Open(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		by := rights.Actor{AccountID: created.AccountID, UserID: created.AdminID, Name: "Boss", IP: "192.0.2.1"}
		var ids []int64
		for i := range 3 {
			err := db.InTx(ctx, func(q database.Querier) error {
				return history.Record(ctx, q, by, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: int64(i + 1), Label: "Jean"},
					[]history.Change{{Field: "city", Before: "Lyon", After: "Paris"}}, time.Now())
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		entries, _, err := history.List(ctx, db.Read(), created.AccountID, history.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		if code, out, errOut := run(t, verify...); code != 0 || out != fmt.Sprintf("history of account %d: 3 entries, chain intact\n", created.AccountID) {
			t.Fatalf("intact history: %d %q %q", code, out, errOut)
		}

		// Someone with database access rewrites what the middle entry says.
		middle := ids[1]
		if _, err := db.Write().Exec(ctx, `UPDATE history SET object_label = 'Someone else' WHERE account_id = $1 AND id = $2`,
			created.AccountID, middle); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = run(t, verify...)
		if code != 1 || out != "" || !strings.Contains(errOut, fmt.Sprintf("history entry %d was altered", middle)) ||
			!strings.Contains(errOut, "NOT intact") {
			t.Fatalf("tampered history: exit %d, stdout %q, stderr %q; want exit 1 naming entry %d", code, out, errOut, middle)
		}
	})
}

func TestHistoryVerifyBadCommandLines(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"history"}, 2, "history needs a subcommand: verify"},
		{[]string{"history", "check"}, 2, `unknown command "history" "check"`},
		{[]string{"history", "verify", "--data", dir}, 2, "needs --account ID"},
		{[]string{"history", "verify", "--account", "abc", "--data", dir}, 2, "needs --account ID"},
		{[]string{"history", "verify", "--account", "424242", "--data", dir}, 1, "account 424242: account not found"},
	} {
		code, _, errOut := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

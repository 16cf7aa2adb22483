// Package instance keeps installation-wide values: the secret key used for
// keyed hashes and signatures (API keys, tracking tokens) and the one-time
// first-run setup token (SPEC §1.2). They live in the `instance` table so
// every node of an installation shares them.
package instance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"envoi/internal/database"
	"envoi/internal/fault"
)

const (
	keySecret     = "secret"
	keySetupToken = "setup_token_sha256"
)

// Secret returns the installation's 32-byte secret, creating it on first
// use. Concurrent first calls agree on one value.
func Secret(ctx context.Context, db *database.DB) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	var stored string
	err := db.InTx(ctx, func(q database.Querier) error {
		if _, err := q.Exec(ctx, `INSERT INTO instance (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
			keySecret, base64.StdEncoding.EncodeToString(fresh)); err != nil {
			return err
		}
		return q.QueryRow(ctx, `SELECT value FROM instance WHERE key = $1`, keySecret).Scan(&stored)
	})
	if err != nil {
		return nil, fmt.Errorf("installation secret: %w", err)
	}
	return base64.StdEncoding.DecodeString(stored)
}

// RandomToken returns a URL-safe random token of n bytes of entropy.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the SHA-256 of a high-entropy token, hex encoded: tokens are
// stored only as hashes.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NeedsSetup reports whether the installation has no account yet.
func NeedsSetup(ctx context.Context, q database.Querier) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM accounts LIMIT 1) x`).Scan(&n); err != nil {
		return false, err
	}
	return n == 0, nil
}

// IssueSetupToken makes a new single-use setup token (replacing any earlier
// one) when the installation has no account yet; it returns "" otherwise.
func IssueSetupToken(ctx context.Context, db *database.DB) (string, error) {
	token := RandomToken(24)
	issued := false
	err := db.InTx(ctx, func(q database.Querier) error {
		need, err := NeedsSetup(ctx, q)
		if err != nil || !need {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM instance WHERE key = $1`, keySetupToken); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO instance (key, value) VALUES ($1, $2)`, keySetupToken, HashToken(token))
		issued = err == nil
		return err
	})
	if err != nil || !issued {
		return "", err
	}
	return token, nil
}

// CheckSetupToken verifies a setup token without consuming it. Once any
// account exists (made by the CLI, say) the link is dead.
func CheckSetupToken(ctx context.Context, q database.Querier, token string) error {
	if need, err := NeedsSetup(ctx, q); err != nil {
		return err
	} else if !need {
		return fault.New(fault.NotFound, "this setup link is not valid (it may have been used already)").WithKey("setup.invalid_link")
	}
	var want string
	err := q.QueryRow(ctx, `SELECT value FROM instance WHERE key = $1`, keySetupToken).Scan(&want)
	if errors.Is(err, sql.ErrNoRows) || token == "" {
		return fault.New(fault.NotFound, "this setup link is not valid (it may have been used already)").WithKey("setup.invalid_link")
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(want)) != 1 {
		return fault.New(fault.NotFound, "this setup link is not valid (it may have been used already)").WithKey("setup.invalid_link")
	}
	return nil
}

// ConsumeSetupToken verifies and deletes the setup token within q's
// transaction, so it works once.
func ConsumeSetupToken(ctx context.Context, q database.Querier, token string) error {
	if err := CheckSetupToken(ctx, q, token); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM instance WHERE key = $1`, keySetupToken)
	return err
}

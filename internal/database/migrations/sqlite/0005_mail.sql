-- +goose Up
-- The local outbox (SPEC §1.1): with no SMTP relay configured, every email
-- is kept here instead of being sent, and shown under "Outbox". account_id 0
-- holds installation-level mail (password resets).
CREATE TABLE outbox (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    kind       TEXT NOT NULL DEFAULT '',
    from_addr  TEXT NOT NULL DEFAULT '',
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    text_body  TEXT NOT NULL DEFAULT '',
    html_body  TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- Password reset links (SPEC §2.6): single use, valid one hour. id is the
-- SHA-256 of the emailed token, never the token.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE outbox;

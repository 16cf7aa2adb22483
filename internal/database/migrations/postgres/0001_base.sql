-- +goose Up
-- IDs: one sequence (see database.NewIDs).
CREATE SEQUENCE envoi_ids START WITH 1000;

-- Installation-wide values: the keyed-hash secret, the first-run setup token.
CREATE TABLE instance (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- People. One login (email + password) whatever the number of accounts.
CREATE TABLE users (
    id            BIGINT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL DEFAULT '',
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    language      TEXT NOT NULL DEFAULT 'en',
    operator      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE accounts (
    id         BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    language   TEXT NOT NULL DEFAULT 'en',
    timezone   TEXT NOT NULL DEFAULT 'Europe/Paris',
    max_users  BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);

-- Membership of a person in an account, with their rights there.
CREATE TABLE members (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    user_id    BIGINT NOT NULL REFERENCES users (id),
    owner      BOOLEAN NOT NULL DEFAULT FALSE,
    status     TEXT NOT NULL CHECK (status IN ('invited', 'active', 'suspended')),
    rights     TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

-- Browser sessions. id is the SHA-256 of the cookie token, never the token.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    account_id   BIGINT REFERENCES accounts (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    revoked_at   BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API keys: hash is an HMAC of the key under the installation secret.
CREATE TABLE api_keys (
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    id           BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    rights       TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX api_keys_user ON api_keys (account_id, user_id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE members;
DROP TABLE accounts;
DROP TABLE users;
DROP TABLE instance;
DROP SEQUENCE envoi_ids;

-- +goose Up
-- The history of actions (SPEC §3.1): append-only, hash-chained per account.
-- No code path updates or deletes these rows.
CREATE TABLE history (
    account_id   BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    user_id      BIGINT,
    key_id       BIGINT,
    actor_name   TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    object_type  TEXT NOT NULL DEFAULT '',
    object_id    BIGINT,
    object_label TEXT NOT NULL DEFAULT '',
    changes      TEXT NOT NULL DEFAULT '[]',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX history_user ON history (account_id, user_id, id);
CREATE INDEX history_object ON history (account_id, object_type, object_id, id);
CREATE INDEX history_category ON history (account_id, category, id);

-- The head of each account's chain: updating it serialises writers per
-- account, so two concurrent records cannot fork the chain.
CREATE TABLE history_heads (
    account_id BIGINT PRIMARY KEY,
    last_id    BIGINT NOT NULL,
    last_hash  TEXT NOT NULL
);

-- +goose Down
DROP TABLE history_heads;
DROP TABLE history;

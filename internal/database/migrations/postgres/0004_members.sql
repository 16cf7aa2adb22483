-- +goose Up
-- Who last changed a membership, for "modified by X at T" (SPEC §3.2).
ALTER TABLE members ADD COLUMN updated_by BIGINT;
-- Sending caps per member (SPEC §2.4); NULL is no cap.
ALTER TABLE members ADD COLUMN email_monthly BIGINT;
ALTER TABLE members ADD COLUMN email_yearly BIGINT;
ALTER TABLE members ADD COLUMN sms_monthly BIGINT;
ALTER TABLE members ADD COLUMN sms_yearly BIGINT;

-- Invitations: single-use links valid 7 days; only the token's hash is kept.
CREATE TABLE invitations (
    account_id   BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    user_id      BIGINT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    cancelled_at BIGINT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX invitations_user ON invitations (account_id, user_id);

-- The ledger of sends counted against caps: reservations are rows, never a
-- bare counter, so usage per month and year is a sum.
CREATE TABLE send_usage (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    amount     BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    reference  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, id)
);
CREATE INDEX send_usage_user ON send_usage (account_id, user_id, channel, at);

-- +goose Down
DROP TABLE send_usage;
DROP TABLE invitations;
ALTER TABLE members DROP COLUMN sms_yearly;
ALTER TABLE members DROP COLUMN sms_monthly;
ALTER TABLE members DROP COLUMN email_yearly;
ALTER TABLE members DROP COLUMN email_monthly;
ALTER TABLE members DROP COLUMN updated_by;

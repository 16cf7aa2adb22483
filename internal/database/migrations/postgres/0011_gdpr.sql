-- +goose Up
-- GDPR erasure leaves only a hash of the erased person's email and phone,
-- so they are not re-created or re-imported by mistake (SPEC §4.6).
CREATE TABLE suppressions (
    account_id BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    created_at BIGINT NOT NULL,
    created_by BIGINT,
    PRIMARY KEY (account_id, hash)
);

-- +goose Down
DROP TABLE suppressions;

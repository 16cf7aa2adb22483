-- +goose Up
-- Contact imports (SPEC §4.4): the uploaded file is kept in the database
-- (so any node's worker can read it, and a restart loses nothing) until the
-- import is done; counters and the checkpoint move with each committed batch.
CREATE TABLE imports (
    account_id      BIGINT NOT NULL,
    id              BIGINT NOT NULL,
    job_id          BIGINT,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'queued', 'running', 'done', 'failed')),
    file_name       TEXT NOT NULL,
    size            BIGINT NOT NULL,
    format          TEXT NOT NULL,
    encoding        TEXT NOT NULL,
    separator       TEXT NOT NULL,
    header          TEXT NOT NULL,
    mapping         TEXT NOT NULL DEFAULT '{}',
    mode            TEXT NOT NULL DEFAULT 'upsert',
    list_id         BIGINT,
    rows_read       BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    rejected        BIGINT NOT NULL DEFAULT 0,
    matched         BIGINT NOT NULL DEFAULT 0,
    error_count     BIGINT NOT NULL DEFAULT 0,
    checkpoint_line BIGINT NOT NULL DEFAULT 0,
    bytes_done      BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_by      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE import_chunks (
    account_id BIGINT NOT NULL,
    import_id  BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (account_id, import_id, seq)
);

-- The per-line report (the first 10,000 problems; error_count counts all).
CREATE TABLE import_errors (
    account_id BIGINT NOT NULL,
    import_id  BIGINT NOT NULL,
    line       BIGINT NOT NULL,
    col        TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL,
    PRIMARY KEY (account_id, import_id, line)
);

-- +goose Down
DROP TABLE import_errors;
DROP TABLE import_chunks;
DROP TABLE imports;

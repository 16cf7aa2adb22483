-- +goose Up
-- Contact exports (SPEC §4.4): the file is written by a job into the
-- database in chunks (one per page of contacts, committed with the
-- checkpoint, so a retried job resumes where the last one stopped), served
-- from there by any node, and deleted seven days after it was finished.
-- list_id NULL exports the whole base; list_name is the list's name when
-- the export started (file name and history label).
CREATE TABLE exports (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    job_id      BIGINT,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    list_id     BIGINT,
    list_name   TEXT NOT NULL DEFAULT '',
    format      TEXT NOT NULL CHECK (format IN ('csv', 'excel', 'hashed')),
    fields      TEXT NOT NULL,
    rows_total  BIGINT NOT NULL DEFAULT 0,
    rows_done   BIGINT NOT NULL DEFAULT 0,
    after_id    BIGINT NOT NULL DEFAULT 0,
    chunks      BIGINT NOT NULL DEFAULT 0,
    size        BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_by  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    expires_at  BIGINT,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE export_chunks (
    account_id BIGINT NOT NULL,
    export_id  BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (account_id, export_id, seq)
);

-- +goose Down
DROP TABLE export_chunks;
DROP TABLE exports;

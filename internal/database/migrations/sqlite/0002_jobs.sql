-- +goose Up
-- Durable jobs (see internal/job). Times are unix milliseconds.
-- run_at is when the job may next be claimed: its due time while queued,
-- its lease expiry while running (kept equal to lease_until), so one index
-- finds both due jobs and jobs whose worker died.
-- account_id 0 is a system job (periodic work of the installation).
CREATE TABLE jobs (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL DEFAULT 0,
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL DEFAULT '{}',
    state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts       BIGINT NOT NULL DEFAULT 0,
    max_attempts   BIGINT NOT NULL,
    run_at         BIGINT NOT NULL,
    lease_owner    TEXT,
    lease_until    BIGINT,
    progress_done  BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    dedupe_key     TEXT,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    CONSTRAINT jobs_dedupe UNIQUE (account_id, dedupe_key)
);
-- Claiming: the due end of the unfinished jobs, in order.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state IN ('queued', 'running');
-- Expired last attempts, failed without a walk through a backlog of due jobs.
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_account ON jobs (account_id, id);

-- Leader leases for the periodic-job scheduler. Used on SQLite, where several
-- processes may share one file; PostgreSQL uses an advisory lock instead and
-- keeps the table only so both schemas match.
CREATE TABLE job_leaders (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);

-- +goose Down
DROP TABLE job_leaders;
DROP TABLE jobs;

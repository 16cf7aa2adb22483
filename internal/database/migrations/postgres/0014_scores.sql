-- +goose Up
-- Lead scoring (SPEC §5, issue 6). Values, coefficients and results are
-- fixed point in ten-thousandths (1.25 is 12500), as custom numbers and
-- amounts are. See package score's doc for the calculation.

-- How often scores are recalculated automatically after the last manual
-- run (SPEC §5.6): 1 hour to 30 days.
ALTER TABLE accounts ADD COLUMN score_interval_hours BIGINT NOT NULL DEFAULT 24 CHECK (score_interval_hours BETWEEN 1 AND 720);

CREATE TABLE scores (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  BIGINT,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, name)
);

-- A condition keeps its id when its score is edited (SPEC §5.3). For
-- per_event conditions counted_to is the watermark: the events of the
-- account with an id up to it are in score_event_parts; it moves in the
-- same transaction as the parts it accounts for.
CREATE TABLE score_conditions (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    score_id    BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    criterion   TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('fixed', 'per_event', 'field_value')),
    value       BIGINT NOT NULL DEFAULT 0,
    coefficient BIGINT NOT NULL DEFAULT 10000,
    counted_to  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX score_conditions_score ON score_conditions (account_id, score_id, position);

-- The accumulated per-event part of a contact for a condition: value ×
-- events counted, summed run after run (deleting events never lowers it).
-- Keyed by contact before condition: a calculation sums a contact's parts.
CREATE TABLE score_event_parts (
    account_id   BIGINT NOT NULL,
    score_id     BIGINT NOT NULL,
    contact_id   BIGINT NOT NULL,
    condition_id BIGINT NOT NULL,
    part         BIGINT NOT NULL,
    PRIMARY KEY (account_id, score_id, contact_id, condition_id)
);

-- The current value of a score per contact; no row means 0. Criteria read
-- it ({"score": ID, "op": "gte", "value": 10}).
CREATE TABLE score_results (
    account_id BIGINT NOT NULL,
    score_id   BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (account_id, score_id, contact_id)
);

-- Each change of a value, for the contact's trend chart.
CREATE TABLE score_history (
    account_id BIGINT NOT NULL,
    score_id   BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (account_id, score_id, contact_id, at)
);

-- Calculations (SPEC §5.5): one queued or running at a time per account
-- (checked under the account's row lock when launching).
CREATE TABLE score_runs (
    account_id     BIGINT NOT NULL,
    id             BIGINT NOT NULL,
    job_id         BIGINT NOT NULL,
    origin         TEXT NOT NULL CHECK (origin IN ('manual', 'scheduled')),
    state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress_done  BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    changed        BIGINT NOT NULL DEFAULT 0,
    warnings       TEXT NOT NULL DEFAULT '',
    created_by     BIGINT,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX score_runs_state ON score_runs (account_id, state);

-- The automatic schedule (SPEC §5.6): next_at is score_interval_hours
-- after the last manual run, then every interval.
CREATE TABLE score_schedules (
    account_id BIGINT NOT NULL,
    manual_at  BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id)
);

-- "When [SCORE] X becomes ≥ N" (SPEC §5.7) and its firings, once per
-- contact and trigger. handled_at is for the sending action that later
-- issues attach.
CREATE TABLE score_triggers (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    score_id   BIGINT NOT NULL,
    threshold  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX score_triggers_score ON score_triggers (account_id, score_id);

CREATE TABLE score_firings (
    account_id BIGINT NOT NULL,
    trigger_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    score_id   BIGINT NOT NULL,
    value      BIGINT NOT NULL,
    fired_at   BIGINT NOT NULL,
    handled_at BIGINT,
    PRIMARY KEY (account_id, trigger_id, contact_id)
);

-- The transactional outbox of domain events (package event): written in
-- the transaction of the change, read in id order by webhook delivery.
-- payload is a JSON object.
CREATE TABLE event_outbox (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    type       TEXT NOT NULL,
    contact_id BIGINT,
    payload    TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- +goose Down
DROP TABLE event_outbox;
DROP TABLE score_firings;
DROP TABLE score_triggers;
DROP TABLE score_schedules;
DROP TABLE score_runs;
DROP TABLE score_history;
DROP TABLE score_results;
DROP TABLE score_event_parts;
DROP TABLE score_conditions;
DROP TABLE scores;
ALTER TABLE accounts DROP COLUMN score_interval_hours;

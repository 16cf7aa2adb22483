-- +goose Up
-- Behaviour events (SPEC §4.5, §6.3, §12.1): what contacts did — emails
-- received, opened, clicked, SMS, form answers, web visits, purchases and
-- custom events. Append-only for the API; tracking appends in group commits.
-- amount is fixed point (ten-thousandths); data a JSON object (≤ 16 KiB).
-- Indexes serve, in order: a contact's timeline and per-contact criteria;
-- "did X within N days" criteria and per-event score conditions, covering
-- contact_id and amount so a count or a purchase total per contact reads
-- the index alone; the same with a campaign filter (emailings, SMS),
-- partial because most events have none. Forms and URL patterns filter the
-- type index's range (form.submitted, web.visit). Every index leads with
-- account_id (SPEC §13.1).
CREATE TABLE events (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    contact_id  BIGINT NOT NULL,
    type        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    campaign_id BIGINT,
    form_id     BIGINT,
    url         TEXT NOT NULL DEFAULT '',
    amount      BIGINT,
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX events_contact ON events (account_id, contact_id, at, id);
CREATE INDEX events_type ON events (account_id, type, at, contact_id, amount);
CREATE INDEX events_campaign ON events (account_id, type, campaign_id, at, contact_id) WHERE campaign_id IS NOT NULL;

-- Notes left by users on a contact (SPEC §4.5). The author's name is frozen
-- at writing time, as in the history, so it survives the user's removal.
CREATE TABLE contact_notes (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    contact_id  BIGINT NOT NULL,
    author_id   BIGINT,
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX contact_notes_contact ON contact_notes (account_id, contact_id, created_at, id);

-- +goose Down
DROP TABLE contact_notes;
DROP TABLE events;

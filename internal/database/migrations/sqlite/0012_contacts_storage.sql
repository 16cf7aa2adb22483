-- +goose Up
-- Storage tuned for bulk imports (issue 4, bench/RESULTS.md). On SQLite a
-- table whose primary key is not a single INTEGER column keeps a second
-- B-tree for that key: every contact cost one insertion more than needed.
-- Ids are unique installation-wide, so contacts becomes a rowid table keyed
-- by id (account_id stays the first column of every secondary index), and
-- contact_values and list_members become WITHOUT ROWID tables clustered on
-- their primary keys. The value indexes are partial: a number never sits in
-- the text index nor a text in the number index, so each value costs one
-- index insertion instead of two.
CREATE TABLE contacts_v2 (
    account_id     BIGINT NOT NULL,
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    civility       TEXT NOT NULL DEFAULT '',
    first_name     TEXT NOT NULL DEFAULT '',
    last_name      TEXT NOT NULL DEFAULT '',
    birth_date     TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    postal_code    TEXT NOT NULL DEFAULT '',
    city           TEXT NOT NULL DEFAULT '',
    country        TEXT NOT NULL DEFAULT '',
    company        TEXT NOT NULL DEFAULT '',
    job            TEXT NOT NULL DEFAULT '',
    language       TEXT NOT NULL DEFAULT '',
    email_status   TEXT NOT NULL DEFAULT 'valid' CHECK (email_status IN ('valid', 'soft_bounced', 'hard_bounced', 'unsubscribed', 'complained')),
    sms_status     TEXT NOT NULL DEFAULT 'valid' CHECK (sms_status IN ('valid', 'invalid', 'stopped')),
    consent_source TEXT NOT NULL DEFAULT '',
    consent_at     BIGINT,
    unique_value   TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     BIGINT,
    version        BIGINT NOT NULL DEFAULT 1
);
INSERT INTO contacts_v2 SELECT account_id, id, email, phone, civility, first_name, last_name, birth_date, address, postal_code,
    city, country, company, job, language, email_status, sms_status, consent_source, consent_at, unique_value, created_at,
    updated_at, updated_by, version FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_v2 RENAME TO contacts;
CREATE UNIQUE INDEX contacts_unique ON contacts (account_id, unique_value) WHERE unique_value IS NOT NULL;
CREATE INDEX contacts_email ON contacts (account_id, email);
CREATE INDEX contacts_phone ON contacts (account_id, phone);
CREATE INDEX contacts_name ON contacts (account_id, last_name, first_name);

CREATE TABLE contact_values_v2 (
    account_id BIGINT NOT NULL,
    field_id   BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    text_value TEXT,
    num_value  BIGINT,
    PRIMARY KEY (account_id, field_id, contact_id)
) WITHOUT ROWID;
INSERT INTO contact_values_v2 SELECT account_id, field_id, contact_id, text_value, num_value FROM contact_values;
DROP TABLE contact_values;
ALTER TABLE contact_values_v2 RENAME TO contact_values;
CREATE INDEX contact_values_num ON contact_values (account_id, field_id, num_value) WHERE num_value IS NOT NULL;
CREATE INDEX contact_values_text ON contact_values (account_id, field_id, text_value) WHERE text_value IS NOT NULL;
CREATE INDEX contact_values_contact ON contact_values (account_id, contact_id);

CREATE TABLE list_members_v2 (
    account_id BIGINT NOT NULL,
    list_id    BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, list_id, contact_id)
) WITHOUT ROWID;
INSERT INTO list_members_v2 SELECT account_id, list_id, contact_id, added_at FROM list_members;
DROP TABLE list_members;
ALTER TABLE list_members_v2 RENAME TO list_members;
CREATE INDEX list_members_contact ON list_members (account_id, contact_id);

-- The planner's statistics. Without them SQLite assumes that
-- "account_id = ?" picks out ten rows, and answers "account_id = ? AND id
-- IN (…)" by walking a whole account through contacts_name instead of
-- seeking each id (and ANALYZE on empty tables records zero rows, which
-- misleads it the same way). These hand-written figures (a large account:
-- 100,000 contacts per account id) only say that account_id alone is not
-- selective; a later ANALYZE of real data replaces them. ANALYZE of the
-- one-row envoi_ids table creates sqlite_stat1.
ANALYZE envoi_ids;
DELETE FROM sqlite_stat1 WHERE tbl IN ('contacts', 'contact_values', 'list_members');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('contacts', 'contacts_unique', '1000000 100000 1'),
    ('contacts', 'contacts_email', '1000000 100000 1'),
    ('contacts', 'contacts_phone', '1000000 100000 2'),
    ('contacts', 'contacts_name', '1000000 100000 20 2'),
    ('contact_values', 'sqlite_autoindex_contact_values_1', '1000000 100000 20000 1'),
    ('contact_values', 'contact_values_contact', '1000000 100000 5'),
    ('contact_values', 'contact_values_num', '1000000 100000 20000 10'),
    ('contact_values', 'contact_values_text', '1000000 100000 20000 10'),
    ('list_members', 'sqlite_autoindex_list_members_1', '1000000 100000 20000 1'),
    ('list_members', 'list_members_contact', '1000000 100000 3');
ANALYZE sqlite_schema;

-- Rows that matched a contact whose data the file did not change (a
-- re-import writes nothing for them), and line errors kept as translation
-- keys so a French user reads a French report.
ALTER TABLE imports ADD COLUMN unchanged BIGINT NOT NULL DEFAULT 0;
ALTER TABLE import_errors ADD COLUMN reason_key TEXT NOT NULL DEFAULT '';
ALTER TABLE import_errors ADD COLUMN reason_args TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE import_errors DROP COLUMN reason_args;
ALTER TABLE import_errors DROP COLUMN reason_key;
ALTER TABLE imports DROP COLUMN unchanged;

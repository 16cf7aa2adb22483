-- +goose Up
-- Contact settings of an account (SPEC §1.4, §4.3).
ALTER TABLE accounts ADD COLUMN unique_key TEXT NOT NULL DEFAULT 'email';
ALTER TABLE accounts ADD COLUMN refuse_duplicates BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN default_country TEXT NOT NULL DEFAULT 'FR';

-- Custom fields, typed (SPEC §4.1).
CREATE TABLE fields (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    key        TEXT NOT NULL,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean', 'choice', 'multi_choice')),
    choices    TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, key)
);

-- Contacts: core fields as columns (fast filters and sorts at 1M rows).
-- unique_value is the normalised unique key while the account refuses
-- duplicates (NULL otherwise): the partial unique index enforces the
-- account's choice in the database, so concurrent creates cannot duplicate.
CREATE TABLE contacts (
    account_id     BIGINT NOT NULL,
    id             BIGINT NOT NULL,
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
    version        BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX contacts_unique ON contacts (account_id, unique_value) WHERE unique_value IS NOT NULL;
CREATE INDEX contacts_email ON contacts (account_id, email);
CREATE INDEX contacts_phone ON contacts (account_id, phone);
CREATE INDEX contacts_name ON contacts (account_id, last_name, first_name);

-- Custom field values, one row per contact and field, typed: text and
-- choices in text_value (multiple choices joined by a unit separator),
-- numbers as fixed point (ten-thousandths), dates as days since 1970 and
-- booleans as 0/1 in num_value. Indexed per field for segment criteria.
CREATE TABLE contact_values (
    account_id BIGINT NOT NULL,
    field_id   BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    text_value TEXT,
    num_value  BIGINT,
    PRIMARY KEY (account_id, field_id, contact_id)
);
CREATE INDEX contact_values_num ON contact_values (account_id, field_id, num_value);
CREATE INDEX contact_values_text ON contact_values (account_id, field_id, text_value);
CREATE INDEX contact_values_contact ON contact_values (account_id, contact_id);

CREATE TABLE lists (
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

CREATE TABLE list_members (
    account_id BIGINT NOT NULL,
    list_id    BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, list_id, contact_id)
);
CREATE INDEX list_members_contact ON list_members (account_id, contact_id);

-- Blacklist: emails, domains, phones that never receive anything.
CREATE TABLE blacklist (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('email', 'domain', 'phone')),
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT,
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, type, value)
);

-- +goose Down
DROP TABLE blacklist;
DROP TABLE list_members;
DROP TABLE lists;
DROP TABLE contact_values;
DROP TABLE contacts;
DROP TABLE fields;
ALTER TABLE accounts DROP COLUMN default_country;
ALTER TABLE accounts DROP COLUMN refuse_duplicates;
ALTER TABLE accounts DROP COLUMN unique_key;

-- +goose Up
-- Orders of the contacts page (issue 4, bench/RESULTS.md "contacts search").
-- Name and email indexes end with the id, so a page sorted by name or email
-- continues from its cursor without sorting a group of equal keys (SQLite
-- gets the id for free: it is the rowid every index entry ends with).
-- Searched columns compare byte-wise ("C"), as on SQLite: prefix ranges
-- then use the indexes whatever the cluster's locale, and both engines
-- sort names the same way.
DROP INDEX contacts_name;
DROP INDEX contacts_email;
DROP INDEX contacts_phone;
DROP INDEX contacts_unique;
ALTER TABLE contacts
    ALTER COLUMN email TYPE TEXT COLLATE "C",
    ALTER COLUMN phone TYPE TEXT COLLATE "C",
    ALTER COLUMN first_name TYPE TEXT COLLATE "C",
    ALTER COLUMN last_name TYPE TEXT COLLATE "C",
    ALTER COLUMN unique_value TYPE TEXT COLLATE "C";
CREATE UNIQUE INDEX contacts_unique ON contacts (account_id, unique_value) WHERE unique_value IS NOT NULL;
CREATE INDEX contacts_email ON contacts (account_id, email, id);
CREATE INDEX contacts_phone ON contacts (account_id, phone);
CREATE INDEX contacts_name ON contacts (account_id, last_name, first_name, id);
-- "Last change" order. Imports and edits write the current time, so new
-- entries land at the end of an account's range: cheap to maintain.
CREATE INDEX contacts_updated ON contacts (account_id, updated_at, id);

-- Behaviour criteria "received but did not open" without a campaign compare
-- (contact, emailing) pairs: with campaign_id in the type index they read
-- the index alone instead of the events table (issue 5, bench/RESULTS.md).
DROP INDEX events_type;
CREATE INDEX events_type ON events (account_id, type, at, contact_id, amount, campaign_id);

-- +goose Down
DROP INDEX events_type;
CREATE INDEX events_type ON events (account_id, type, at, contact_id, amount);
DROP INDEX contacts_updated;
DROP INDEX contacts_name;
DROP INDEX contacts_email;
CREATE INDEX contacts_email ON contacts (account_id, email);
CREATE INDEX contacts_name ON contacts (account_id, last_name, first_name);

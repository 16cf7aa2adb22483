-- +goose Up
-- "Last change" order of the contacts page (see the PostgreSQL file of the
-- same name). Imports and edits write the current time, so new entries land
-- at the end of an account's range: cheap to maintain. SQLite needs nothing
-- for the other orders: every index entry ends with the rowid (the id).
CREATE INDEX contacts_updated ON contacts (account_id, updated_at);
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT 'contacts', 'contacts_updated', '1000000 100000 2'
WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'contacts' AND idx = 'contacts_updated');
ANALYZE sqlite_schema;

-- Behaviour criteria "received but did not open" without a campaign compare
-- (contact, emailing) pairs: with campaign_id in the type index they read
-- the index alone instead of the events table (issue 5, bench/RESULTS.md).
DROP INDEX events_type;
CREATE INDEX events_type ON events (account_id, type, at, contact_id, amount, campaign_id);

-- +goose Down
DROP INDEX events_type;
CREATE INDEX events_type ON events (account_id, type, at, contact_id, amount);
DELETE FROM sqlite_stat1 WHERE tbl = 'contacts' AND idx = 'contacts_updated';
DROP INDEX contacts_updated;

-- Columns added to tables of the baseline before migrations were numbered.
-- A database made before numbering gets each only where it lacks it.
ALTER TABLE deliveries ADD COLUMN draft TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN segments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN detail TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
-- kind tells API tokens from console sessions; before it, a session was
-- a token with an expiry (0003 sets it for those).
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN doubt TEXT NOT NULL DEFAULT '';
-- What lists filter by, beside the record (see SaveRecord); summarised
-- marks the rows backfilled from before these columns.
ALTER TABLE incidents ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN jurisdictions TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN subjects BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN reached BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN viewers TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN summarised INTEGER NOT NULL DEFAULT 0;
-- The charter the API issued when it opened the incident, and the one
-- workflow run that claimed it (see ClaimCharter).
ALTER TABLE incidents ADD COLUMN charter TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN charter_run TEXT NOT NULL DEFAULT '';

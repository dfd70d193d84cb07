-- Which contacts a person has is a bit per kind of contact
-- (inventory.Contacts: onsite, email, phone, push, address), so a new kind
-- adds no column here; and whether they agreed to electronic notice.
ALTER TABLE snapshot_counts ADD COLUMN reach INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshot_counts ADD COLUMN consent TEXT NOT NULL DEFAULT '';
UPDATE snapshot_counts SET reach = can_onsite + 2 * can_email + 4 * can_phone;
-- How many of an incident's people share a region, an answer on consent
-- and a set of contacts: what each channel may lawfully reach is counted
-- from these few rows once the law applying to each region is known.
CREATE TABLE IF NOT EXISTS scope_reach (
  incident_id TEXT NOT NULL,
  region TEXT NOT NULL,
  consent TEXT NOT NULL,
  reach INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (incident_id, region, consent, reach)
);

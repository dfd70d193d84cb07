-- A campaign paused by legal or an admin: no new notice goes out until it
-- is resumed (the row deleted) or, for a hold law enforcement asked for,
-- until its time passes. The audit log keeps who paused and resumed.
CREATE TABLE IF NOT EXISTS campaign_pauses (
  incident_id TEXT PRIMARY KEY,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL,
  until TEXT NOT NULL DEFAULT '',
  requested_by TEXT NOT NULL DEFAULT '',
  duties TEXT NOT NULL DEFAULT ''
);

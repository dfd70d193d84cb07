-- A channel's rate raised (or lowered) at run time by an admin, within the
-- ceiling the deployment's config allows it: it replaces the configured
-- rate for every worker until set again.
CREATE TABLE IF NOT EXISTS channel_rates (
  channel TEXT PRIMARY KEY,
  per_second DOUBLE PRECISION NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);

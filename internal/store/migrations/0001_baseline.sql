-- The schema as it stood when migrations were numbered; shared by both
-- backends: {{id}} is the dialect's auto-increment key, {{key}} its text
-- type for keys and {{clustered}} its clustered-table option. Subjects live
-- in one table per snapshot (subjects_<n>, made by the import) and an
-- incident's affected set in one table per incident (affected_<id>, made by
-- scoping), so a bulk write goes to an unindexed table and its index is
-- built once, in order, afterwards.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
  id {{id}},
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  systems_file TEXT NOT NULL,
  subjects_file TEXT NOT NULL,
  systems INTEGER NOT NULL,
  subjects BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS systems (
  snapshot_id BIGINT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  categories TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, id)
);
CREATE TABLE IF NOT EXISTS system_sets (
  snapshot_id BIGINT NOT NULL,
  set_id INTEGER NOT NULL,
  systems TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, set_id)
);
CREATE TABLE IF NOT EXISTS snapshot_counts (
  snapshot_id BIGINT NOT NULL,
  region TEXT NOT NULL,
  locale TEXT NOT NULL,
  set_id INTEGER NOT NULL,
  birth_year INTEGER NOT NULL,
  can_onsite INTEGER NOT NULL,
  can_email INTEGER NOT NULL,
  can_phone INTEGER NOT NULL,
  n BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshot_counts_snapshot ON snapshot_counts (snapshot_id);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  spec TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  drill INTEGER NOT NULL,
  snapshot_id BIGINT,
  subjects_file TEXT NOT NULL DEFAULT '',
  named_subjects BIGINT NOT NULL DEFAULT 0,
  scoped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS incident_subjects (
  incident_id {{key}} NOT NULL,
  subject_id {{key}} NOT NULL,
  line BIGINT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
){{clustered}};
CREATE TABLE IF NOT EXISTS scope_sets (
  incident_id TEXT NOT NULL,
  set_id INTEGER NOT NULL,
  categories TEXT NOT NULL,
  sensitive INTEGER NOT NULL,
  PRIMARY KEY (incident_id, set_id)
);
CREATE TABLE IF NOT EXISTS drafts (
  incident_id TEXT NOT NULL,
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL,
  locale TEXT NOT NULL,
  audience TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  sms TEXT NOT NULL,
  voice TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  html TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident_id, name, revision)
);
CREATE TABLE IF NOT EXISTS deliveries (
  incident_id {{key}} NOT NULL,
  subject_id {{key}} NOT NULL,
  channel TEXT NOT NULL,
  rung INTEGER NOT NULL,
  status TEXT NOT NULL,
  provider_ref TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id, channel)
){{clustered}};
CREATE INDEX IF NOT EXISTS deliveries_ref ON deliveries (provider_ref);
CREATE TABLE IF NOT EXISTS drill_messages (
  incident_id TEXT NOT NULL,
  msg_key TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (incident_id, msg_key)
);
CREATE TABLE IF NOT EXISTS suspended_identities (
  identity TEXT PRIMARY KEY,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_requests (
  kind TEXT NOT NULL,
  request_key TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (kind, request_key)
);
CREATE TABLE IF NOT EXISTS quiet_releases (
  incident_id TEXT PRIMARY KEY,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_holds (
  channel TEXT PRIMARY KEY,
  since TEXT NOT NULL,
  reason TEXT NOT NULL,
  probe_at TEXT NOT NULL,
  probes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_hold_notices (
  channel TEXT NOT NULL,
  since TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  PRIMARY KEY (channel, since, incident_id)
);
CREATE TABLE IF NOT EXISTS run_refusals (
  incident_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (incident_id, run_id)
);
CREATE TABLE IF NOT EXISTS drills (
  id TEXT PRIMARY KEY,
  playbook TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  attended INTEGER NOT NULL,
  incident_id TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS announcements (
  incident_id TEXT PRIMARY KEY,
  draft_revision INTEGER NOT NULL,
  unreached BIGINT NOT NULL,
  reason TEXT NOT NULL,
  published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  chain TEXT NOT NULL,
  seq BIGINT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  via TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE TABLE IF NOT EXISTS incident_records (
  incident_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  record TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_windows (
  name TEXT NOT NULL,
  window_index BIGINT NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (name, window_index)
);
CREATE TABLE IF NOT EXISTS audit_heads (
  chain TEXT PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO audit_heads (chain, seq) SELECT chain, MAX(seq) FROM audit WHERE true GROUP BY chain ON CONFLICT (chain) DO NOTHING;
CREATE TABLE IF NOT EXISTS review_messages (
  incident_id TEXT NOT NULL,
  draft TEXT NOT NULL,
  revision INTEGER NOT NULL,
  channel TEXT NOT NULL,
  ts TEXT NOT NULL,
  PRIMARY KEY (incident_id, draft, revision)
);
CREATE TABLE IF NOT EXISTS held_calls (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  until_utc TEXT NOT NULL,
  until_local TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  role TEXT NOT NULL
);

-- Each person's notice code (internal/verify), so a code a person types
-- is found without the key that made it; one code per person and incident.
CREATE TABLE IF NOT EXISTS notice_codes (
  code TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS notice_codes_subject ON notice_codes (incident_id, subject_id);
-- How often notices were checked, per incident ('' for codes that matched
-- none): counts only, never who asked.
CREATE TABLE IF NOT EXISTS verify_lookups (
  incident_id TEXT PRIMARY KEY,
  lookups INTEGER NOT NULL
);

-- Questions notified people ask about their notice (from its verify
-- page), and support's answers: the person reads the answer where they
-- asked. Counts and response times go into the evidence.
CREATE TABLE IF NOT EXISTS inquiries (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  question TEXT NOT NULL,
  asked_at TEXT NOT NULL,
  status TEXT NOT NULL,
  answer TEXT NOT NULL DEFAULT '',
  answered_by TEXT NOT NULL DEFAULT '',
  answered_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS inquiries_incident ON inquiries (incident_id, status, asked_at);

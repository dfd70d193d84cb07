-- Questions that arrive as replies to a text message are answered on the
-- channel they came in on: reply_to is where (the number the person wrote
-- from), answer_ref the provider's ID of the answer sent there.
ALTER TABLE inquiries ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE inquiries ADD COLUMN answer_ref TEXT NOT NULL DEFAULT '';
-- People who replied STOP to our texts (the provider refuses to text them
-- afterwards); kept to count them in the incident's evidence.
CREATE TABLE IF NOT EXISTS sms_optouts (
  phone TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  keyword TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_optouts_incident ON sms_optouts (incident_id);

-- Each person's enrolment code for the remedy an incident offers (credit
-- monitoring), merged into their notice and shown on their verify page.
CREATE TABLE IF NOT EXISTS enrolment_codes (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  code TEXT NOT NULL,
  enrol_by TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
);

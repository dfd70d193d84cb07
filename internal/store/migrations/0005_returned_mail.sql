-- Letters the post office returned, a row each: incident show counts
-- them without reading the incident's whole delivery ledger.
CREATE TABLE IF NOT EXISTS returned_mail (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
);

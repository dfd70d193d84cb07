-- Follow-up waves: people forensics finds after the first notice, added
-- to an incident's affected set against the same snapshot (tocsin
-- incident add). A wave names more systems, more subject IDs, or both;
-- added is how many people it brought in, -1 until it was applied, so
-- applying it again adds nobody twice and answers the same count.
CREATE TABLE IF NOT EXISTS incident_waves (
  incident_id TEXT NOT NULL,
  wave INTEGER NOT NULL,
  systems TEXT NOT NULL,
  subjects_file TEXT NOT NULL,
  named BIGINT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  added BIGINT NOT NULL DEFAULT -1,
  PRIMARY KEY (incident_id, wave)
);
CREATE TABLE IF NOT EXISTS wave_subjects (
  incident_id {{key}} NOT NULL,
  wave INTEGER NOT NULL,
  subject_id {{key}} NOT NULL,
  line BIGINT NOT NULL,
  PRIMARY KEY (incident_id, wave, subject_id)
){{clustered}};

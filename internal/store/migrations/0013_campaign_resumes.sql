-- When a paused campaign last began sending again. A resume deletes the
-- pause's row, and the measured pace must not count the pause's silence
-- as its providers' slowness: the measure starts here.
CREATE TABLE IF NOT EXISTS campaign_resumes (
  incident_id TEXT PRIMARY KEY,
  at TEXT NOT NULL
);

-- Whether a snapshot's file listed its people in ascending subject ID.
-- Scoping on SQLite fills a table clustered on the ID: in that order it
-- grows at its end, in any other it is first sorted (0: not known, sort).
ALTER TABLE snapshots ADD COLUMN ids_ascending INTEGER NOT NULL DEFAULT 0;

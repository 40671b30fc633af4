-- Every version's numbers and text (issue: silent edits and takedowns). A report changed after publication
-- must be shown cell by cell, before → after; until now a new version deleted the previous one's cells and
-- text, and report_versions kept only its key figures.
-- * The current version's cells stay in `cells` and its text in report_texts (one copy, as before). When a
--   version is superseded, Reports.write copies them here and into report_versions.full_text first, so an
--   archive only pays for the versions that were actually replaced.
-- * report_versions.kept = 1 says this version's cells and text are known when it is not the current one (a
--   version that failed to parse is kept from the start: it has neither). Versions superseded before this
--   migration have kept = 0: their cells are lost, only their key figures remain.
CREATE TABLE version_cells (
    report_id INTEGER NOT NULL REFERENCES reports(id),
    version INTEGER NOT NULL,
    key_id INTEGER NOT NULL REFERENCES cell_keys(id),
    value NUMERIC,
    raw TEXT NOT NULL,
    unit TEXT,
    PRIMARY KEY (report_id, version, key_id)
) WITHOUT ROWID;

ALTER TABLE report_versions ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_versions ADD COLUMN full_text TEXT;  -- a superseded version's text (NULL while current)

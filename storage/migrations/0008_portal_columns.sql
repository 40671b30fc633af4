-- Self-healing listings (issue 10, item 4): the annual-report column of a portal declared by its home page, as
-- found, with how it was found, so that a column that moves is found again and the move is on record.
-- * One row per column a portal had: the current one has gone_at NULL. A column that answered 404/410, or whose
--   walk no longer showed any of the portal's archived reports, gets gone_at and gone_reason; when another was
--   found from the home page it points at it (superseded_by).
-- * how: declared (the registry's start_url) | discovered (found from home_url, none known before) |
--   rediscovered (found from home_url after the previous column was gone).
-- * The evidence of how it was found: the page that links it (found_from) and the link's text, the page the
--   walk started from (home_url), how many report links discovery saw on it, and the discovery's record (JSON:
--   pages read, a few report links).
CREATE TABLE portal_columns (
    id INTEGER PRIMARY KEY,
    portal_id TEXT NOT NULL REFERENCES portals(id),
    url TEXT NOT NULL,
    how TEXT NOT NULL CHECK (how IN ('declared', 'discovered', 'rediscovered')),
    found_at TEXT NOT NULL,
    found_from TEXT,
    link_text TEXT,
    home_url TEXT,
    reports INTEGER,
    evidence TEXT,
    last_ok_at TEXT,                  -- the last crawl whose walk of it showed the portal's reports
    gone_at TEXT,
    gone_reason TEXT CHECK (gone_reason IN ('http_404', 'http_410', 'not_holding', 'registry')),
    superseded_by INTEGER REFERENCES portal_columns(id)
);
CREATE INDEX portal_columns_portal ON portal_columns(portal_id, gone_at);

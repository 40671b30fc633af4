-- Evidence for verdicts (issue: absence only with evidence).
-- * crawl_portal_status says whether the portal's listing was walked to its end in that run.
-- * listing_entries remembers every report entry a listing showed, and in which runs: a report gone from its
--   listing is noticed, and an agency's earlier reports show that a listing is where it publishes.
-- * document_urls remembers when a known document answered 404/410.
-- * deadline_status gains `unverified` and `unmonitored` (a table rebuild: SQLite cannot alter a CHECK), the
--   reason for an unverified verdict, which evidence conditions held, and where the expectation came from.
DROP VIEW IF EXISTS report_summary;
DROP VIEW IF EXISTS cell_values;

ALTER TABLE crawl_portal_status ADD COLUMN listing_complete INTEGER;  -- 1 walked to its end, 0 cut short, NULL unknown
ALTER TABLE crawl_portal_status ADD COLUMN listings_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crawl_portal_status ADD COLUMN budget_exhausted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crawl_portal_status ADD COLUMN listing_pages TEXT;  -- JSON list of the list pages that showed report entries

CREATE TABLE listing_entries (
    url TEXT PRIMARY KEY,             -- what the list linked: a report page, or the file itself
    portal_id TEXT NOT NULL REFERENCES portals(id),
    listing_url TEXT,                 -- the list page it was last seen on
    title TEXT,                       -- the entry's text as the list printed it
    first_listed_run INTEGER NOT NULL REFERENCES crawl_runs(id),
    last_listed_run INTEGER NOT NULL REFERENCES crawl_runs(id),
    first_listed_at TEXT NOT NULL,
    last_listed_at TEXT NOT NULL
);
CREATE INDEX listing_entries_portal ON listing_entries(portal_id, last_listed_run);

ALTER TABLE document_urls ADD COLUMN gone_at TEXT;         -- when the URL last answered 404/410 (NULL: it answers)
ALTER TABLE document_urls ADD COLUMN gone_status INTEGER;

CREATE TABLE deadline_status_new (
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('on_time', 'late', 'missing', 'pending', 'unverified', 'unmonitored')),
    deadline TEXT NOT NULL,
    published_at TEXT,
    published_source TEXT,
    days_late INTEGER,
    report_id INTEGER REFERENCES reports(id),
    evidence_id INTEGER REFERENCES evidence(id),
    pages_checked TEXT,               -- JSON list of the URLs looked at
    checked_at TEXT NOT NULL,
    note TEXT,
    reason TEXT,                      -- unverified: never_crawled | crawl_failed | listing_incomplete | listing_unproven
    basis TEXT,                       -- JSON: which evidence conditions held when the verdict was made
    expectation TEXT,                 -- declared (in the registry) | observed (published here in earlier years)
    PRIMARY KEY (agency_id, year)
);
INSERT INTO deadline_status_new(agency_id, year, status, deadline, published_at, published_source, days_late,
    report_id, evidence_id, pages_checked, checked_at, note)
SELECT agency_id, year, status, deadline, published_at, published_source, days_late,
    report_id, evidence_id, pages_checked, checked_at, note FROM deadline_status;
DROP TABLE deadline_status;
ALTER TABLE deadline_status_new RENAME TO deadline_status;
CREATE INDEX deadline_status_year ON deadline_status(year, status, agency_id, days_late);
CREATE INDEX deadline_status_agency ON deadline_status(agency_id, year, status);

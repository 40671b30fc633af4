-- Schema version 1: the archive's tables. Foreign keys are declared so Datasette links rows.
-- Timestamps are ISO 8601 UTC text; dates are YYYY-MM-DD.

CREATE TABLE portals (
    id TEXT PRIMARY KEY,              -- registry id, also the Scrapy spider name
    name TEXT NOT NULL,
    cms TEXT,                         -- trs | hanweb | fujian | jsonapi | generic
    start_url TEXT,
    domains TEXT,                     -- JSON array of the agency's own domains
    js INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0,
    in_registry INTEGER NOT NULL DEFAULT 0,
    note TEXT
);

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT CHECK (kind IN ('department', 'government')),
    province TEXT,
    city TEXT,
    county TEXT,
    level TEXT,
    portal_id TEXT REFERENCES portals(id),
    listing_url TEXT,
    deadline_override TEXT,           -- MM-DD in the year after the report year
    first_year INTEGER,
    in_registry INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX agencies_place ON agencies(province, city);

-- One row per distinct content (sha256); the file is <db stem>-documents/<path>.
CREATE TABLE documents (
    sha256 TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    format TEXT,                      -- sniffed from the bytes
    content_type TEXT,
    path TEXT NOT NULL,
    link TEXT NOT NULL,               -- /-/original/<sha256>, served by the Datasette plugin
    url TEXT,                         -- where these bytes were first fetched
    fetched_at TEXT,
    http_status INTEGER,
    etag TEXT,
    last_modified TEXT,
    stored_at TEXT NOT NULL
);

-- One row per URL: what it served when last fetched (for conditional GET and change detection).
CREATE TABLE document_urls (
    url TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    content_type TEXT,
    http_status INTEGER,
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX document_urls_sha256 ON document_urls(sha256);

-- The template cells, numbered so that 200 cells × 1M reports stay small.
CREATE TABLE cell_keys (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    section TEXT NOT NULL,            -- active | applications | review_litigation
    row TEXT NOT NULL,
    col TEXT NOT NULL,
    kind TEXT NOT NULL,               -- count | change | amount
    label TEXT NOT NULL,
    templates TEXT NOT NULL           -- template formats that print this cell, e.g. 2019,2021
);

-- One row per report (agency + year; or the URL while either is unknown). It shows the latest version.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    agency_id INTEGER REFERENCES agencies(id),
    year INTEGER,
    agency_parsed TEXT,               -- what the parser read, even when the caller named the agency
    year_parsed INTEGER,
    title TEXT,
    source_url TEXT NOT NULL,
    page_url TEXT,
    portal_id TEXT REFERENCES portals(id),
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    format TEXT,
    template TEXT,
    pages INTEGER,
    signed_date TEXT,
    published_at TEXT,
    published_source TEXT CHECK (published_source IN ('page_meta', 'visible', 'url', 'last_modified', 'first_seen', 'manual')),
    published_candidates TEXT,        -- JSON {source: date} when sources disagree
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    parse_status TEXT NOT NULL CHECK (parse_status IN ('ok', 'failed')),
    parse_reason TEXT,
    parse_message TEXT,
    cells_count INTEGER NOT NULL DEFAULT 0,
    new_requests NUMERIC,
    carried_over NUMERIC,
    granted NUMERIC,
    partial NUMERIC,
    refused NUMERIC,
    unable NUMERIC,
    not_processed NUMERIC,
    other_handling NUMERIC,
    handled_total NUMERIC,
    carry_forward NUMERIC,
    reviews NUMERIC,
    lawsuits NUMERIC,
    failing_checks INTEGER NOT NULL DEFAULT 0,
    checked_at TEXT
);
CREATE INDEX reports_agency_year ON reports(agency_id, year);
CREATE INDEX reports_year ON reports(year);
CREATE INDEX reports_changed_at ON reports(changed_at);
CREATE INDEX reports_source_url ON reports(source_url);
CREATE INDEX reports_sha256 ON reports(sha256);

CREATE TABLE report_texts (
    report_id INTEGER PRIMARY KEY REFERENCES reports(id),
    full_text TEXT NOT NULL
);

CREATE TABLE cells (
    report_id INTEGER NOT NULL REFERENCES reports(id),
    key_id INTEGER NOT NULL REFERENCES cell_keys(id),
    value NUMERIC,                    -- NULL: printed blank, or —, /, 无
    raw TEXT NOT NULL,                -- the cell as printed
    unit TEXT,
    PRIMARY KEY (report_id, key_id)
) WITHOUT ROWID;

-- Every distinct document seen for a report, oldest first; reports.version is the current one.
CREATE TABLE report_versions (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    source_url TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    parse_status TEXT NOT NULL,
    parse_reason TEXT,
    title TEXT,
    template TEXT,
    figures TEXT,                     -- JSON key figures as this version printed them
    UNIQUE (report_id, version),
    UNIQUE (report_id, sha256)
);
CREATE INDEX report_versions_source_url ON report_versions(source_url);
CREATE INDEX report_versions_changes ON report_versions(seen_at) WHERE version > 1;

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    scope TEXT NOT NULL,              -- who wrote it (parse, checks, …): write_findings replaces one scope
    rule TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'not_assessable', 'info')),
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    cells TEXT NOT NULL DEFAULT '[]', -- JSON list of cell keys
    data TEXT,                        -- JSON: the numbers involved
    fingerprint TEXT NOT NULL,
    found_at TEXT NOT NULL
);
CREATE INDEX findings_report ON findings(report_id, scope);
CREATE INDEX findings_status ON findings(status, rule);
CREATE INDEX findings_fingerprint ON findings(fingerprint);

-- Proof kept for a deadline decision: a screenshot of the listing page, a saved page.
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER REFERENCES agencies(id),
    year INTEGER,
    kind TEXT NOT NULL,               -- screenshot | page
    url TEXT,                         -- the page captured
    sha256 TEXT NOT NULL REFERENCES documents(sha256),
    captured_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX evidence_agency_year ON evidence(agency_id, year);

CREATE TABLE deadline_status (
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('on_time', 'late', 'missing', 'pending')),
    deadline TEXT NOT NULL,
    published_at TEXT,
    published_source TEXT,
    days_late INTEGER,
    report_id INTEGER REFERENCES reports(id),
    evidence_id INTEGER REFERENCES evidence(id),
    pages_checked TEXT,               -- JSON list of the URLs looked at
    checked_at TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (agency_id, year)
);
CREATE INDEX deadline_status_year ON deadline_status(year, status);

CREATE TABLE crawl_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',  -- running | ok | partial | failed
    command TEXT,
    options TEXT,                     -- JSON
    pages INTEGER,
    documents INTEGER,
    reports INTEGER,
    errors INTEGER,
    note TEXT
);

CREATE TABLE crawl_portal_status (
    run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
    portal_id TEXT NOT NULL REFERENCES portals(id),
    status TEXT NOT NULL,             -- ok | unreachable | error | empty | …
    error TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    documents INTEGER NOT NULL DEFAULT 0,
    reports INTEGER NOT NULL DEFAULT 0,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, portal_id)
);
CREATE INDEX crawl_portal_status_portal ON crawl_portal_status(portal_id, run_id);

-- One row per thing worth telling someone, identified by its fingerprint. It is delivered once,
-- again when its state changes (late → published), and retried while delivery fails.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,               -- data | deadline | health …
    state TEXT NOT NULL,              -- e.g. missing, late, published, fail, corrected
    tags TEXT NOT NULL DEFAULT '[]',  -- JSON list, for apprise routing
    title TEXT,
    body TEXT,
    payload TEXT,                     -- JSON
    report_id INTEGER REFERENCES reports(id),
    agency_id INTEGER REFERENCES agencies(id),
    year INTEGER,
    first_seen TEXT NOT NULL,
    state_changed_at TEXT NOT NULL,
    delivery_status TEXT NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'sent', 'failed')),
    sent_state TEXT,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT
);
CREATE INDEX alerts_delivery ON alerts(delivery_status, kind);

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    attempted_at TEXT NOT NULL,
    state TEXT NOT NULL,              -- the alert state this attempt carried
    ok INTEGER NOT NULL,
    error TEXT,
    digest TEXT                       -- id shared by the alerts sent in one digest message
);
CREATE INDEX alert_deliveries_alert ON alert_deliveries(alert_id);

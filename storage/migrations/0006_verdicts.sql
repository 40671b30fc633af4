-- Verdicts a newsroom can publish (issue 10).
-- * alert_targets: delivery per (alert, target), so a delivery that failed for one target is retried for that
--   target only. A target is named by a hash of its URL (the URL holds tokens and stays in the apprise config).
-- * alerts.delivery_status gains `suppressed`: an alert outside the current cycle is recorded, browsable and
--   never pushed (a table rebuild: SQLite cannot alter a CHECK; alert_deliveries is rebuilt around it so that
--   no foreign key points at a dropped table).
-- * agencies.kind_source: how an agency's kind was decided (registry | name).
-- * evidence.set_id / evidence.page: a proof of absence is one screenshot per page of the walked listing; the
--   rows of one capture share set_id (the id of its first page's row).
CREATE TABLE alert_deliveries_copy AS SELECT * FROM alert_deliveries;
DROP TABLE alert_deliveries;

CREATE TABLE alerts_new (
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
    -- suppressed: recorded, not pushed (its report year is before the current alert cycle)
    delivery_status TEXT NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'sent', 'failed', 'suppressed')),
    sent_state TEXT,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_attempt_at TEXT
);
INSERT INTO alerts_new SELECT id, fingerprint, kind, state, tags, title, body, payload, report_id, agency_id, year,
    first_seen, state_changed_at, delivery_status, sent_state, sent_at, attempts, last_error, last_attempt_at FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
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
INSERT INTO alert_deliveries SELECT id, alert_id, attempted_at, state, ok, error, digest FROM alert_deliveries_copy;
DROP TABLE alert_deliveries_copy;
CREATE INDEX alert_deliveries_alert ON alert_deliveries(alert_id);

CREATE TABLE alert_targets (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    target TEXT NOT NULL,             -- sha256 of the target URL, 16 hex digits
    target_name TEXT,                 -- the apprise service name (JSON, Telegram, …), for people
    sent_state TEXT,                  -- the alert state this target last received
    status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    last_attempt_at TEXT NOT NULL,
    PRIMARY KEY (alert_id, target)
);

ALTER TABLE agencies ADD COLUMN kind_source TEXT;  -- registry | name
UPDATE agencies SET kind_source = 'registry' WHERE in_registry = 1;

ALTER TABLE evidence ADD COLUMN set_id INTEGER;    -- the first page's evidence.id of the same capture
ALTER TABLE evidence ADD COLUMN page INTEGER;      -- 1-based page of the walked listing

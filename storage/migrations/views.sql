-- Views, dropped and recreated whenever a migration runs (they hold no data).
-- report_summary is a projection of reports alone (see 0003_facets.sql), so facets and counts
-- over it read one indexed table.

DROP VIEW IF EXISTS report_summary;
CREATE VIEW report_summary AS
SELECT
    r.id AS report_id,
    r.agency_name AS agency,
    r.province,
    r.city,
    r.county,
    r.level,
    r.kind,
    r.year,
    r.title,
    r.template,
    r.published_at,
    r.published_source,
    r.deadline,
    r.deadline_status,
    r.days_late,
    r.new_requests,
    r.carried_over,
    r.granted,
    r.partial,
    r.refused,
    r.unable,
    r.not_processed,
    r.other_handling,
    r.handled_total,
    r.carry_forward,
    r.reviews,
    r.lawsuits,
    r.failing_checks,
    r.check_status,
    r.parse_status,
    r.parse_reason,
    r.version,
    r.changed_at,
    r.last_seen,
    r.source_url,
    '/-/original/' || r.sha256 AS original
FROM reports r;

DROP VIEW IF EXISTS cell_values;
CREATE VIEW cell_values AS
SELECT
    c.report_id,
    a.name AS agency,
    r.year,
    k.key,
    k.label,
    c.value,
    c.raw,
    c.unit
FROM cells c
JOIN cell_keys k ON k.id = c.key_id
JOIN reports r ON r.id = c.report_id
LEFT JOIN agencies a ON a.id = r.agency_id;

-- Schema version 3: report_summary reads one table. The agency and deadline columns it shows are
-- kept on reports (and the facet ones indexed): SQLite cannot drop an unused LEFT JOIN from an
-- aggregate, so facets and counts over a joined view cost two lookups per report on every page.
-- Archive keeps these copies in step with agencies, deadline_status and findings, in the same
-- transactions that change those.
ALTER TABLE reports ADD COLUMN agency_name TEXT;
ALTER TABLE reports ADD COLUMN province TEXT;
ALTER TABLE reports ADD COLUMN city TEXT;
ALTER TABLE reports ADD COLUMN county TEXT;
ALTER TABLE reports ADD COLUMN level TEXT;
ALTER TABLE reports ADD COLUMN kind TEXT;
ALTER TABLE reports ADD COLUMN deadline TEXT;
ALTER TABLE reports ADD COLUMN deadline_status TEXT NOT NULL DEFAULT 'unchecked';
ALTER TABLE reports ADD COLUMN days_late INTEGER;
ALTER TABLE reports ADD COLUMN check_status TEXT NOT NULL DEFAULT 'unchecked';

UPDATE reports SET agency_name = a.name, province = a.province, city = a.city, county = a.county, level = a.level, kind = a.kind
FROM agencies a WHERE a.id = reports.agency_id;
UPDATE reports SET deadline = d.deadline, deadline_status = d.status, days_late = d.days_late
FROM deadline_status d WHERE d.agency_id = reports.agency_id AND d.year = reports.year;
UPDATE reports SET check_status = CASE
    WHEN parse_status = 'failed' THEN 'unparsed'
    WHEN failing_checks > 0 THEN 'fail'
    WHEN checked_at IS NULL THEN 'unchecked'
    ELSE 'pass'
END;

CREATE INDEX reports_agency_name ON reports(agency_name, year);
CREATE INDEX reports_place ON reports(province, city);
CREATE INDEX reports_city ON reports(city);
CREATE INDEX reports_deadline_status ON reports(deadline_status);
CREATE INDEX reports_check_status ON reports(check_status);
CREATE INDEX reports_template ON reports(template);

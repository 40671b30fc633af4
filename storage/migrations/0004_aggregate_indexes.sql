-- Schema version 4: indexes for the queries that read across the whole archive (the charts, the
-- deadline and inconsistency queries), so they read a few MB of index instead of every row.
DROP INDEX IF EXISTS deadline_status_year;
CREATE INDEX deadline_status_year ON deadline_status(year, status, agency_id, days_late);
CREATE INDEX deadline_status_agency ON deadline_status(agency_id, year, status);
CREATE INDEX reports_year_figures ON reports(
    year, parse_status, new_requests, granted, partial, refused, reviews, lawsuits
);
-- The reports with a failing finding, for 数据不一致: a few percent of the archive.
CREATE INDEX reports_failing ON reports(year, province) WHERE failing_checks > 0;
-- One covering index answers every default facet of report_summary, over the whole archive or one
-- year, without reading a report row; it replaces the single-column facet indexes of version 3.
DROP INDEX IF EXISTS reports_city;
DROP INDEX IF EXISTS reports_template;
DROP INDEX IF EXISTS reports_deadline_status;
DROP INDEX IF EXISTS reports_check_status;
CREATE INDEX reports_facets ON reports(year, province, city, template, deadline_status, check_status);

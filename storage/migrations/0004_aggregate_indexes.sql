-- Schema version 4: covering indexes for the queries that aggregate the whole archive (the charts
-- and the deadline queries), so they read a few MB of index instead of every report or decision row.
DROP INDEX IF EXISTS deadline_status_year;
CREATE INDEX deadline_status_year ON deadline_status(year, status, agency_id, days_late);
CREATE INDEX deadline_status_agency ON deadline_status(agency_id, year, status);
CREATE INDEX reports_year_figures ON reports(
    year, parse_status, new_requests, granted, partial, refused, reviews, lawsuits
);

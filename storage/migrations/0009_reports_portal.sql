-- The check asks, for every portal of the registry, how many reports the archive holds from it (a portal with none
-- where reports are due is "empty"). Without an index each question scanned the whole reports table: at 3,000
-- portals × 100,000 reports that was two thirds of `xxgk check` (≈ 100 s of 160 s).
CREATE INDEX reports_portal ON reports(portal_id);

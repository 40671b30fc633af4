-- title: 按年度的依申请公开数量 / Requests by year
-- description: 每个报告年度已解析报告中的新收申请、予以公开、部分公开、不予公开的合计，以及行政复议和诉讼。 Per report year, over the parsed reports: new requests, granted, partly granted and refused, with reviews and lawsuits.
SELECT
    year,
    count(*) AS reports,
    sum(new_requests) AS new_requests,
    sum(granted) AS granted,
    sum(partial) AS partial,
    sum(refused) AS refused,
    sum(reviews) AS reviews,
    sum(lawsuits) AS lawsuits
FROM reports
WHERE parse_status = 'ok' AND year IS NOT NULL
GROUP BY year
ORDER BY year

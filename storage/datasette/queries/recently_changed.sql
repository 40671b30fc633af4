-- title: 最近修改的报告 / Recently changed reports
-- description: 首次归档后内容发生变化的报告，最新的在前：修改前后的原件和关键数字。 Reports whose document changed after it was first archived, newest first: the originals and key figures before and after.
SELECT
    v.seen_at AS changed_at,
    v.report_id,
    a.name AS agency,
    a.province,
    r.year,
    v.version,
    json_extract(p.figures, '$.new_requests') AS new_requests_before,
    json_extract(v.figures, '$.new_requests') AS new_requests_after,
    json_extract(p.figures, '$.granted') AS granted_before,
    json_extract(v.figures, '$.granted') AS granted_after,
    json_extract(p.figures, '$.handled_total') AS handled_total_before,
    json_extract(v.figures, '$.handled_total') AS handled_total_after,
    v.parse_status,
    '/-/original/' || p.sha256 AS previous_original,
    '/-/original/' || v.sha256 AS new_original,
    v.source_url
FROM report_versions v
JOIN report_versions p ON p.report_id = v.report_id AND p.version = v.version - 1
JOIN reports r ON r.id = v.report_id
LEFT JOIN agencies a ON a.id = r.agency_id
WHERE v.version > 1
ORDER BY v.seen_at DESC
LIMIT 200

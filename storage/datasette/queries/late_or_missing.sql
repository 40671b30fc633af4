-- title: 逾期或未公开 / Late or missing reports
-- description: 指定年度逾期发布或截至检查时仍未发布年度报告的机关（可按省份筛选，留空为全部）。附发布时间来源、原件与“未发布”截图证据。 Agencies that published the given year's report late, or not at all when last checked (province optional), with the date's source, the original, and screenshot evidence of absence.
SELECT
    a.name AS agency,
    a.province,
    a.city,
    a.kind,
    d.year,
    d.status AS deadline_status,
    d.deadline,
    d.days_late,
    d.published_at,
    d.published_source,
    d.report_id,
    CASE WHEN r.sha256 IS NOT NULL THEN '/-/original/' || r.sha256 END AS original,
    CASE WHEN e.sha256 IS NOT NULL THEN '/-/original/' || e.sha256 END AS evidence,
    e.captured_at AS evidence_captured_at,
    coalesce(e.url, a.listing_url) AS listing_url,
    d.checked_at,
    d.note
FROM deadline_status d
JOIN agencies a ON a.id = d.agency_id
LEFT JOIN reports r ON r.id = d.report_id
LEFT JOIN evidence e ON e.id = d.evidence_id
WHERE d.year = CAST(:year AS INTEGER)
  AND d.status IN ('late', 'missing')
  AND (:province = '' OR a.province = :province)
ORDER BY d.status = 'missing' DESC, d.days_late DESC, a.province, a.city, a.name

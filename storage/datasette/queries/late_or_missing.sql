-- title: 逾期、未公开或未能核实 / Late, missing or unverified reports
-- description: 指定年度逾期发布、或截至检查时仍未发布年度报告的机关（年度、省份留空为全部）。附发布时间来源、原件与“未发布”截图证据；“未公开”（missing）只在证据成立时认定：截止日期后的采集完整走完该机关的年报栏目，且该栏目已核实或存有其其他年度的报告（basis 列出成立的条件）。“未能核实”（unverified）：未找到报告但证据不足，reason 说明原因（never_crawled 未采集、crawl_failed 采集失败、listing_incomplete 栏目未走完、listing_unproven 栏目未证实属于该机关），不是“未公开”的结论。 Agencies that published the given year's report late, or not at all when last checked (year and province optional), with the date's source, the original, and screenshot evidence of absence. "missing" only where the evidence holds (basis); "unverified": not found, but the evidence does not hold (reason).
SELECT
    a.name AS agency,
    a.province,
    a.city,
    a.kind,
    a.kind_source,
    d.year,
    d.status AS deadline_status,
    d.reason AS unverified_reason,
    d.expectation,
    d.deadline,
    d.days_late,
    d.published_at,
    d.published_source,
    d.report_id,
    CASE WHEN r.sha256 IS NOT NULL THEN '/-/original/' || r.sha256 END AS original,
    CASE WHEN e.sha256 IS NOT NULL THEN '/-/original/' || e.sha256 END AS evidence,
    (SELECT count(*) FROM evidence p WHERE p.id = e.id OR p.set_id = e.id) AS evidence_pages,
    e.captured_at AS evidence_captured_at,
    coalesce(e.url, a.listing_url) AS listing_url,
    d.basis,
    d.checked_at,
    d.note
FROM deadline_status d
JOIN agencies a ON a.id = d.agency_id
LEFT JOIN reports r ON r.id = d.report_id
LEFT JOIN evidence e ON e.id = d.evidence_id
WHERE (:year = '' OR d.year = CAST(:year AS INTEGER))
  AND d.status IN ('late', 'missing', 'unverified')
  AND (:province = '' OR a.province = :province)
ORDER BY CASE d.status WHEN 'missing' THEN 0 WHEN 'late' THEN 1 ELSE 2 END, d.days_late DESC, a.province, a.city, a.name

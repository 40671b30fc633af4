-- title: 数据不一致 / Numbers that do not add up
-- description: 检查未通过的报告：规则、说明，以及所涉单元格在报告中的数值（年度、省份可留空）。 Reports with failing consistency checks: the rule, its message, and the values of the cells involved as the report printed them (year and province optional).
SELECT
    f.report_id,
    r.agency_name AS agency,
    r.province,
    r.year,
    f.rule,
    f.severity,
    f.message,
    (
        SELECT group_concat(k.label || '：' || coalesce(c.raw, '（缺）'), '；')
        FROM json_each(f.cells) j
        JOIN cell_keys k ON k.key = j.value
        LEFT JOIN cells c ON c.report_id = f.report_id AND c.key_id = k.id
    ) AS cell_values,
    f.data AS numbers,
    '/-/original/' || r.sha256 AS original,
    r.source_url
FROM reports r
CROSS JOIN findings f ON f.report_id = r.id  -- CROSS: start from the failing reports, not all findings
WHERE r.failing_checks > 0  -- the few reports with a failure, through the partial index reports_failing
  AND f.status = 'fail'
  AND f.rule NOT LIKE 'parse.%'
  AND (:year = '' OR r.year = CAST(:year AS INTEGER))
  AND (:province = '' OR r.province = :province)
ORDER BY r.year DESC, r.province, r.agency_name, f.rule
LIMIT 1000

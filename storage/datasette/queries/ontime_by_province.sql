-- title: 按省份的按时发布率 / On-time rate by province
-- description: 各省份机关的按时发布率（年度可留空为全部年度）。 On-time rate of each province's agencies (year optional).
SELECT
    coalesce(a.province, '（未知）') AS province,
    sum(d.status = 'on_time') AS on_time,
    sum(d.status = 'late') AS late,
    sum(d.status = 'missing') AS missing,
    round(100.0 * sum(d.status = 'on_time') / nullif(sum(d.status IN ('on_time', 'late', 'missing')), 0), 1) AS on_time_rate
FROM deadline_status d
JOIN agencies a ON a.id = d.agency_id
WHERE :year = '' OR d.year = CAST(:year AS INTEGER)
GROUP BY 1
ORDER BY on_time_rate DESC, province

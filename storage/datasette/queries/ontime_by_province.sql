-- title: 按省份的按时发布率 / On-time rate by province
-- description: 各省份机关的按时发布率（年度可留空为全部年度）。 On-time rate of each province's agencies (year optional).
SELECT
    coalesce(a.province, '（未知）') AS province,
    sum(d.on_time) AS on_time,
    sum(d.late) AS late,
    sum(d.missing) AS missing,
    round(100.0 * sum(d.on_time) / nullif(sum(d.on_time + d.late + d.missing), 0), 1) AS on_time_rate
FROM (
    -- per agency first: one agencies lookup per agency, not per decision
    SELECT agency_id, sum(status = 'on_time') AS on_time, sum(status = 'late') AS late, sum(status = 'missing') AS missing
    FROM deadline_status
    WHERE :year = '' OR year = CAST(:year AS INTEGER)
    GROUP BY agency_id
) d
JOIN agencies a ON a.id = d.agency_id
GROUP BY 1
ORDER BY on_time_rate DESC, province

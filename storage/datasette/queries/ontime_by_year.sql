-- title: 按年度的按时发布率 / On-time rate by year
-- description: 每个报告年度按时、逾期、未发布的机关数与按时发布率（不含尚未到期的）。 Per report year: agencies on time, late and missing, and the on-time rate (pending ones excluded).
SELECT
    year,
    sum(status = 'on_time') AS on_time,
    sum(status = 'late') AS late,
    sum(status = 'missing') AS missing,
    sum(status = 'pending') AS pending,
    round(100.0 * sum(status = 'on_time') / nullif(sum(status IN ('on_time', 'late', 'missing')), 0), 1) AS on_time_rate
FROM deadline_status
GROUP BY year
ORDER BY year

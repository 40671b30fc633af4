-- title: 机关历年对比 / One agency, every year
-- description: 一个机关各年度报告的关键数字并列对比；“上年结转下年”一栏为上一年报告的结转数，应等于本年的“上年结转”。 One agency's key figures for every report year side by side; prev_carry_forward is last year's carried-forward count, which should equal this year's carried_over.
SELECT
    year,
    report_id,
    new_requests,
    carried_over,
    lag(carry_forward) OVER (ORDER BY year) AS prev_carry_forward,
    granted,
    partial,
    refused,
    unable,
    not_processed,
    other_handling,
    handled_total,
    carry_forward,
    reviews,
    lawsuits,
    failing_checks,
    check_status,
    deadline_status,
    published_at,
    published_source,
    template,
    version,
    original
FROM report_summary
WHERE agency = :agency
ORDER BY year

"""Every rule's Chinese title, in one table: what alerts, pages and messages call a rule.

Rule ids are stable (stored in the archive and in alert fingerprints). The rule families that are about what
an agency published, as opposed to how xxgk read the file, are DATA_RULE_PREFIXES.
"""

from __future__ import annotations

from crawler.rules.cross_year import CARRY_RULE, PREV_COUNT_RULE
from crawler.rules.identities import BALANCE, RESULT_ROWS, REVIEW_TOTAL, ROW_TOTAL
from crawler.rules.narrative import PERCENT_RULE
from crawler.rules.period import RULE as PERIOD_RULE

DATA_RULE_PREFIXES = ("sum.", "text.", "meta.", "template.", "cross_year.")

RULE_TITLES = {
    BALANCE: "表三勾稽关系（一+二=三(七)+四）",
    ROW_TOTAL: "表三各行总计=各类申请人之和",
    RESULT_ROWS: "表三办理结果（一）至（六）之和=（七）总计",
    REVIEW_TOTAL: "表四行政复议、行政诉讼总计=维持+纠正+其他+尚未审结",
    "text.applications": "正文所述申请数与表格不符",
    "text.review_litigation": "正文所述复议、诉讼数与表格不符",
    PERCENT_RULE: "正文所述公开比例与表格不符",
    PERIOD_RULE: "报告年度与统计期限不符",
    "template.year_mismatch": "表格格式与报告年度不符",
    CARRY_RULE: "上年结转数与上年报告不符",
    PREV_COUNT_RULE: "上一年项目数量与上年报告不符",
}


# Crawler-health events that are not rules of a report, titled in the same table.
COLUMN_MOVED = "health.column_moved"
HEALTH_TITLES = {
    COLUMN_MOVED: "年报栏目地址已变更",  # a portal's 年报 column moved and was found again from its home page
}
RULE_TITLES.update(HEALTH_TITLES)


def rule_title(rule: str) -> str:
    return RULE_TITLES.get(rule, rule)

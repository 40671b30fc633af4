"""Datasette metadata for the archive: what each table and column means (中文 / English), the
facets a journalist starts from, and the canned queries (one .sql file each in queries/)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

PACKAGE = resources.files("storage.datasette")
PLUGINS_DIR = Path(str(PACKAGE / "plugins"))
TEMPLATES_DIR = Path(str(PACKAGE / "templates"))

# Canned queries in the order the database page lists them.
QUERIES = (
    "late_or_missing",
    "inconsistent",
    "agency_years",
    "recently_changed",
    "search",
    "ontime_by_year",
    "ontime_by_province",
    "requests_by_year",
)

_FIGURE_COLUMNS = {
    "new_requests": "本年新收申请（总计）/ New requests received this year",
    "carried_over": "上年结转申请 / Requests carried over from last year",
    "granted": "予以公开 / Granted",
    "partial": "部分公开 / Partly granted",
    "refused": "不予公开（各项合计）/ Refused (all grounds)",
    "unable": "无法提供（各项合计）/ Could not be provided (all grounds)",
    "not_processed": "不予处理（各项合计）/ Not processed (all grounds)",
    "other_handling": "其他处理 / Handled otherwise",
    "handled_total": "办理结果总计 / Total handled",
    "carry_forward": "结转下年度继续办理 / Carried forward to next year",
    "reviews": "行政复议（总计）/ Administrative reviews",
    "lawsuits": "行政诉讼（未经复议直接起诉 + 复议后起诉）/ Lawsuits (direct + after review)",
    "failing_checks": "未通过的检查数 / Number of failing checks",
}
_REPORT_COLUMNS = {
    "agency": "机关 / Agency",
    "province": "省份 / Province",
    "city": "城市 / City",
    "county": "区县 / County",
    "level": "层级 / Administrative level",
    "kind": "类型：部门（1月31日前）或政府（3月31日前）/ Kind: department (due Jan 31) or government (due Mar 31)",
    "year": "报告年度 / Report year",
    "title": "标题 / Title",
    "template": "表格格式：2019版或2021版 / Template format: 2019 or 2021",
    "published_at": "发布日期 / Publication date",
    "published_source": "发布日期的来源：page_meta 页面元数据、visible 页面上的发布时间、url 网址中的日期、last_modified HTTP头、first_seen 首次发现、manual 人工 / Where the date came from",
    "deadline": "法定截止日期 / Statutory deadline",
    "deadline_status": "发布期限状态：on_time 按时、late 逾期、missing 未发布、pending 未到期、unchecked 未检查 / Deadline status",
    "days_late": "逾期天数 / Days late",
    "check_status": "检查状态：pass 通过、fail 有未通过项、unchecked 未检查、unparsed 无法解析 / Check status",
    "parse_status": "解析状态 / Parse status (ok, failed)",
    "parse_reason": "无法解析的原因 / Why the file could not be parsed",
    "version": "当前版本号（内容变化后加一）/ Current version (increases when the document changes)",
    "changed_at": "当前版本归档时间 / When the current version was archived",
    "last_seen": "最近一次在网站上看到 / Last seen on the portal",
    "source_url": "原件网址 / URL of the document",
    "original": "归档原件（点击下载）/ Archived original (click to download)",
    **_FIGURE_COLUMNS,
}


def _table(description: str, columns: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    return {"description": description, **({"columns": columns} if columns else {}), **options}


TABLES: dict[str, dict[str, Any]] = {
    "report_summary": _table(
        "报告一览：每份报告一行，含关键数字、发布期限与检查状态。从这里开始。 One row per report with its key figures, deadline and check status. Start here.",
        {"report_id": "报告编号 / Report id", **_REPORT_COLUMNS},
        facets=["province", "city", "year", "template", "deadline_status", "check_status"],
        fts_table="reports_fts",
        fts_pk="report_id",
        sort_desc="report_id",
    ),
    "reports": _table(
        "年度报告：每个机关每个年度一行，指向最新版本的原件。 Annual reports: one row per agency and year, pointing at the latest version.",
        {
            "identity": "报告的唯一标识：机关+年度，或未知时的网址 / The report's identity: agency+year, or its URL while unknown",
            "agency_id": "机关 / Agency",
            "agency_parsed": "报告文本中的机关名 / Agency as the document names it",
            "year_parsed": "报告文本中的年度 / Year as the document states it",
            "page_url": "发布页面 / Page that links the document",
            "portal_id": "门户网站 / Portal",
            "sha256": "原件的SHA-256 / SHA-256 of the original",
            "format": "文件格式（按内容识别）/ File format, sniffed from content",
            "pages": "页数 / Pages",
            "signed_date": "落款日期 / Date signed at the end of the report",
            "published_candidates": "各来源给出的发布日期 / Publication date from each source",
            "first_seen": "首次发现 / First seen",
            "parse_message": "解析失败的详细说明 / Parse failure details",
            "cells_count": "读出的表格单元格数 / Template cells read",
            "checked_at": "最近一次检查 / Last checked",
            **_REPORT_COLUMNS,
        },
        facets=["year", "template", "parse_status"],
        fts_table="reports_fts",
        fts_pk="id",
        label_column="title",
        sort_desc="id",
    ),
    "agencies": _table(
        "机关：应当发布年度报告的行政机关。 Agencies that must publish an annual report.",
        {
            "name": "机关名称 / Name",
            "deadline_override": "地方规定的截止日（MM-DD）/ Local deadline override (MM-DD)",
            "first_year": "应发布报告的首个年度 / First report year expected",
            "listing_url": "年报栏目页面 / Listing page of annual reports",
            "in_registry": "是否在登记表中 / Declared in the registry",
            **{k: _REPORT_COLUMNS[k] for k in ("province", "city", "county", "level", "kind")},
        },
        facets=["province", "kind", "level"],
        label_column="name",
    ),
    "portals": _table("门户网站：爬虫访问的政府网站。 Portals the crawler visits.", label_column="name"),
    "documents": _table(
        "原件：按内容（SHA-256）去重保存的文件，从不改写。 Originals, stored once by content hash and never rewritten.",
        {
            "link": "下载原件 / Download the original",
            "path": "在文档目录中的位置 / Path in the document folder",
            "url": "首次获取的网址 / Where first fetched",
            "fetched_at": "首次获取时间 / First fetched at",
        },
        facets=["format"],
    ),
    "document_urls": _table(
        "网址：每个网址最近一次返回的内容。 What each URL served when last fetched (for incremental crawling)."
    ),
    "cells": _table(
        "表格单元格：报告中每个模板单元格的数值与原文。 Template cells: each value as a number and as printed.",
        {
            "value": "数值（空白、“—”“/”“无”为空）/ Value (blank, —, / and 无 are empty)",
            "raw": "原文 / As printed",
            "unit": "单位 / Unit",
        },
    ),
    "cell_values": _table(
        "单元格（可读）：单元格连同机关、年度和中文标签。 Cells with agency, year and their Chinese label."
    ),
    "cell_keys": _table("单元格目录：模板中的每个单元格。 Every cell of the national templates.", label_column="key"),
    "findings": _table(
        "检查结果：解析与一致性检查的发现。 Findings of parsing and consistency checks.",
        {
            "scope": "来源：parse 解析、checks 检查… / Who wrote it",
            "rule": "规则编号 / Rule id",
            "status": "pass 通过、fail 未通过、not_assessable 无法判断、info 提示 / Status",
            "cells": "涉及的单元格 / Cells involved",
            "data": "涉及的数字 / Numbers involved",
            "fingerprint": "用于去重提醒的指纹 / Fingerprint for alert deduplication",
        },
        facets=["status", "rule", "severity"],
    ),
    "report_versions": _table(
        "版本：报告原件每一次内容变化。 Every distinct document seen for a report.",
        {"figures": "该版本的关键数字 / Key figures of this version"},
    ),
    "report_texts": _table("全文：报告的文字内容。 Full text of each report."),
    "deadline_status": _table(
        "发布期限：每个机关每个年度是否按时发布，以及证据。 Deadline status for each agency and year, with evidence.",
        {
            "status": _REPORT_COLUMNS["deadline_status"],
            "pages_checked": "检查过的页面 / Pages checked",
            "evidence_id": "证据（截图）/ Evidence (screenshot)",
        },
        facets=["year", "status"],
    ),
    "evidence": _table("证据：检查时保存的列表页截图等。 Evidence kept at check time, e.g. listing-page screenshots."),
    "alerts": _table(
        "提醒：每个指纹只发送一次，状态变化时再次发送。 Alerts: sent once per fingerprint, again on a change of state.",
        facets=["kind", "state", "delivery_status"],
    ),
    "alert_deliveries": _table("提醒发送记录 / Delivery attempts of alerts."),
    "crawl_runs": _table("采集运行记录 / Crawl runs.", facets=["status"], sort_desc="id"),
    "crawl_portal_status": _table(
        "每次运行中各网站的结果 / Each portal's outcome in a run.", facets=["status", "portal_id"]
    ),
    "reports_fts": {"hidden": True},
}


def canned_queries() -> dict[str, dict[str, Any]]:
    """queries/<name>.sql → {sql, title, description}; the header comments hold title and description."""
    out: dict[str, dict[str, str]] = {}
    for name in QUERIES:
        text = (PACKAGE / "queries" / f"{name}.sql").read_text(encoding="utf-8")
        header = {}
        for line in text.splitlines():
            if not line.startswith("-- "):
                break
            key, _, value = line[3:].partition(":")
            header[key.strip()] = value.strip()
        sql = "\n".join(line for line in text.splitlines() if not line.startswith("-- "))
        # hide_sql: journalists see the question and its answer; "show" is one click away.
        out[name] = {"sql": sql, "title": header["title"], "description": header["description"], "hide_sql": True}
    return out


def metadata(database: str) -> dict[str, Any]:
    return {
        "title": "xxgk 政府信息公开工作年度报告档案",
        "description_html": (
            "政府信息公开工作年度报告的归档、数字与检查。记者请从 <a href='/'>首页：五个问题</a> 开始；"
            f"熟悉 SQL 的读者可从 <a href='/{database}/report_summary'>报告一览</a> 或下面的查询开始。"
            "<br>Archive of Chinese government open-information annual reports: the newsroom is at <a href='/'>/</a>, "
            f"the tables start at the <a href='/{database}/report_summary'>report summary</a>."
        ),
        "databases": {database: {"tables": TABLES, "queries": canned_queries()}},
    }

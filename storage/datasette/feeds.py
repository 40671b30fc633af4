"""Atom feeds (RFC 4287) and Excel CSV of the newsroom lists, with absolute links to the pages behind each row.

Atom is written with ElementTree (every scraped string escaped by it); an empty list is a valid feed with no
entries. The CSV starts with a UTF-8 BOM, which Excel on Chinese Windows needs to read UTF-8 as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

from storage import newsroom
from storage.datasette import labels

ATOM = "http://www.w3.org/2005/Atom"
BOM = "\ufeff"
FEEDS = {
    "late": "逾期与未公开的年度报告",
    "inconsistent": "数字对不上的年度报告",
    "changed": "发布后被修改的年度报告",
}
EPOCH = "1970-01-01T00:00:00Z"


def _stamp(value: str | None) -> str:
    """An RFC 3339 timestamp (Atom's date-time) from the archive's ISO UTC text or a bare date."""
    if not value:
        return EPOCH
    return f"{value}T00:00:00Z" if len(value) == 10 else value


def _entries(kind: str, rows: list[dict], base: str) -> list[dict]:
    out = []
    for r in rows:
        if kind == "late":
            link = f"{base}/-/report/{r['report_id']}" if r["report_id"] else f"{base}/-/agency?id={r['agency_id']}"
            verdict = labels.status_label(r["status"])
            days = f"，逾期{r['days_late']}天" if r["status"] == "late" else ""
            out.append({
                "id": f"{base}/-/agency?id={r['agency_id']}#year-{r['year']}-{r['status']}",
                "title": f"【{verdict}】{r['agency']} {r['year']}年度报告",
                "updated": _stamp(r["checked_at"]),
                "summary": f"{r['agency']}（{r['province'] or ''}）{r['year']}年度报告{verdict}：截止日期{r['deadline']}{days}。",
                "link": link,
            })
        elif kind == "inconsistent":
            out.append({
                "id": f"{base}/-/report/{r['report_id']}#findings",
                "title": f"【数据不一致】{r['agency']} {r['year']}年度报告（{r['failing_checks']}项）",
                "updated": _stamp(r["updated"]),
                "summary": r["messages"] or "",
                "link": f"{base}/-/report/{r['report_id']}#findings",
            })
        else:
            out.append({
                "id": f"{base}/-/changes/{r['report_id']}/{r['version']}",
                "title": f"【发布后修改】{r['agency']} {r['year']}年度报告 第{r['version']}版",
                "updated": _stamp(r["seen_at"]),
                "summary": f"{r['agency']} {r['year']}年度报告于{labels.beijing(r['seen_at'])}出现第{r['version']}版。",
                "link": f"{base}/-/changes/{r['report_id']}/{r['version']}",
            })
    return out


def feed_rows(conn, kind: str, province: str) -> list[dict]:
    fetch = {"late": newsroom.feed_deadlines, "inconsistent": newsroom.feed_inconsistent, "changed": newsroom.feed_changes}
    return fetch[kind](conn, province)


def atom(kind: str, rows: list[dict], base: str, self_url: str, province: str = "") -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent, tag, text=None, **attrs):
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    entries = _entries(kind, rows, base)
    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", FEEDS[kind] + (f"（{province}）" if province else ""))
    sub(feed, "updated", max((e["updated"] for e in entries), default=EPOCH))
    sub(feed, "link", href=self_url, rel="self")
    sub(feed, "link", href=f"{base}/", rel="alternate")
    author = sub(feed, "author")
    sub(author, "name", "xxgk 政府信息公开年报监测")
    for e in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", e["id"])
        sub(entry, "title", e["title"])
        sub(entry, "updated", e["updated"])
        sub(entry, "link", href=e["link"], rel="alternate")
        sub(entry, "summary", e["summary"])
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


# --- Excel CSV -----------------------------------------------------------------------------------------------

CSV_KINDS = ("deadlines", "inconsistent", "changes", "reports")


def csv_rows(conn, kind: str, year: int | None, province: str, base: str) -> tuple[list[str], list[list]]:
    """The header (Chinese) and every row of a list, links absolute."""
    if kind == "deadlines":
        rows = newsroom.deadlines(conn, year, province)
        header = ["机关", "省份", "城市", "年度", "状态", "截止日期", "逾期天数", "发布日期", "发布日期来源", "未能核实的原因", "报告页面", "机关页面"]
        return header, [[
            r["agency"], r["province"], r["city"], r["year"], labels.status_label(r["status"]), r["deadline"],
            r["days_late"], r["published_at"], labels.DATE_SOURCE.get(r["published_source"] or "", ""),
            labels.UNVERIFIED_REASON.get(r["reason"] or "", ""),
            f"{base}/-/report/{r['report_id']}" if r["report_id"] else "", f"{base}/-/agency?id={r['agency_id']}",
        ] for r in rows]
    if kind == "inconsistent":
        rows = newsroom.inconsistent(conn, year, province)
        header = ["机关", "省份", "年度", "检查结果", "报告页面"]
        return header, [[r["agency"], r["province"], r["year"], r["message"],
                         f"{base}/-/report/{r['report_id']}#finding-{r['finding_id']}"] for r in rows]
    if kind == "changes":
        rows = newsroom.changes(conn, year, province, limit=100_000)
        header = ["机关", "省份", "年度", "版本", "发现时间（北京时间）", "修改对比页面", "原件网址"]
        return header, [[r["agency"], r["province"], r["year"], r["version"], labels.beijing(r["seen_at"]),
                         f"{base}/-/changes/{r['report_id']}/{r['version']}", r["source_url"]] for r in rows]
    rows = newsroom.summary_rows(conn, year, province)
    header = ["机关", "省份", "城市", "年度", "发布日期", "发布期限", "逾期天数", "检查", "本年新收申请", "予以公开",
              "部分公开", "不予公开", "行政复议", "行政诉讼", "报告页面", "原件"]
    return header, [[
        r["agency"], r["province"], r["city"], r["year"], r["published_at"], labels.status_label(r["deadline_status"]),
        r["days_late"], labels.CHECK_STATUS.get(r["check_status"], r["check_status"]), r["new_requests"], r["granted"],
        r["partial"], r["refused"], r["reviews"], r["lawsuits"], f"{base}/-/report/{r['report_id']}", f"{base}{r['original']}",
    ] for r in rows]


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else (json.dumps(v) if isinstance(v, (list, dict)) else v) for v in row])
    return out.getvalue().encode("utf-8")

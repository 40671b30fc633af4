"""The newsroom pages: one handler per question a journalist asks, each reading the archive through
storage/newsroom.py and rendering a template of storage/datasette/templates/ (the xxgk plugin routes them).

Every page is Chinese first, takes its year and province from the query string (the latest due year by
default), and links to the pages behind its figures; the lists offer the same rows as Excel CSV and Atom.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, urlencode

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from storage import newsroom
from storage.datasette import grid, labels
from storage.datasette.text import diff_html, highlight, narrative_hit, narrative_lines, section_diffs, sections
from storage.search import fts_query

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8001"
SHOWN = 200  # rows a list page shows; its CSV has every row
SEARCHED = 150  # the newest reports holding the words that search ranks by their narrative


def archive_db(datasette):
    for db in datasette.databases.values():
        if db.path and not db.is_memory:
            return db
    raise NotFound("no archive database is being served")


async def q(datasette, fn, *args, **kwargs):
    """Run a storage.newsroom query on Datasette's read-only connection, in its thread."""
    return await archive_db(datasette).execute_fn(lambda conn: fn(conn, *args, **kwargs))


def public_url(request) -> str:
    """Base of absolute links (feeds, CSV): $XXGK_PUBLIC_URL, else the address this request came to."""
    configured = os.environ.get("XXGK_PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.host}" if request is not None else DEFAULT_PUBLIC_URL


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


async def _filters(request, datasette) -> dict[str, Any]:
    """year (the latest due year unless the picker says 全部 or another), province, and the pickers' options."""
    years = await q(datasette, newsroom.years)
    latest = await q(datasette, newsroom.latest_due_year)
    raw_year = request.args.get("year")
    year = latest if raw_year is None else (None if raw_year == "all" else _int(raw_year))
    province = request.args.get("province", "")
    return {
        "year": year,
        "province": province,
        "years": years,
        "latest_due_year": latest,
        "provinces": await q(datasette, newsroom.provinces),
    }


def _query(**params) -> str:
    return "?" + urlencode({k: ("all" if k == "year" and v is None else v) for k, v in params.items() if v != ""})


async def render(datasette, request, template: str, **context) -> Response:
    context.setdefault("title", "政府信息公开年报监测")
    base = {"labels": labels, "query": _query, "database": archive_db(datasette).name}
    return Response.html(await datasette.render_template(template, {**base, **context}, request=request))


# --- the front page ------------------------------------------------------------------------------------------


async def front(request, datasette):
    f = await _filters(request, datasette)
    year, province = f["year"], f["province"]
    counts = await q(datasette, newsroom.deadline_counts, year, province) if year else {}
    questions = [
        {
            "ask": "谁逾期或未公开？", "en": "Who is overdue, or has not published?",
            "href": "/-/deadlines" + _query(year=year, province=province),
            "count": sum(counts.get(s, 0) for s in newsroom.ATTENTION),
            "detail": "、".join(f"{labels.status_label(s)} {counts.get(s, 0)}" for s in newsroom.ATTENTION),
        },
        {
            "ask": "谁的数字对不上？", "en": "Whose numbers do not add up?",
            "href": "/-/inconsistent" + _query(year=year, province=province),
            "count": await q(datasette, newsroom.inconsistent_count, year, province) if year else 0,
            "detail": "表格数字之间的勾稽关系不成立的报告",
        },
        {"ask": "某个机关历年怎么样？", "en": "One agency over the years", "form": "/-/agency", "name": "q", "placeholder": "机关名称的一部分，如：沈阳"},
        {
            "ask": "发布后改了什么？", "en": "What changed after publication?",
            "href": "/-/changes" + _query(year=year, province=province),
            "count": await q(datasette, newsroom.changed_count, year, province),
            "detail": "发布后内容被修改的报告（新版本）",
            # an edit may come years after publication: every year's count is one click away
            "all": ("/-/changes" + _query(year=None, province=province),
                    await q(datasette, newsroom.changed_count, None, province)),
        },
        {"ask": "全文搜索", "en": "Search the reports", "form": "/-/search", "name": "q", "placeholder": "如：行政复议、依申请公开", "year": year},
    ]
    return await render(
        datasette,
        request,
        "xxgk_front.html",
        title="政府信息公开年报监测",
        filters=f,
        questions=questions,
        counts=counts,
        coverage=await q(datasette, newsroom.coverage),
    )


# --- deadlines -----------------------------------------------------------------------------------------------


def _verdict(row: dict) -> dict:
    """A deadline row in words: the verdict, how late, where the date came from, why it is unverified."""
    status = row["status"]
    words = labels.status_label(status)
    if status == "late":
        words += f" {row['days_late']} 天"
    elif status == "missing" and row.get("days_late") is not None:
        words += f"（已过截止日期 {row['days_late']} 天）"
    source = labels.DATE_SOURCE.get(row.get("published_source") or "", "")
    return {
        **row,
        "verdict": words,
        "date_source": source,
        "reason_words": labels.UNVERIFIED_REASON.get(row.get("reason") or "", ""),
        "pages": json.loads(row["pages_checked"]) if row.get("pages_checked") else [],
    }


async def deadlines(request, datasette):
    f = await _filters(request, datasette)
    wanted = request.args.get("status")
    statuses = (wanted,) if wanted in labels.DEADLINE_STATUS else newsroom.ATTENTION
    shown = [_verdict(r) for r in await q(datasette, newsroom.deadlines, f["year"], f["province"], statuses, SHOWN)]
    total = await q(datasette, newsroom.deadline_total, f["year"], f["province"], statuses)
    proofs = await q(datasette, newsroom.evidence_sets, [r["evidence_id"] for r in shown if r["evidence_id"]])
    for row in shown:
        row["evidence"] = proofs.get(row["evidence_id"], [])
    return await render(
        datasette,
        request,
        "xxgk_deadlines.html",
        title=f"谁逾期或未公开？{f['year'] or '全部'}年度报告",
        filters=f,
        rows=shown,
        more=max(total - len(shown), 0),
        total=total,
        status=wanted if wanted in labels.DEADLINE_STATUS else "",
        csv="/-/csv/deadlines.csv" + _query(year=f["year"], province=f["province"]),
        feed="/-/feeds/late.atom" + _query(province=f["province"]),
    )


# --- inconsistent --------------------------------------------------------------------------------------------


async def inconsistent(request, datasette):
    f = await _filters(request, datasette)
    names = await q(datasette, newsroom.cell_labels)
    rows = await q(datasette, newsroom.inconsistent, f["year"], f["province"])
    shown, more = rows[:SHOWN], len(rows) - SHOWN
    wanted = [(r["report_id"], json.loads(r["cells"] or "[]")) for r in shown]
    for row, (_, keys), cells in zip(shown, wanted, await q(datasette, newsroom.printed, wanted), strict=True):
        row["printed"] = [(names.get(k, k), "（缺）" if cells[k] is None else (cells[k] or "空白")) for k in keys]
    return await render(
        datasette,
        request,
        "xxgk_inconsistent.html",
        title=f"谁的数字对不上？{f['year'] or '全部'}年度报告",
        filters=f,
        rows=shown,
        more=max(more, 0),
        total=len(rows),
        csv="/-/csv/inconsistent.csv" + _query(year=f["year"], province=f["province"]),
        feed="/-/feeds/inconsistent.atom" + _query(province=f["province"]),
    )


# --- one report ----------------------------------------------------------------------------------------------


def download_name(agency: str | None, year: int | None, extension: str) -> str:
    """机关_年度_报告.ext, the name a journalist files an original under."""
    return f"{agency or '未知机关'}_{year or '未知'}年度_政府信息公开工作年度报告.{extension}"


async def report(request, datasette):
    report_id = int(request.url_vars["report_id"])
    row = await q(datasette, newsroom.report, report_id)
    if row is None:
        raise NotFound("没有这份报告 / no such report")
    found = await q(datasette, newsroom.findings, report_id)
    failing = [f for f in found if f["status"] == "fail"]
    marks: dict[str, list[int]] = {}
    for number, finding in enumerate(failing, 1):
        finding["number"] = number
        for key in json.loads(finding["cells"] or "[]"):
            marks.setdefault(key, []).append(number)
    cells = await q(datasette, newsroom.cells, report_id)
    text = await q(datasette, newsroom.full_text, report_id)
    versions = await q(datasette, newsroom.versions, report_id)
    verdict = None
    if row["verdict"]:
        verdict = _verdict(
            {
                "status": row["verdict"],
                "days_late": row["verdict_days"],
                "published_source": row["verdict_source"],
                "pages_checked": None,
                "reason": None,
            }
        )
    evidence = await q(datasette, newsroom.evidence_pages, row["evidence_id"]) if row["evidence_id"] else []
    return await render(
        datasette,
        request,
        "xxgk_report.html",
        title=f"{row['agency'] or row['agency_parsed'] or '未知机关'} {row['year'] or ''}年度政府信息公开工作年度报告",
        r=row,
        tables=grid.tables(row["template"], cells, marks),
        failing=failing,
        notes=[f for f in found if f["status"] in ("not_assessable", "info")],
        passed=sum(1 for f in found if f["status"] == "pass"),
        sections=[(s.heading, "\n".join(narrative_lines(s.text))) for s in sections(text)],
        verdict=verdict,
        evidence=evidence,
        versions=versions,
        original=f"/-/original/{row['sha256']}",
        original_name=download_name(row["agency"], row["year"], row["format"] or "bin"),
        public=public_url(request),
    )


# --- one agency ----------------------------------------------------------------------------------------------

TREND = (("new_requests", "新收申请"), ("granted", "予以公开"), ("partial", "部分公开"), ("refused", "不予公开"),
         ("reviews", "行政复议"), ("lawsuits", "行政诉讼"))
FIGURES = (
    ("new_requests", "本年新收申请"), ("carried_over", "上年结转"), ("granted", "予以公开"), ("partial", "部分公开"),
    ("refused", "不予公开"), ("unable", "无法提供"), ("not_processed", "不予处理"), ("other_handling", "其他处理"),
    ("handled_total", "办理结果总计"), ("carry_forward", "结转下年度"), ("reviews", "行政复议"), ("lawsuits", "行政诉讼"),
)


async def agency(request, datasette):
    from storage.datasette.charts import line_chart

    text = request.args.get("q", "").strip()
    agency_id = _int(request.args.get("id"))
    matches = await q(datasette, newsroom.agencies_matching, text) if text and agency_id is None else []
    if agency_id is None and len(matches) == 1:
        agency_id = matches[0]["id"]
    if agency_id is None:
        records = await q(datasette, newsroom.agency_records, [m["id"] for m in matches])
        for m in matches:  # each match with its record, so 沈阳 shows both 沈阳 agencies at a glance
            m["record"] = [_verdict(d) for d in records[m["id"]]]
        return await render(
            datasette, request, "xxgk_agencies.html", title=f"机关：{text or '按名称查找'}", text=text, matches=matches
        )
    found = await q(datasette, newsroom.agency, agency_id)
    if found is None:
        raise NotFound("没有这个机关 / no such agency")
    reports = await q(datasette, newsroom.agency_reports, agency_id)
    record = [_verdict(d) for d in await q(datasette, newsroom.agency_deadlines, agency_id)]
    years = sorted({r["year"] for r in reports if r["year"]} | {d["year"] for d in record})
    by_year = {r["year"]: r for r in reports}
    chart = line_chart(
        "历年依申请公开情况（件）", [str(y) for y in years],
        [(label, [by_year.get(y, {}).get(key) for y in years]) for key, label in TREND],
    )
    return await render(
        datasette,
        request,
        "xxgk_agency.html",
        title=f"{found['name']}：历年年度报告",
        a=found,
        years=years,
        by_year=by_year,
        figures=FIGURES,
        record={d["year"]: d for d in record},
        chart=Markup(chart),
        text=text,
    )


# --- what changed --------------------------------------------------------------------------------------------


async def changes(request, datasette):
    f = await _filters(request, datasette)
    if request.args.get("year") is None:
        f["year"] = None  # an edit can come years after publication: every year unless asked
    rows = await q(datasette, newsroom.changes, f["year"], f["province"])
    return await render(
        datasette,
        request,
        "xxgk_changes.html",
        title="发布后改了什么？",
        filters=f,
        rows=rows,
        csv="/-/csv/changes.csv" + _query(year=f["year"], province=f["province"]),
        feed="/-/feeds/changed.atom" + _query(province=f["province"]),
    )


async def change(request, datasette):
    report_id, number = int(request.url_vars["report_id"]), int(request.url_vars["version"])
    row = await q(datasette, newsroom.report, report_id)
    new = await q(datasette, newsroom.version, report_id, number)
    old = await q(datasette, newsroom.version, report_id, number - 1)
    if row is None or new is None or old is None:
        raise NotFound("没有这个版本 / no such version")
    current = row["version"] == number
    after = await q(datasette, newsroom.cells, report_id, None if current else number)
    before = await q(datasette, newsroom.cells, report_id, number - 1) if old["kept"] else {}
    names = await q(datasette, newsroom.cell_labels)
    changed = [
        {"label": names.get(k, k), "before": (before.get(k) or {}).get("raw", "（缺）"),
         "after": (after.get(k) or {}).get("raw", "（缺）"), "key": k}
        for k in sorted(set(before) | set(after), key=lambda k: list(names).index(k) if k in names else 0)
        if (before.get(k) or {}).get("raw") != (after.get(k) or {}).get("raw")
    ] if before else []
    old_text = await q(datasette, newsroom.version_text, report_id, number - 1) or ""
    new_text = await q(datasette, newsroom.version_text, report_id, number) or ""
    return await render(
        datasette,
        request,
        "xxgk_change.html",
        title=f"{row['agency']} {row['year']}年度报告：第{number - 1}版 → 第{number}版改了什么",
        r=row,
        old=old,
        new=new,
        changed=changed,
        kept=bool(old["kept"]),
        sections=section_diffs(old_text, new_text) if old_text or new_text else [],
        whole=diff_html(old_text, new_text) if not sections(new_text) else None,
    )


# --- search --------------------------------------------------------------------------------------------------


async def search(request, datasette):
    text = request.args.get("q", "").strip()
    year = _int(request.args.get("year"))
    province, kind = request.args.get("province", ""), request.args.get("kind", "")
    hits, labels_only = [], 0
    terms = text.split()
    if terms:
        rows = await q(datasette, newsroom.search_candidates, fts_query(text), year, province, kind, SEARCHED)
        for row in rows:
            hit = narrative_hit(row.pop("full_text"), terms)
            if hit.in_labels_only:
                labels_only += 1
                continue
            hits.append({**row, "score": hit.score, "snippet": hit.snippet})
        hits.sort(key=lambda h: (-h["score"], -(h["year"] or 0), h["agency"] or ""))
    return await render(
        datasette,
        request,
        "xxgk_search.html",
        title=f"全文搜索：{text}" if text else "全文搜索",
        text=text,
        year=year,
        province=province,
        kind=kind,
        years=await q(datasette, newsroom.years),
        provinces=await q(datasette, newsroom.provinces),
        hits=hits,
        labels_only=labels_only,
        searched=SEARCHED,
        title_hl=lambda s: highlight(s or "", terms),
    )


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (Chinese names reach every browser intact)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"

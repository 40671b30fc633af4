"""Silent edits and takedowns: 【发布后修改】 and 【报告被撤下】 data alerts, and their Chinese messages.

- A parsed version of a report after the first, whose numbers or prose differ from the version before it, is
  `edited`: one alert per (report, version), never repeated, with the cells that changed (before → after), the
  passages of text that changed and links to both archived originals. A new version whose content is the same
  (a page re-rendered with new navigation) says nothing.
- A report whose URL answers 404/410, or that two whole-listing crawls of its portal no longer list, is
  `taken_down`, with the archived original; once it can be found again the same alert becomes `restored`.

The decisions are crawler.rules.changes; this module reads the archive (storage's API only) and words them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from crawler.alerts import messages as msg
from crawler.alerts.events import Links
from crawler.rules.changes import CellChange, Edit, Takedown, TextChange, compare, takedown
from storage import Archive
from storage.reports import ReportPresence, ReportVersion

EDITED, TAKEN_DOWN, RESTORED = "edited", "taken_down", "restored"
CELLS_SHOWN = 12
PASSAGES_SHOWN = 5
_BEIJING = timedelta(hours=8)


def queue_change_alerts(archive: Archive, links: Links) -> Counter:
    """Record the 【发布后修改】, 【报告被撤下】 and 【报告已恢复】 alerts the archive's state calls for."""
    counts = queue_edit_alerts(archive, links)
    counts.update(queue_takedown_alerts(archive, links))
    return counts


# --- edits -------------------------------------------------------------------------------------------------
def queue_edit_alerts(archive: Archive, links: Links) -> Counter:
    counts: Counter = Counter()
    versions: dict[int, list[ReportVersion]] = {}
    for report_id, version in archive.reports.later_versions():
        fp = edit_fingerprint(report_id, version)
        if archive.alerts.get(fp) is not None:
            counts["unchanged"] += 1  # told once, never again
            continue
        if report_id not in versions:
            versions[report_id] = archive.reports.versions(report_id)
        pair = _edited_pair(versions[report_id], version)
        if pair is None:
            continue
        before, after = pair
        edit = compare(before.cells, before.text, after.cells, after.text, after.template or before.template)
        if not edit.changed:
            continue  # new bytes, same report: not an edit
        ctx = archive.alerts.report_context(report_id)
        m = edited(ctx["agency"] or "（未知机关）", ctx["year"], before, after, edit, ctx["page_url"], links)
        archive.alerts.upsert(
            fp,
            kind="data",
            state=EDITED,
            tags=_tags(ctx, "edited"),
            title=m.title,
            body=m.body,
            payload=_edit_payload(before, after, edit),
            report_id=report_id,
            agency=ctx["agency"],
            year=ctx["year"],
        )
        counts[EDITED] += 1
    return counts


def edit_fingerprint(report_id: int, version: int) -> str:
    return f"edit|{report_id}|{version}"


def _edited_pair(versions: list[ReportVersion], version: int) -> tuple[ReportVersion, ReportVersion] | None:
    """The version and the parsed one it replaced, when both kept their cells and text (a version superseded
    before the archive kept them cannot be shown before → after, and a report whose first readable version
    this is was not edited: it became readable)."""
    after = next((v for v in versions if v.version == version), None)
    earlier = [v for v in versions if v.version < version and v.parse_status == "ok"]
    if after is None or not earlier:
        return None
    before = earlier[-1]
    if before.cells is None or after.cells is None or before.text is None or after.text is None:
        return None
    return before, after


def _edit_payload(before: ReportVersion, after: ReportVersion, edit: Edit) -> dict:
    return {
        "before": {"version": before.version, "sha256": before.sha256, "seen_at": before.seen_at},
        "after": {"version": after.version, "sha256": after.sha256, "seen_at": after.seen_at},
        "cells": [{"key": c.key, "label": c.label, "before": c.before, "after": c.after} for c in edit.cells],
        "text": [{"section": t.section, "removed": t.removed, "added": t.added} for t in edit.text],
    }


# --- takedowns ---------------------------------------------------------------------------------------------
def queue_takedown_alerts(archive: Archive, links: Links) -> Counter:
    counts: Counter = Counter()
    gone_now: set[str] = set()
    for presence in archive.reports.presence():
        decision = decide(presence)
        if not decision.gone:
            continue
        fp = takedown_fingerprint(presence.report_id)
        gone_now.add(fp)
        existing = archive.alerts.get(fp)
        if existing is not None and existing.state == TAKEN_DOWN:
            counts["unchanged"] += 1
            continue
        ctx = archive.alerts.report_context(presence.report_id)
        agency = ctx["agency"] or "（未知机关）"
        m = taken_down(agency, ctx["year"], presence, decision, _entry_url(ctx), links.original(ctx["sha256"]))
        _upsert_takedown(archive, fp, TAKEN_DOWN, ctx, m, _takedown_payload(presence, decision))
        counts[TAKEN_DOWN] += 1
    for alert in archive.alerts.in_state("data", TAKEN_DOWN):
        if alert.fingerprint in gone_now or not alert.fingerprint.startswith("takedown|"):
            continue
        ctx = archive.alerts.report_context(alert.report_id)
        if ctx is None:
            continue
        m = restored(ctx["agency"] or "（未知机关）", ctx["year"], _entry_url(ctx), links.original(ctx["sha256"]))
        _upsert_takedown(archive, alert.fingerprint, RESTORED, ctx, m, {**alert.payload, "restored": True})
        counts[RESTORED] += 1
    return counts


def decide(presence: ReportPresence) -> Takedown:
    return takedown(
        listed_run=presence.listed_run,
        last_seen=presence.last_seen,
        gone_status=presence.gone_status,
        gone_at=presence.gone_at,
        runs=presence.runs,
    )


def takedown_fingerprint(report_id: int) -> str:
    return f"takedown|{report_id}"


def _upsert_takedown(archive: Archive, fp: str, state: str, ctx: dict, m: msg.Message, payload: dict) -> None:
    archive.alerts.upsert(
        fp,
        kind="data",
        state=state,
        tags=_tags(ctx, "takedown" if state == TAKEN_DOWN else "restored"),
        title=m.title,
        body=m.body,
        payload=payload,
        report_id=ctx["report_id"],
        agency=ctx["agency"],
        year=ctx["year"],
    )


def _takedown_payload(presence: ReportPresence, decision: Takedown) -> dict:
    return {
        "reason": decision.reason,
        "status": decision.status,
        "runs": list(decision.runs),
        "listed_run": presence.listed_run,
        "listed_url": presence.listed_url,
        "listing_url": presence.listing_url,
        "gone_url": presence.gone_url,
        "gone_at": presence.gone_at,
    }


def _entry_url(ctx: dict) -> str | None:
    return ctx["page_url"] or ctx["source_url"]


def _tags(ctx: dict, kind: str) -> list[str]:
    tags = ["data", kind, ctx["province"], ctx["city"], ctx["county"], ctx["agency"], ctx["portal_id"]]
    return [t for t in [*tags, ctx["agency_kind"]] if t]


# --- messages ----------------------------------------------------------------------------------------------
def _fields(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"**{name}**：{value}" for name, value in fields if value)


def _subject(agency: str, year: int | None) -> str:
    return f"{msg.escape(agency)}{year or ''}年度政府信息公开工作年度报告"


def beijing(timestamp: str | None) -> str:
    """An archive timestamp (ISO UTC) as Beijing time, the way a Chinese reader dates it."""
    if not timestamp:
        return ""
    when = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + _BEIJING
    return when.strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def edited(
    agency: str,
    year: int | None,
    before: ReportVersion,
    after: ReportVersion,
    edit: Edit,
    source_url: str | None,
    links: Links,
) -> msg.Message:
    found = f"{beijing(after.seen_at)}发现第{after.version}版，与{beijing(before.seen_at)}存档的第{before.version}版内容不同"
    return msg.Message(
        f"【发布后修改】{_subject(agency, year)}",
        _fields(
            [
                ("报告", _subject(agency, year)),
                ("发现", found),
                ("数据修改", _cell_lines(edit.cells)),
                ("文字修改", _text_lines(edit.text)),
                ("原文", msg.link("来源网页", source_url)),
                ("修改前", msg.link(f"存档原件（第{before.version}版）", links.original(before.sha256))),
                ("修改后", msg.link(f"存档原件（第{after.version}版）", links.original(after.sha256))),
            ]
        ),
    )


def _cell_lines(cells: tuple[CellChange, ...]) -> str:
    if not cells:
        return ""
    lines = [f"- {msg.escape(c.label)}：{msg.escape(c.before)} → {msg.escape(c.after)}" for c in cells[:CELLS_SHOWN]]
    more = f"\n- 另有{len(cells) - CELLS_SHOWN}处" if len(cells) > CELLS_SHOWN else ""
    return f"{len(cells)}处\n" + "\n".join(lines) + more


def _text_lines(passages: tuple[TextChange, ...]) -> str:
    if not passages:
        return ""
    lines = [f"- {msg.escape(t.section)}：{_passage(t)}" for t in passages[:PASSAGES_SHOWN]]
    more = f"\n- 另有{len(passages) - PASSAGES_SHOWN}处" if len(passages) > PASSAGES_SHOWN else ""
    return f"{len(passages)}处\n" + "\n".join(lines) + more


def _passage(t: TextChange) -> str:
    if t.removed and t.added:
        return f"“{msg.escape(t.removed)}”改为“{msg.escape(t.added)}”"
    if t.added:
        return f"新增“{msg.escape(t.added)}”"
    return f"删去“{msg.escape(t.removed)}”"


def taken_down(
    agency: str,
    year: int | None,
    presence: ReportPresence,
    decision: Takedown,
    source_url: str | None,
    archived_url: str | None,
) -> msg.Message:
    if decision.reason == "http_gone":
        state = f"原网址返回HTTP {decision.status}（{beijing(presence.gone_at)}检查），报告已无法访问"
    else:
        runs = "、".join(f"第{r}次" for r in decision.runs)
        state = f"年报栏目已不再列出该报告：此前最后一次列出后，连续{len(decision.runs)}次完整走完栏目的采集（{runs}）均未找到"
    return msg.Message(
        f"【报告被撤下】{_subject(agency, year)}",
        _fields(
            [
                ("报告", _subject(agency, year)),
                ("现状", state),
                ("原网址", msg.link("来源网页", presence.gone_url or source_url)),
                ("年报栏目", msg.link("年报栏目", presence.listing_url) if presence.listing_url else ""),
                ("存档", msg.link("撤下前的存档原件", archived_url)),
            ]
        ),
    )


def restored(agency: str, year: int | None, source_url: str | None, archived_url: str | None) -> msg.Message:
    return msg.Message(
        f"【报告已恢复】{_subject(agency, year)}",
        _fields(
            [
                ("报告", _subject(agency, year)),
                ("现状", "此前提醒为“报告被撤下”，现已重新在门户上找到该报告"),
                ("原文", msg.link("来源网页", source_url)),
                ("存档", msg.link("存档原件", archived_url)),
            ]
        ),
    )

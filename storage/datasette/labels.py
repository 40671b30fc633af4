"""The words a journalist reads instead of the archive's codes: verdicts, check states, date sources, reasons,
and times in Beijing time. One table each; the pages, the feeds, the CSV and Datasette's own tables use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "北京时间")

DEADLINE_STATUS = {
    "on_time": "按时",
    "late": "逾期",
    "missing": "未公开",
    "unverified": "未能核实",
    "pending": "待到期",
    "unmonitored": "未监测",
    "unchecked": "未检查",
}
CHECK_STATUS = {"pass": "通过", "fail": "数字对不上", "unchecked": "未检查", "unparsed": "无法解析"}
FINDING_STATUS = {"pass": "通过", "fail": "不成立", "not_assessable": "无法判断", "info": "提示"}
PARSE_STATUS = {"ok": "已解析", "failed": "无法解析"}
KIND = {"department": "部门", "government": "政府"}
TEMPLATE = {"2019": "2019年版模板", "2021": "2021年版模板"}
# Where a publication date came from, said in words (the most trustworthy first, as crawler/model.py orders them).
DATE_SOURCE = {
    "manual": "人工录入的发布日期",
    "page_meta": "网页元数据中的发布日期",
    "visible": "网页上显示的发布时间",
    "url": "网址中包含的日期",
    "last_modified": "网站服务器报告的文件修改时间（Last-Modified）",
    "first_seen": "本系统首次发现该报告的时间（实际发布可能更早）",
}
UNVERIFIED_REASON = {
    "never_crawled": "该网站尚未采集过",
    "crawl_failed": "截止日期后的采集失败（网站无法访问）",
    "listing_incomplete": "年报栏目未能完整浏览",
    "listing_unproven": "无法证实该栏目是该机关发布年报的地方",
}
RUN_STATUS = {"ok": "成功", "partial": "部分成功", "failed": "失败", "running": "进行中"}
_UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z")
_RUN_CODE = re.compile(r"（(" + "|".join(RUN_STATUS) + r")）")
# Every code above, for the test that no raw code reaches a journalist's page.
RAW_CODES = frozenset(
    {*DEADLINE_STATUS, *CHECK_STATUS, *FINDING_STATUS, *PARSE_STATUS, *KIND, *DATE_SOURCE, *UNVERIFIED_REASON,
     *RUN_STATUS}
)
# Column name → label, for the columns shown by code value in Datasette's own tables.
VALUE_LABELS = {
    "deadline_status": DEADLINE_STATUS,
    "check_status": CHECK_STATUS,
    "parse_status": PARSE_STATUS,
    "kind": KIND,
    "published_source": DATE_SOURCE,
    "reason": UNVERIFIED_REASON,
    "unverified_reason": UNVERIFIED_REASON,
}
TIME_COLUMNS = frozenset(
    {"changed_at", "last_seen", "first_seen", "checked_at", "fetched_at", "seen_at", "captured_at", "found_at",
     "stored_at", "evidence_captured_at", "started_at", "finished_at", "state_changed_at", "sent_at"}
)


def note_words(note: str | None) -> str:
    """The monitor's note on a verdict as a journalist reads it: its UTC times in Beijing time, a crawl run's
    status (ok, partial…) in words."""
    if not note:
        return ""
    note = _UTC_STAMP.sub(lambda m: beijing(m.group(0)), note)
    return _RUN_CODE.sub(lambda m: f"（{RUN_STATUS[m.group(1)]}）", note)


def status_label(code: str | None) -> str:
    return DEADLINE_STATUS.get(code or "", code or "—")


def beijing(stamp: str | None, *, seconds: bool = False) -> str:
    """'2024-01-20T10:03:00Z' → '2024-01-20 18:03 北京时间'; a bare date stays a date."""
    if not stamp:
        return "—"
    if len(stamp) == 10:
        return stamp
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " 北京时间"


def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)

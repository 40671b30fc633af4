"""Recognising annual reports and their column by the words portals use.

A report title names a year and the report: `温州市人民防空办公室2020年政府信息公开工作年度报告`,
`2023年度政府信息公开年报`, `XX区政府信息公开工作年度报告（2022年）`. It ends with the report noun, perhaps followed
by a bracketed note (（图片版）, （超链版）) or a file extension — which is how `关于做好2023年政府信息公开工作年度报告
编制工作的通知` or `…年度报告解读` are told apart from reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.parsing import meta
from crawler.text import squash

_EXTENSION = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|zip|rar|ofd|md|html?|shtml)$", re.I)
_BRACKET_NOTE = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]{0,24})[)\]】〕]$")
_YEAR = re.compile(r"((?:19|20)\d{2})(?=年|[)\]】〕]|$)")
_DISCLOSURE = re.compile(r"(?:信息|政务)公开")
_REPORT_END = re.compile(r"(?:年度?报告|年报|工作报告)$")
# Notes that make a title something other than the report: an interpretation, a chart, a video.
_NOT_REPORT_NOTE = re.compile(r"解读|图解|一图|读懂|视频|动画|动漫|问答|政策")
_QUOTES = "《》\"'“”「」『』:： -_—"
_TRUNCATED = re.compile(r"(?:\.\.\.|…|。。。)+$")


@dataclass(frozen=True)
class ReportTitle:
    title: str  # cleaned: no extension, quotes or trailing notes
    year: int
    agency: str | None  # as printed in the title, None when the title names no agency


def report_title(text: str | None) -> ReportTitle | None:
    """The report a title names, or None when it is not an annual-report title."""
    if not text:
        return None
    t = squash(text).strip(_QUOTES)
    t = _EXTENSION.sub("", t).strip(_QUOTES)
    year: int | None = None
    while True:
        m = _BRACKET_NOTE.search(t)
        if not m:
            break
        note = m.group(1)
        if _NOT_REPORT_NOTE.search(note):
            return None
        y = _YEAR.search(note)
        if y and year is None:
            year = int(y.group(1))
        t = t[: m.start()].strip(_QUOTES)
    if not _DISCLOSURE.search(t) or not _REPORT_END.search(t) or _NOT_REPORT_PREFIX.match(t):
        return None
    y = _YEAR.search(t)
    if y:
        year = int(y.group(1))
    if year is None:
        return None
    _, agency, _ = meta.title_from([], t)
    return ReportTitle(t, year, agency)


# Charts and explainers named after the report they explain: "图解：…年度报告", "一图读懂…年度报告".
_NOT_REPORT_PREFIX = re.compile(r"(?:一图(?:读懂|看懂|速览|了解)|图解|图说|解读|政策解读|视频解读|动漫解读|H5)", re.I)
_NOT_REPORT_WORDS = re.compile(r"通知|解读|图解|格式|编制|要点|考核|评议|问答|培训|会议")


def maybe_report_title(text: str | None) -> bool:
    """A title cut short in a list, with or without an ellipsis ("…2020年政府信息公开工作年度...",
    "2023年度政府信息公开工作年度报"): worth opening to read the full title on the page."""
    if not text:
        return False
    t = _TRUNCATED.sub("", squash(text))
    if _NOT_REPORT_WORDS.search(t) or _NOT_REPORT_PREFIX.match(t) or not re.search(r"(?:19|20)\d{2}", t):
        return False
    return bool(_DISCLOSURE.search(t) and re.search(r"年报|年度报?$|年度工?作?$|公开工作$|工作年?$|年度报告", t)) or (
        text.rstrip().endswith(("...", "…")) and bool(_DISCLOSURE.search(t) or re.search(r"年度?报?$|报告?$", t))
    )


# --- the column -----------------------------------------------------------------------------------------
_COLUMN_WORDS = re.compile(r"年报|年度报告|年度工作报告")
_COLUMN_EXCLUDE = re.compile(r"解读|通知|格式|编制|统计年报|财务|决算|预算|审计|年鉴")
COLUMN_SLUGS = ("zfxxgknb", "xxgknb", "gknb", "ndbg", "xxgkndbg", "zfxxgkndbg", "xxgknbgs", "zwgknb", "nb_")
_SLUG = re.compile(r"(?:^|[/_\-.])(?:" + "|".join(re.escape(s) for s in COLUMN_SLUGS) + r")", re.I)


def is_column_link(text: str, url: str) -> bool:
    """A link to the annual-report column (or a sub-column of it: 部门年报, 乡镇年报)."""
    t = squash(text)
    if _YEAR.search(t) or _COLUMN_EXCLUDE.search(t):
        return False
    if _COLUMN_WORDS.search(t) and len(t) <= 20:
        return True
    path = url.split("?", 1)[0].lower()
    return bool(_SLUG.search(path)) and 0 < len(t) <= 12 and not _PAGER_TEXT.fullmatch(t)


# A list's own pager links (they live in the column's folder too): pagination, not sub-columns.
_PAGER_TEXT = re.compile(
    r"(?:\d+|[<>«»‹›]+|首页|尾页|末页|上一?页|下一?页|前一?页|后一?页|第\d+页|跳转|转到|go|next|prev(?:ious)?|last|first)",
    re.I,
)


_YEAR_FOLDER = re.compile(r"^(?:19|20)\d{2}年?度?(?:年报|报告|政府信息公开(?:工作)?年度报告)?$")


def is_year_folder(text: str) -> bool:
    """`2023年`, `2023年度`: inside the column, a per-year list (or the year's only report)."""
    return bool(_YEAR_FOLDER.match(squash(text)))


# --- the way to the column --------------------------------------------------------------------------------
_HUB_WORDS = re.compile(r"政府信息公开|信息公开|政务公开|法定主动公开|主动公开|公开目录")
_HUB_EXCLUDE = re.compile(r"指南|申请|制度|规定|意见|通知|办法|条例|工作要点|表|解读|监督|保密")
HUB_SLUGS = ("zfxxgk", "xxgk", "gkml", "fdzdgknr")
_HUB_SLUG = re.compile(r"(?:^|[/_\-.])(?:" + "|".join(HUB_SLUGS) + r")", re.I)


def is_hub_link(text: str, url: str) -> bool:
    """A link towards the 信息公开 section, where the annual-report column lives."""
    t = squash(text)
    if _HUB_EXCLUDE.search(t) or _YEAR.search(t):
        return False
    if _HUB_WORDS.search(t) and len(t) <= 14:
        return True
    path = url.split("?", 1)[0].lower()
    return bool(_HUB_SLUG.search(path)) and 0 < len(t) <= 6 and not _PAGER_TEXT.fullmatch(t)

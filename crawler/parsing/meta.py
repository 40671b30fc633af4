"""Report metadata from running text: title, agency, year, 落款 date and the six sections."""

from __future__ import annotations

import re
from datetime import date

from crawler.text import nfkc, squash

_TITLE_TAIL = r"(?:政府)?(?:信息公开|政务公开)[^，。]{0,12}?(?:年度?报告|年报|报告)"
_YEAR_FIRST = re.compile(r"^(?P<year>(?:19|20)\d{2})年度?(?P<agency>[^，。]{2,40}?)" + _TITLE_TAIL)
_AGENCY_FIRST = re.compile(r"^(?P<agency>[^，。\d]{2,40}?)(?:关于)?(?P<year>(?:19|20)\d{2})年度?" + _TITLE_TAIL)
_PERIOD = re.compile(r"统计(?:期限|时限|区间|时间|期间)[^。]{0,8}?((?:19|20)\d{2})年1月1日")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = re.compile(r"^((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日$")
_CN_DATE = re.compile(r"^([〇○零O一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$")

SECTION_HEADINGS = [
    ("一", ("总体情况", "概述", "基本情况")),
    ("二", ("主动公开",)),
    ("三", ("收到和处理", "依申请公开")),
    ("四", ("行政复议", "行政诉讼")),
    ("五", ("存在的主要问题", "问题及改进", "改进情况")),
    ("六", ("其他需要报告", "其他事项")),
]
_HEADING = re.compile(r"^#*\**([一二三四五六])[、.．]")


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


def parse_date(line: str) -> date | None:
    s = squash(line).strip("#*")
    m = _DATE.match(s)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = _CN_DATE.match(s)
        if m:
            year = int("".join(str(_CN_DIGITS[c]) for c in m[1]))
            return date(year, _cn_number(m[2]), _cn_number(m[3]))
    except (ValueError, KeyError):
        return None
    return None


def title_from(lines: list[str], hint: str | None) -> tuple[str | None, str | None, int | None]:
    """(title, agency, year) from a title hint or the opening lines of the document."""
    candidates: list[str] = [hint] if hint else []
    opening: list[str] = []
    for line in lines[:40]:
        s = squash(line).strip("#*")
        if not s:
            continue
        if _HEADING.match(s) or len(s) > 60:
            if opening:
                break
            continue
        opening.append(s)
        if len(opening) == 4:
            break
    # A title is often printed over two or three lines: try the longest spans first.
    spans = [(a, b) for a in range(len(opening)) for b in range(len(opening), a, -1)]
    candidates += ["".join(opening[a:b]) for a, b in sorted(spans, key=lambda ab: ab[0] - ab[1])]
    for cand in candidates:
        found = _title(cand)
        if found:
            return found
    return _title_anywhere(lines)


_VERSION = re.compile(r"[(（]?(?:图片版|超链版|全文|正文|文字版)[)）]?")
_NOT_AGENCY = ("", "政府", "本机关", "我市", "我区", "我县")


def _title(cand: str, whole: bool = False) -> tuple[str, str, int] | None:
    """(title, agency, year) if `cand` reads as a report title (all of it, when `whole`)."""
    cand = _VERSION.sub("", squash(cand))
    for rx in (_AGENCY_FIRST, _YEAR_FIRST):
        m = rx.search(cand)
        if m:
            agency = m["agency"].strip("《》\"'“”:：-_ ")
            if agency in _NOT_AGENCY or _CHROME_MARKS.search(agency) or (whole and m.end() < len(cand.rstrip("。."))):
                continue
            return cand[: m.end()], agency, int(m["year"])
    return None


# Page chrome a saved portal page brings along (a DOCX Word made of it, say): navigation separators and
# breadcrumbs in an "agency", and links to other documents that merely name a report (关于印发…的通知).
_CHROME_MARKS = re.compile(r"[|｜>＞»/\\:：]|首页|当前位置|您现在的位置")
_OTHER_DOCUMENT = ("通知", "印发", "转发", "意见", "办法", "要点", "解读", "图解", "答记者问")
_SCAN_LINES = 600  # how far into a document a title after page chrome is looked for


def _title_anywhere(lines: list[str]) -> tuple[str | None, str | None, int | None]:
    """The report's title where page chrome comes first: a short line (or two or three, a title printed
    over several lines) that is a whole title, before the first section heading. Of several (links to other
    years' reports), the one of the year the report states its figures for, else the one nearest the body."""
    short = [squash(ln).strip("#*") for ln in lines[:_SCAN_LINES]]
    body = next((i for i, s in enumerate(short) if _HEADING.match(s) and _section_of(s)), len(short))
    found: list[tuple[str, str, int]] = []
    for end in range(body):
        for start in range(end, max(end - 3, -1), -1):  # the line alone first, then with the lines above it
            span = short[start : end + 1]
            if any(not s or len(s) > 60 or _HEADING.match(s) for s in span):
                break
            cand = "".join(span)
            if any(w in cand for w in _OTHER_DOCUMENT):
                break
            title = _title(cand, whole=True)
            if title:
                found.append(title)
                break
    if not found:
        return None, None, None
    stated = statistics_year("\n".join(lines))
    same = [t for t in found if t[2] == stated]
    return (same or found)[-1]


def _section_of(heading: str) -> str | None:
    """The section a heading line opens (一 for 一、总体情况), if it names its topic."""
    m = _HEADING.match(heading)
    if not m or len(heading) > 40:
        return None
    return m[1] if any(t in heading for t in dict(SECTION_HEADINGS)[m[1]]) else None


def statistics_year(text: str) -> int | None:
    m = _PERIOD.search(squash(text))
    return int(m[1]) if m else None


def signed_date(lines: list[str]) -> str | None:
    """The 落款 date: the last line that is only a date, near the end of the report."""
    for line in reversed(lines[-25:]):
        d = parse_date(line)
        if d:
            return d.isoformat()
    return None


def sections(lines: list[str]) -> dict[str, str]:
    """Text of sections 一–六, split on their headings (a heading must name its topic)."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    expected = 0
    for line in lines:
        s = squash(line)
        m = _HEADING.match(s)
        if m and len(s) <= 40:
            num = m[1]
            idx = "一二三四五六".index(num)
            topics = dict(SECTION_HEADINGS)[num]
            if idx >= expected and any(t in s for t in topics):
                current = num
                expected = idx
                out.setdefault(num, [])
                continue
        if current:
            out[current].append(nfkc(line).strip())
    return {k: "\n".join(v).strip() for k, v in out.items()}

"""When a report was published, and which source said so.

Sources, best first: the page's meta (`<meta name="PubDate">`), the visible 发布时间/发布日期 on the page (or, failing
that, the date printed beside the entry in the list), the date in the URL (`t20230119_`, `/art/2023/1/19/`,
`/202301/`), the HTTP Last-Modified header, and last the moment xxgk first saw it. They can disagree (a
Fujian county portal lists 2026-03-10 for a page whose URL says t20260313): every candidate is kept, the best
one is chosen.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from crawler.text import nfkc

_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_META_NAMES = (
    "pubdate",
    "publishdate",
    "firstpublishedtime",
    "article:published_time",
    "dcterms.issued",
    "dc.date.issued",
    "dc.date",
    "releasedate",
)
# 发布 first: 成文日期 (the signing date) is not a publication date.
_VISIBLE = re.compile(
    r"(?:发布时间|发布日期|发布于|公开日期|上网时间|发表时间)\s*[:：]?\s*\[?\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)
_VISIBLE_WEAK = re.compile(
    r"(?<!成文)(?<!印发)(?:日期|时间)\s*[:：]\s*\[?\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)
_URL_DAY = (
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"),  # TRS: ./202301/t20230119_2136694.html
    re.compile(r"/P0((?:19|20)\d{2})(\d{2})(\d{2})\d{6,}"),  # TRS attachments: P020230120594839304843.pdf
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),  # Hanweb: /art/2023/1/19/art_…
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"),
    re.compile(r"[/_]((?:19|20)\d{2})(\d{2})(\d{2})[/_.]"),
)
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})(\d{2})/")


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    m = _DATE.search(nfkc(text))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def meta_date(meta: dict[str, str]) -> date | None:
    """`meta` maps lower-cased <meta name/property> to content."""
    for name in _META_NAMES:
        d = parse_date(meta.get(name))
        if d:
            return d
    return None


def visible_date(text: str) -> date | None:
    text = nfkc(text)
    for rx in (_VISIBLE, _VISIBLE_WEAK):
        m = rx.search(text)
        if m:
            d = parse_date(m.group(1))
            if d:
                return d
    return None


def url_date(url: str) -> tuple[date | None, bool]:
    """(date, exact). A month-only path (/202301/) gives the month's last day, exact=False: the deadlines
    fall on month ends, so a month decides on-time or late without inventing an earlier day."""
    path = url.split("?", 1)[0]
    for rx in _URL_DAY:
        m = rx.search(path)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3])), True
            except ValueError:
                continue
    m = _URL_MONTH.search(path)
    if m:
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return date(year, month, calendar.monthrange(year, month)[1]), False
    return None, False


def http_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC).date()
    except (TypeError, ValueError):
        return None


@dataclass
class Published:
    at: str  # ISO date
    source: str  # page_meta | visible | url | last_modified | first_seen
    candidates: dict[str, str] = field(default_factory=dict)


def choose(
    *,
    page_meta: date | None = None,
    visible: date | None = None,
    listing: date | None = None,
    url: tuple[date | None, bool] = (None, False),
    last_modified: date | None = None,
    report_year: int | None = None,
    today: date | None = None,
) -> Published:
    """The best plausible date. A date before the report year is over, or in the future, is implausible (a
    report on 2023 cannot appear before December 2023): it is kept among the candidates but not chosen."""
    today = today or datetime.now(UTC).date()
    url_day, url_exact = url
    ordered = [
        ("page_meta", page_meta),
        ("visible", visible),
        ("listing", listing),
        ("url", url_day if url_exact else None),
        ("last_modified", last_modified),
        ("url_month", None if url_exact else url_day),
    ]
    candidates = {name: d.isoformat() for name, d in ordered if d}
    for name, d in ordered:
        if d is None or d > today or (report_year and d < date(report_year, 12, 1)):
            continue
        source = {"listing": "visible", "url_month": "url"}.get(name, name)
        return Published(d.isoformat(), source, candidates)
    return Published(today.isoformat(), "first_seen", candidates)

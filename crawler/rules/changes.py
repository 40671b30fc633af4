"""What changed when a report changed after publication, and whether a report was taken down.

Pure functions over what the archive recorded: the alerts (crawler/alerts/changes.py) read the versions and the
listing evidence from storage and hand them here. Both decisions lean towards silence when the evidence is
thin, because 【发布后修改】 and 【报告被撤下】 are accusations a journalist may print:

- an edit is a change of what the report says (a cell's number, a sentence), never of its bytes alone: a page
  re-rendered with new navigation is a new version but not an edit;
- a takedown is a 404/410 from the report's own URL, or its absence from the portal's listing in two crawls that
  each walked the whole listing, successfully, after the report was last fetched.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from crawler import template as tpl
from crawler.model import CellValue
from crawler.parsing.meta import sections
from crawler.rules.identities import short_label
from crawler.text import nfkc

GONE_STATUSES = (404, 410)
SUCCESSFUL = ("ok", "partial")  # the listing may be whole although a document failed (listing_complete says)
RUNS_NEEDED = 2
SECTION_TITLES = {
    "一": "一、总体情况",
    "二": "二、主动公开政府信息情况",
    "三": "三、收到和处理政府信息公开申请情况",
    "四": "四、政府信息公开行政复议、行政诉讼情况",
    "五": "五、存在的主要问题及改进情况",
    "六": "六、其他需要报告的事项",
}
BODY = "正文"
EXCERPT = 60  # characters of a changed passage shown
CONTEXT = 12  # characters shown on each side of a change inside a sentence
_NUMBER = re.compile(r"^[\d.,%％\-—/]+$")


# --- edits -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellChange:
    key: str
    label: str  # the template's row / column labels
    before: str  # as printed
    after: str


@dataclass(frozen=True)
class TextChange:
    section: str  # e.g. 六、其他需要报告的事项
    removed: str  # a short excerpt of what the earlier version said ("" for an addition)
    added: str  # of what the later version says ("" for a deletion)


@dataclass(frozen=True)
class Edit:
    cells: tuple[CellChange, ...]
    text: tuple[TextChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.cells or self.text)


def compare(
    before_cells: Mapping[str, CellValue],
    before_text: str,
    after_cells: Mapping[str, CellValue],
    after_text: str,
    template: str | None,
) -> Edit:
    """What a later version changed in the earlier one's numbers and prose."""
    return Edit(tuple(cell_changes(before_cells, after_cells, template)), tuple(text_changes(before_text, after_text)))


def cell_changes(
    before: Mapping[str, CellValue], after: Mapping[str, CellValue], template: str | None
) -> list[CellChange]:
    """Cells whose value changed, in the template's order. A cell absent on one side counts as blank: a blank
    cell that stays blank is no change, a printing that differs for the same number ("1,234"/"1234") neither."""
    out = []
    for key in _ordered(set(before) | set(after), template):
        old, new = before.get(key), after.get(key)
        if _value(old) == _value(new):
            continue
        out.append(CellChange(key, cell_label(key, template), _shown(old), _shown(new)))
    return out


def cell_label(key: str, template: str | None) -> str:
    """The compact Chinese name of a cell: its row and column labels as the template prints them."""
    for t in ([template] if template in tpl.TEMPLATES else []) + [t for t in tpl.TEMPLATES if t != template]:
        if key in tpl.cell_index(t):
            return short_label(t, key)
    return key


def _ordered(keys: set[str], template: str | None) -> list[str]:
    order = {k: i for i, k in enumerate(tpl.keys(template))} if template in tpl.TEMPLATES else {}
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def _value(cell: CellValue | None) -> float | int | None:
    return cell.value if cell is not None else None


def _shown(cell: CellValue | None) -> str:
    if cell is None:
        return "（无此项）"
    if cell.raw:
        return cell.raw
    return "（空白）" if cell.value is None else _number(cell.value)


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def text_changes(before: str, after: str) -> list[TextChange]:
    """The passages of prose one version has and the other has not, each named by the section it sits in.
    Table rows are left out (their numbers are the cells' business), so a corrected table is not told twice."""
    old, new = _prose(before), _prose(after)
    old_sections, new_sections = _section_of(before), _section_of(after)
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        for k in range(max(len(removed), len(added))):
            a = removed[k] if k < len(removed) else ""
            b = added[k] if k < len(added) else ""
            section = new_sections.get(nfkc(b).strip()) or old_sections.get(nfkc(a).strip()) or BODY
            out.append(TextChange(section, *_excerpts(a, b)))
    return out


def _prose(text: str) -> list[str]:
    """The text's sentences of prose: lines that are not table rows (no tab, fewer than two bare numbers)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or "\t" in line:
            continue
        if sum(1 for token in line.split() if _NUMBER.match(token)) >= 2:
            continue
        out.append(line)
    return out


def _section_of(text: str) -> dict[str, str]:
    """line (NFKC, as sections() gives it) → the title of the section (一 to 六) it belongs to."""
    out: dict[str, str] = {}
    for num, body in sections(text.splitlines()).items():
        for line in body.splitlines():
            out.setdefault(line.strip(), SECTION_TITLES[num])
    return out


def _excerpts(a: str, b: str) -> tuple[str, str]:
    """What differs between two versions of one sentence, with a little context; a whole sentence when the
    other side has none."""
    if not a or not b:
        return _cut(a), _cut(b)
    prefix = len(_common_prefix(a, b))
    suffix = len(_common_prefix(a[prefix:][::-1], b[prefix:][::-1]))
    return _window(a, prefix, len(a) - suffix), _window(b, prefix, len(b) - suffix)


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _window(s: str, start: int, end: int) -> str:
    lo, hi = max(0, start - CONTEXT), min(len(s), end + CONTEXT)
    return _cut(("…" if lo else "") + s[lo:hi] + ("…" if hi < len(s) else ""))


def _cut(s: str) -> str:
    return s if len(s) <= EXCERPT else s[: EXCERPT - 1] + "…"


# --- takedowns ---------------------------------------------------------------------------------------------
class Run(Protocol):
    """One crawl of the report's portal (storage.reports.ListingRun)."""

    run_id: int
    started_at: str
    status: str
    listing_complete: bool | None
    full_walk: bool
    listed_any: bool


@dataclass(frozen=True)
class Takedown:
    gone: bool
    reason: str | None = None  # http_gone | not_listed
    status: int | None = None  # the HTTP status, for http_gone
    runs: tuple[int, ...] = ()  # the crawls that did not list it, for not_listed


STILL_THERE = Takedown(False)


def takedown(
    *,
    listed_run: int | None,
    last_seen: str,
    gone_status: int | None,
    gone_at: str | None,
    runs: Sequence[Run],
    needed: int = RUNS_NEEDED,
) -> Takedown:
    """Whether a report was taken down from its portal.

    - Its URL answered 404/410 after the report was last fetched: the portal itself says it is gone.
    - Or `needed` crawls since the report was last listed show it absent (see shows_absence). A report no
      listing ever showed (imported, or archived before listings were recorded) is never judged absent.
    """
    if gone_status in GONE_STATUSES and gone_at and gone_at > last_seen:
        return Takedown(True, "http_gone", status=gone_status)
    if listed_run is None:
        return STILL_THERE
    absent = tuple(r.run_id for r in runs if r.run_id > listed_run and shows_absence(r, last_seen))
    return Takedown(True, "not_listed", runs=absent) if len(absent) >= needed else STILL_THERE


def shows_absence(run: Run, last_seen: str) -> bool:
    """A crawl whose listing not showing a report means something: it succeeded, walked the listing to its end
    and every list page of it (an incremental crawl stops at the first all-archived page, so the entries beyond
    were simply not looked at), the listing showed some report (an empty column is a moved column, not a
    hundred takedowns), and it started after the report was last fetched (fetched during it: still linked)."""
    return (
        run.status in SUCCESSFUL
        and run.listing_complete is True
        and run.full_walk
        and run.listed_any
        and run.started_at > last_seen
    )

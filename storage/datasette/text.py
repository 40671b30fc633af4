"""A report's stored text as a journalist reads it: the six sections, the narrative apart from the template's
fixed labels (for search), a snippet around a match, and a highlighted diff of two versions.

The stored full text keeps the document's lines; a table row is one line with its cells separated by tabs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

from crawler.template import REVIEW_COLUMNS, REVIEW_GROUPS, TEMPLATES, cells
from crawler.text import squash

# 一、总体情况 … 六、其他需要报告的事项: a short line starting with the section's numeral, no table cells on it.
_HEADING = re.compile(r"^\s*([一二三四五六])、\S{2,40}$")
_NUMERALS = "一二三四五六"
_SENTENCE = re.compile(r"[，。；！？,;]")
SNIPPET = 60  # characters each side of a match
LABEL_CHARS = 80  # the longest template label is shorter: longer lines are never compared with them


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


def sections(full_text: str) -> list[Section]:
    """The text cut at the headings 一、… 六、 in order (a numbered table row such as 一、本年新收… holds tabs and
    is not a heading). Text before the first heading is the preamble (heading "")."""
    out: list[Section] = []
    heading, lines, expect = "", [], 0
    for line in full_text.splitlines():
        m = _HEADING.match(line)
        if m and "\t" not in line and _NUMERALS.index(m.group(1)) >= expect:
            out.append(Section(heading, "\n".join(lines).strip()))
            heading, lines, expect = line.strip(), [], _NUMERALS.index(m.group(1)) + 1
            continue
        lines.append(line)
    out.append(Section(heading, "\n".join(lines).strip()))
    return [s for s in out if s.heading or s.text]


@cache
def _template_labels() -> frozenset[str]:
    """Every fixed label the national templates print (row, column, group labels), squashed for comparison."""
    labels: set[str] = set()
    for template in TEMPLATES:
        for cell in cells(template):
            row_label = cell.label.rsplit(" / ", 1)[0]
            labels.add(squash(row_label))  # a row label printed whole (（四）无法提供 1.本机关不掌握…)
            for part in re.split(r" / | (?=\d\.)", cell.label):
                labels.add(squash(part))
    labels.update(squash(label) for _, label in (*REVIEW_GROUPS, *REVIEW_COLUMNS))
    labels.update(squash(word) for word in ("行政复议", "行政诉讼", "申请人情况", "法人或其他组织", "信息内容"))
    return frozenset(labels)


def _narrative(text: str) -> bool:
    """A line a person wrote: no table row (tabs), no section heading, no template label; a short line only
    when it reads as a sentence."""
    if not text or "\t" in text or _HEADING.match(text):
        return False
    if len(text) <= LABEL_CHARS and squash(text) in _template_labels():
        return False
    return len(text) >= 12 or bool(_SENTENCE.search(text))


def narrative_lines(full_text: str) -> list[str]:
    return [line.strip() for line in full_text.splitlines() if _narrative(line.strip())]


def highlight(text: str, terms: list[str]) -> Markup:
    """`text` escaped, every occurrence of a term in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    parts, last = [], 0
    for m in pattern.finditer(text):
        parts.append(escape(text[last : m.start()]))
        parts.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Hit:
    score: int  # occurrences of the terms in the narrative
    snippet: Markup
    in_labels_only: bool


def narrative_hit(full_text: str, terms: list[str]) -> Hit:
    """Where the terms stand in the narrative: how often, and a snippet around the first line holding all.
    Only the lines holding a term are classified (a report is mostly lines without it)."""
    score, best = 0, None
    for line in full_text.splitlines():
        found = [line.count(t) for t in terms]
        if not any(found) or not _narrative(line.strip()):
            continue
        score += sum(found)
        if best is None and all(found):
            best = line.strip()
    if best is None:
        return Hit(0, Markup(""), True)
    at = best.find(terms[0])
    start, end = max(0, at - SNIPPET), min(len(best), at + len(terms[0]) + SNIPPET)
    snippet = ("…" if start else "") + best[start:end] + ("…" if end < len(best) else "")
    return Hit(score, highlight(snippet, terms), False)


def diff_html(before: str, after: str) -> Markup:
    """Two texts line by line; a changed line shows its removed characters struck through in red and the added
    ones in green (the way changedetection.io shows an edit)."""
    a, b = before.splitlines(), after.splitlines()
    out: list[Markup] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(Markup('<div class="same">') + escape(line) + Markup("</div>") for line in a[i1:i2])
            continue
        old, new = a[i1:i2], b[j1:j2]
        for k in range(max(len(old), len(new))):
            if k < len(old) and k < len(new):
                out.append(Markup('<div class="changed">') + _inline(old[k], new[k]) + Markup("</div>"))
            elif k < len(old):
                out.append(Markup('<div class="removed"><del>') + escape(old[k]) + Markup("</del></div>"))
            else:
                out.append(Markup('<div class="added"><ins>') + escape(new[k]) + Markup("</ins></div>"))
    return Markup("").join(out)


def _inline(old: str, new: str) -> Markup:
    parts: list[Markup] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(old[i1:i2]))
            continue
        if i2 > i1:
            parts.append(Markup("<del>") + escape(old[i1:i2]) + Markup("</del>"))
        if j2 > j1:
            parts.append(Markup("<ins>") + escape(new[j1:j2]) + Markup("</ins>"))
    return Markup("").join(parts)


def section_diffs(before: str, after: str) -> list[tuple[str, Markup, bool]]:
    """(heading, diff, changed) per section of either version, in order."""
    old = {s.heading: s.text for s in sections(before)}
    new = {s.heading: s.text for s in sections(after)}
    headings = list(dict.fromkeys([*old, *new]))
    return [(h or "（开头）", diff_html(old.get(h, ""), new.get(h, "")), old.get(h) != new.get(h)) for h in headings]

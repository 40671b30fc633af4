"""Reading the three template tables out of a token stream.

The walk keeps a little state — which table it is in, the last table-二 header, whether the
(六)其他处理 group is open — and, whenever value cells follow a run of label text, resolves
that label to a template row and takes as many values as the row has columns. Blank cells
stay blank (null); a part of the table that is not printed yields no keys at all.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from crawler import template as tpl
from crawler.model import CellValue
from crawler.parsing import labels
from crawler.parsing.tokens import Token
from crawler.parsing.values import Value
from crawler.text import squash

APPLICANT_COLS = [c for c, _ in tpl.APPLICANT_COLUMNS]
REVIEW_COLS = [c for c, _ in tpl.REVIEW_COLUMNS]
_DEFAULT_ACTIVE = {t: {row: cols for row, _, _, cols in tpl.ACTIVE_ROWS[t]} for t in tpl.TEMPLATES}
_ENUMERATED = re.compile(r"^\(?[一二三四五六七八九十\d]{1,2}[).、]")
_SHORT = 40  # longer label text is prose, not a table label
_BUFFER_CHARS = 600  # far more than any printed row label and its headers


@dataclass
class Extraction:
    cells: dict[str, CellValue] = field(default_factory=dict)
    votes: Counter = field(default_factory=Counter)  # template version → structural evidence
    incomplete: list[str] = field(default_factory=list)  # rows printed with fewer cells than columns
    unreadable: list[str] = field(default_factory=list)  # cells whose text is not a number


class _Walk:
    def __init__(self, tokens: list[Token]):
        self.t = tokens
        self.out = Extraction()
        self.region: str | None = None  # active | applications | review
        self.buffer: list[str] = []  # squashed label texts since the last resolved row
        self.active_cols: list[str] | None = None
        self.amount_unit: str | None = None
        self.other_group = False
        self.review_done = False
        # Streams with one token per row (cell-per-line text without row breaks) carry no row bounds.
        rows = Counter(tok.row for tok in tokens)
        self.row_bounded = sum(1 for n in rows.values() if n > 1) > len(rows) * 0.05

    # ---- label handling -------------------------------------------------------------------
    def _label(self, text: str) -> None:
        s = squash(text)
        if not s:
            return
        if "。" in s or "；" in s or len(s) > _SHORT * 2:
            self.buffer = []  # prose between or around the tables names no row
            return
        if "，" not in s and len(s) <= _SHORT:
            if "第二十条" in s or "主动公开政府信息情况" in s:
                self._enter("active")
                if "第二十条" in s:
                    self.active_cols = None
            elif "申请人情况" in s or "收到和处理" in s:
                self._enter("applications")
            elif ("行政复议" in s or "行政诉讼" in s) and self.region != "review" and not self.review_done:
                self._enter("review")
            elif re.match(r"^五[、.]", s) or "存在的主要问题" in s:
                self._enter(None)
            if "信息内容" in s:
                self.active_cols = None
        self._passed_over(s)
        self.buffer.append(s)
        # Label text that never met a value (headers, stray cells) must not pile up: every label
        # is matched against the buffer, so an unbounded one makes huge tables quadratic.
        while len(self.buffer) > 1 and sum(map(len, self.buffer)) > _BUFFER_CHARS:
            self.buffer.pop(0)

    def _row_named(self, text: str) -> str | None:
        if self.region == "active":
            row = labels.match_active_row(text)
            return f"active.{row}" if row else None
        if self.region == "applications":
            row = labels.match_application_row(text, text, False)
            return f"applications.{row}" if row else None
        return None

    def _passed_over(self, s: str) -> None:
        """A row label followed by the next row's label, with no cell between: the row is printed
        without any cell (PDF text drops blank cells). Count it incomplete, so that a reader with
        a more faithful reading (PDF positions) is asked for it."""
        now = self._row_named(s) if self.buffer else None
        if now is None:
            return
        before = self._row_named("".join(self.buffer)[-_SHORT * 3 :])
        if before and before != now and not now.startswith(before + "."):
            if before not in self.out.incomplete and not any(k.startswith(before + ".") for k in self.out.cells):
                self.out.incomplete.append(before)

    def _enter(self, region: str | None) -> None:
        if region != self.region:
            self.region = region
            self.buffer = []

    # ---- value collection -----------------------------------------------------------------
    def _collect(self, i: int, n: int) -> tuple[list[Value], int]:
        """Up to `n` value cells starting at token i; returns them and the next index."""
        vals: list[Value] = []
        row = self.t[i].row
        j = i
        while j < len(self.t):
            tok = self.t[j]
            if tok.row != row:
                if not self.row_bounded:
                    if len(vals) >= n:
                        break
                elif len(vals) >= n or not (tok.value is not None and tok.value.number is not None):
                    break
                row = tok.row
            if tok.value is None:
                if len(vals) < n and self._unreadable(tok.text):
                    vals.append(Value(tok.text, None))
                    self.out.unreadable.append(tok.text)
                    j += 1
                    continue
                break
            if tok.value.number is None and tok.value.raw and not tok.value.marked:
                self.out.unreadable.append(tok.text)  # printed but unreadable (see values.UNREADABLE)
            vals.append(tok.value)
            j += 1
        # Merged-cell placeholders show up as extra blanks at either end of a row.
        while len(vals) > n and vals[0].raw == "" and not vals[0].marked:
            vals.pop(0)
        while len(vals) > n and vals[-1].raw == "" and not vals[-1].marked:
            vals.pop()
        return vals[:n], j

    @staticmethod
    def _unreadable(text: str) -> bool:
        s = squash(text)
        return (
            0 < len(s) <= 10
            and any(ch.isdigit() for ch in s)
            and not _ENUMERATED.match(s)
            and labels.match_application_row(s, s, False) is None
            and labels.match_active_row(s) is None
        )

    def _store(self, key: str, v: Value, unit: str | None = None) -> None:
        if key not in self.out.cells:
            self.out.cells[key] = CellValue(key, v.number, v.raw, v.unit or unit)

    # ---- row resolution -------------------------------------------------------------------
    def _resolve(self, i: int) -> int:
        text = "".join(self.buffer)
        last = self.buffer[-1] if self.buffer else ""
        if self.region == "review":
            return self._review(i, text)
        if self.region == "active":
            row = labels.match_active_row(text[-_SHORT * 2 :])
            if row:
                return self._active(i, row, text)
        if not self.buffer or len(last) > _SHORT * 2:
            return i + 1
        row = labels.match_application_row(text[-_SHORT * 3 :], last, self.other_group)
        if row is None:
            self.buffer = []  # values under a label that names no row: that label is spent
            return i + 1
        # (六)其他处理 opens a group whose last row may print as a bare "3.其他" (2021 format).
        self.other_group = row.startswith("other.") or "其他处理" in text
        if self.region != "applications":
            self.region = "applications"
        vals, j = self._collect(i, len(APPLICANT_COLS))
        if row == "other":
            self.out.votes["2019"] += 1
        elif row.startswith("other."):
            self.out.votes["2021"] += 1
        self._record_row(f"applications.{row}", APPLICANT_COLS, vals)
        self.buffer = []
        return j

    def _active(self, i: int, row: str, text: str) -> int:
        header = text.rsplit("信息内容", 1)[-1] if "信息内容" in text else text
        cols = labels.active_columns(header)
        if cols:
            self.active_cols = cols
            self.amount_unit = labels.amount_unit(header)
        cols = self.active_cols or self._default_cols(row)
        vals, j = self._collect(i, len(cols))
        for c in cols:
            if c in ("made", "published", "total", "prev_count", "change", "items"):
                self.out.votes["2019"] += 1
            elif c in ("issued", "repealed", "in_force"):
                self.out.votes["2021"] += 1
        if row in ("other_services", "procurement"):
            self.out.votes["2019"] += 2
        if row in ("licensing", "penalty", "enforcement") and cols == ["decisions"]:
            self.out.votes["2021"] += 1
        self._record_row(f"active.{row}", cols, vals, unit=self.amount_unit)
        self.buffer = []
        return j

    def _default_cols(self, row: str) -> list[str]:
        guess = "2021" if self.out.votes["2021"] > self.out.votes["2019"] else "2019"
        return list(_DEFAULT_ACTIVE[guess].get(row) or _DEFAULT_ACTIVE["2019"].get(row, ()))

    def _review(self, i: int, text: str) -> int:
        group = labels.match_review_group(text)
        tail = text[-8:]
        if group and not any(w in tail for w in ("总计", "审结", "结果")) and len(text) < _SHORT:
            # A transposed table: one row per group, five values each.
            vals, j = self._collect(i, len(REVIEW_COLS))
            self._record_row(group, REVIEW_COLS, vals)
        else:
            vals, j = self._collect(i, 15)
            if len(vals) == 15 or self.row_bounded:
                for n, (g, _) in enumerate(tpl.REVIEW_GROUPS):
                    self._record_row(g, REVIEW_COLS, vals[n * 5 : n * 5 + 5], expected=5)
            self.review_done = True
            self.region = None
        self.buffer = []
        return j

    def _record_row(self, prefix: str, cols: list[str], vals: list[Value], unit=None, expected=None) -> None:
        if len(vals) < (expected or len(cols)):
            self.out.incomplete.append(prefix)
        for c, v in zip(cols, vals, strict=False):
            self._store(f"{prefix}.{c}", v, unit if c == "amount" else None)

    def _label_follows(self, i: int) -> bool:
        """True when a label cell comes later in the same row: blanks before it are placeholders."""
        row = self.t[i].row
        for tok in self.t[i + 1 :]:
            if tok.row != row:
                return False
            if tok.value is None:
                return True
        return False

    def run(self) -> Extraction:
        i = 0
        while i < len(self.t):
            tok = self.t[i]
            if tok.value is None:
                self._label(tok.text)
                i += 1
            elif tok.value.raw == "" and not tok.value.marked and (not self.buffer or self._label_follows(i)):
                i += 1  # a merged-cell placeholder, not a blank value
            elif self.buffer or self.region == "review":
                i = self._resolve(i)
            else:
                i += 1
        return self.out


def extract(tokens: list[Token]) -> Extraction:
    return _Walk(tokens).run()

"""Evaluate identities over one report's cells, producing pass / fail / not_assessable findings.

Cell semantics, decided once here for every rule:
- a key that is absent means that part of the document is missing → the identity is not assessable;
- a cell that could not be read as a number → not assessable (we cannot know what was printed);
- a blank cell (printed empty, or `—`/`/`/`无`) counts as 0, and the message says so: many agencies
  leave zeros blank, which is not an error in itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crawler.model import Finding, Number
from crawler.rules.identities import Identity, short_label

Values = Mapping[str, Number | None]


def fmt(n: Number) -> str:
    """A number as a person would print it: 12, 3.5, 96171.6 (no float noise)."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:.6f}".rstrip("0").rstrip(".")
    return str(int(n))


_SHORT_SUM = 3  # sides with at most this many terms are written out in full


def _side(template: str, keys: tuple[str, ...], values: Values) -> tuple[Number, str]:
    """Sum of one side and its description; long sums list only the non-zero terms."""
    total = sum((values.get(k) or 0) for k in keys)
    if len(keys) == 1:
        return total, f"{short_label(template, keys[0])}（{_shown(values.get(keys[0]))}）"
    terms = list(keys) if len(keys) <= _SHORT_SUM else [k for k in keys if values.get(k)]
    text = "+".join(f"{short_label(template, k)}（{_shown(values.get(k))}）" for k in terms) or "各项"
    rest = len(keys) - len(terms)
    if rest:
        text += f"，其余{rest}项为0或空白"
    return total, f"{text}，合计{fmt(total)}"


def _shown(v: Number | None) -> str:
    return "空白" if v is None else fmt(v)


def evaluate(ident: Identity, template: str, values: Values, unreadable: Iterable[str] = ()) -> Finding:
    """One identity over one report."""
    cells = list(ident.cells)
    data: dict = {"scope": ident.scope}
    missing = [k for k in cells if k not in values]
    bad = [k for k in cells if k in set(unreadable)]
    if missing or bad:
        what = []
        if missing:
            what.append(f"文件中缺少{len(missing)}个相关单元格")
        if bad:
            what.append("单元格无法读作数字：" + "、".join(short_label(template, k) for k in bad))
        data.update(missing=missing, unreadable=bad)
        return Finding(
            ident.rule, "not_assessable", "info", f"{ident.title}：无法核对（{'；'.join(what)}）", cells, data
        )

    left, left_text = _side(template, ident.left, values)
    right, right_text = _side(template, ident.right, values)
    blank = [k for k in cells if values[k] is None]
    diff = left - right
    data.update(left=left, right=right, diff=diff)
    note = ""
    if blank:
        data["blank"] = blank
        note = f"（{len(blank)}个空白单元格按0计）"
    if abs(diff) < 1e-6:
        return Finding(ident.rule, "pass", "info", f"{ident.title}：成立{note}", cells, data)

    totals = ident.left if ident.total_side == "left" else ()
    if totals and all(values[k] is None for k in totals):
        # A blank total whose parts are not all zero: a number was due here.
        data["blank_total"] = True
        message = f"{ident.title}：{short_label(template, totals[0])}空白，但分项合计为{fmt(right)}（{right_text}）"
    else:
        message = f"{ident.title}不成立：{left_text}；{right_text}；相差{fmt(abs(diff))}{note}"
    return Finding(ident.rule, "fail", "error", message, cells, data)


def evaluate_all(
    idents: Iterable[Identity], template: str, values: Values, unreadable: Iterable[str] = ()
) -> list[Finding]:
    unreadable = set(unreadable)
    return [evaluate(i, template, values, unreadable) for i in idents]

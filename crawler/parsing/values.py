"""Reading one printed table cell as a number, a blank, or a marked-empty cell."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.text import nfkc

# Printed marks that mean "nothing here" but are not a number: keep null and say so.
NULL_MARKS = {"-", "—", "——", "–", "－", "/", "\\", "无", "空", "×", "x", "X", "…", "...", "——/", "/ "}
# U+FFFD: what pdfium prints for a glyph it cannot map, and OCR for a cell it cannot read.
UNREADABLE = "\ufffd"
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−–]|增加?|减少?)?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>万元|元|亿元|件|个|项|条|次|人次|家)?$"
)


@dataclass(frozen=True)
class Value:
    raw: str
    number: int | float | None
    unit: str | None = None
    marked: bool = False  # printed a dash, slash or 无 instead of a number


def classify(text: str) -> Value | None:
    """A Value if `text` reads as a value cell, else None (it is a label or prose)."""
    raw = text.strip()
    t = nfkc(raw).replace(" ", "").replace("\u3000", "")
    if t == "":
        return Value(raw, None)
    if t in NULL_MARKS or re.fullmatch(r"[—\-–－]{1,3}", t):
        return Value(raw, None, marked=True)
    if UNREADABLE in t and len(t) <= 12:
        return Value(raw, None)  # a cell whose print could not be read (OCR, unmapped glyphs)
    m = _NUMBER.match(t)
    if not m:
        return None
    num_text = m.group("num").replace(",", "")
    number: int | float = float(num_text) if "." in num_text else int(num_text)
    sign = m.group("sign") or ""
    if sign and (sign[0] in "-−–" or sign.startswith("减")):
        number = -number
    return Value(raw, number, m.group("unit") if m.group("unit") in ("元", "万元", "亿元") else None)


def is_number(text: str) -> bool:
    v = classify(text)
    return v is not None and v.number is not None


def is_figure(text: str | None) -> bool:
    """A printed figure or a printed mark in its place (—, /, 无): not blank, not a label."""
    v = classify(text) if text else None
    return v is not None and (v.number is not None or v.marked)

"""Flattening a Document into a stream of cell tokens that the table interpreter walks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.parsing.document import Document, Table
from crawler.parsing.values import Value, classify
from crawler.text import clean_line

_MD_RULE = re.compile(r"^[\s|:\-—]*-{3,}[\s|:\-—]*$")


@dataclass
class Token:
    text: str  # as printed, trimmed
    row: int  # tokens of one printed table row (or one text line) share a row id
    value: Value | None  # set when the token reads as a value cell


_SIGN = {"增", "减", "增加", "减少", "+", "-", "＋", "－"}


def _signs_joined(parts: list[str]) -> list[str]:
    """ "增 4" is one signed figure: PDF text layers put a space where the font changes."""
    out: list[str] = []
    for part in parts:
        if out and out[-1] in _SIGN and classify(part) is not None and classify(part).number is not None:
            out[-1] += part
        else:
            out.append(part)
    return out


def _line_tokens(line: str) -> list[str]:
    """Split a running-text line into a label and trailing value cells (`规章 1 0 11`)."""
    if "\t" in line:
        return [clean_line(c) for c in line.split("\t")]
    parts = _signs_joined(line.split())
    cut = len(parts)
    while cut > 0:
        v = classify(parts[cut - 1])
        if v is None or v.raw == "":
            break
        cut -= 1
    if cut == len(parts):
        return [line]
    head = " ".join(parts[:cut])
    # Notes in brackets may hold commas; so may the tail of a note opened on the line above
    # ("情形，不计其他情形） 0 0 …" under "（二）部分公开（区分处理的，只计这一").
    outside_notes = re.sub(r"[（(][^）)]*[）)]?", "", re.sub(r"^[^（()）]*[）)]", "", head))
    if any(p in outside_notes for p in "。；，,;") or len(head) > 60:
        return [line]  # a sentence that ends in a number is prose, not a table row
    return ([head] if head else []) + parts[cut:]


def tokenize(doc: Document) -> list[Token]:
    tokens: list[Token] = []
    row = 0
    for block in doc.blocks:
        rows: list[list[str]]
        if isinstance(block, Table):
            rows = [[clean_line(c) for c in r if c is not None] for r in block.rows]
        else:
            line = clean_line(block)
            if not line or _MD_RULE.match(line):
                continue
            rows = [_line_tokens(line)]
        for cells in rows:
            row += 1
            for text in cells:
                tokens.append(Token(text, row, classify(text)))
    return tokens

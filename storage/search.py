"""Chinese full-text search on a plain FTS5 table, by indexing overlapping character bigrams.

Chinese has no spaces, so unicode61 sees a whole run of Han characters as one token, and the
trigram tokenizer cannot match terms shorter than three characters (复议, 诉讼). Instead every
run of Han characters is written as its overlapping bigrams followed by its last character:

    行政复议 → 行政 政复 复议 议

unicode61 then indexes those as ordinary tokens. A query becomes the phrase of its own bigrams,
which matches exactly where the query is a substring of the text: 复议 is one token, 行政复议 is
the phrase "行政 政复 复议". A single character becomes the prefix query `议*`, which finds it
whether it starts a bigram or ends a run. Latin words and numbers stay unicode61 tokens.
"""

from __future__ import annotations

import re
from operator import add

from crawler.text import nfkc

# CJK Unified Ideographs, Extension A and the compatibility block: the characters reports use.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEGMENTS = re.compile(f"([{_HAN}]+)|([^{_HAN}]+)")
_WORD = re.compile(r"\w+")


def _han_tokens(run: str, *, final: bool) -> list[str]:
    tokens = [run[i : i + 2] for i in range(len(run) - 1)]
    if final or len(run) == 1:
        tokens.append(run[-1])
    return tokens


def index_text(text: str | None) -> str:
    """The form of `text` stored in the FTS index: Han runs as bigrams, everything else as is."""
    if not text:
        return ""
    out: list[str] = []
    for han, other in _SEGMENTS.findall(nfkc(text)):
        if han:
            out.extend(map(add, han, han[1:]))  # the bigrams (map in C: a report's text is ~10,000 of them)
            out.append(han[-1])
        elif other := other.strip():
            out.append(other)
    return " ".join(out)


def _term_query(term: str) -> str | None:
    """One whitespace-separated term → an FTS5 phrase, or None when it holds no searchable token."""
    parts: list[tuple[str, bool]] = []  # (text, is_han)
    for han, other in _SEGMENTS.findall(term):
        if han:
            parts.append((han, True))
        else:
            parts.extend((w, False) for w in _WORD.findall(other))
    if not parts:
        return None
    tokens: list[str] = []
    for i, (text, is_han) in enumerate(parts):
        last = i == len(parts) - 1
        # A Han run followed by more of the query must end there in the text too, so it keeps its
        # final character; the last run may continue in the text, so it does not.
        tokens.extend(_han_tokens(text, final=not last) if is_han else [text])
    text, is_han = parts[-1]
    # A lone last character, or a last word/number, may go on in the text: match it as a prefix.
    prefix = (is_han and len(text) == 1) or not is_han
    phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
    return phrase + (" *" if prefix else "")


def fts_query(query: str | None) -> str:
    """A user's search words → an FTS5 MATCH expression for `index_text` content (all terms must match).

    Never raises on odd input: quotes and operators are taken literally; an empty query yields a
    phrase that matches nothing.
    """
    terms = [q for q in (_term_query(t) for t in nfkc(query or "").split()) if q]
    return " AND ".join(terms) if terms else '""'

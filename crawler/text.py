"""Text normalisation shared by every reader and the label matcher."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
_ENUM = re.compile(r"(?<![\d.])(\d{1,2})\s*[、．.,，]\s*(?=\D)")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "〝": '"', "〞": '"'})


def nfkc(text: str) -> str:
    """Full-width forms to half-width (（→(, ０→0, ：→:), ideographic space to space."""
    return unicodedata.normalize("NFKC", text)


def squash(text: str) -> str:
    """A label's comparable form: NFKC, no whitespace, ASCII quotes, enumerators as `1.`."""
    text = _WS.sub("", nfkc(text).translate(_QUOTES))
    return _ENUM.sub(r"\1.", text)


def clean_line(text: str) -> str:
    """One visible line: NFKC-free trim of spaces, NUL and zero-width characters."""
    text = text.replace("\x00", "").replace("\u200b", "").replace("\ufeff", "").replace("\xa0", " ")
    return text.strip(" \t\r\n\u3000")

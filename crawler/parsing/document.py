"""The intermediate form every reader produces: paragraphs and table grids in reading order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Table:
    # Each row is a list of cell texts. None marks a position covered by a merged cell
    # (rowspan/colspan continuation), which is not a cell of its own; "" is a printed blank cell.
    rows: list[list[str | None]]


@dataclass
class Document:
    blocks: list[str | Table]  # a str block is one line/paragraph of running text
    format: str
    title_hint: str | None = None  # from HTML <title>/ArticleTitle or PDF metadata
    pages: int | None = None
    extra_findings: list = field(default_factory=list)  # reader-level observations (OCR used, …)
    # A costlier, more faithful reading (e.g. PDF words placed by x/y) tried when this one
    # leaves table rows incomplete.
    alternative: Callable[[], Document] | None = None

    def lines(self) -> list[str]:
        """Plain text lines, tables as tab-joined rows (for search and section text)."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                for row in block.rows:
                    cells = [c.strip() for c in row if c is not None]
                    if any(cells):
                        out.append("\t".join(cells))
            elif block.strip():
                out.append(block.strip())
        return out

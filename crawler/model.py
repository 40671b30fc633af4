"""The canonical result of reading one annual report, whatever its file format."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

Number = int | float


class ParseError(Exception):
    """A file that cannot yield a report. `reason` is a stable code stored in the archive."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # not_a_report | unreadable | encrypted | unsupported | timeout | too_large


@dataclass
class Finding:
    rule: str  # stable id, e.g. parse.blank_cell, sum.result_rows
    status: str  # fail | pass | not_assessable
    severity: str  # info | warning | error
    message: str  # Chinese, names the cells and numbers involved
    cells: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Identity for deduplicating alerts: the rule and the cells it is about, not the wording."""
        basis = "|".join([self.rule, *sorted(self.cells), str(self.data.get("scope", ""))])
        return hashlib.sha1(basis.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "severity": self.severity,
            "message": self.message,
            "cells": self.cells,
            "fingerprint": self.fingerprint,
            **({"data": self.data} if self.data else {}),
        }


@dataclass
class CellValue:
    key: str
    value: Number | None
    raw: str  # the printed text of the cell, stripped
    unit: str | None = None  # for amounts: 元 / 万元 as printed or stated in the header


@dataclass
class ParsedReport:
    agency: str | None
    year: int | None
    template: str | None
    title: str | None
    signed_date: str | None  # ISO date of the 落款
    sections: dict[str, str]  # 一..六 → section text
    cells: dict[str, CellValue]
    findings: list[Finding]
    text: str  # full text, for search
    format: str  # text | html | docx | pdf | doc | wps | xls | xlsx
    pages: int | None = None

    def values(self) -> dict[str, Number | None]:
        return {k: c.value for k, c in self.cells.items()}

    def contract(self) -> dict[str, Any]:
        """The JSON contract of `xxgk parse --json` (DEVELOPERS.md)."""
        return {
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "signed_date": self.signed_date,
            "cells": self.values(),
            "findings": [f.as_dict() for f in self.findings],
        }

"""A report's key figures: the handful of numbers a journalist compares, summed from template cells.

Derived from the template model (crawler.template), so a row added to a template is counted here
without a second list to keep in sync. A figure whose cells are all absent or blank is None, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from crawler import template as tpl

Number = int | float

# figure column → the application rows (under applications.) whose 总计 column it sums
_APPLICATION_FIGURES: dict[str, tuple[str, ...]] = {
    "new_requests": ("new",),
    "carried_over": ("carried_over",),
    "granted": ("granted",),
    "partial": ("partial",),
    "refused": ("refused.",),
    "unable": ("unable.",),
    "not_processed": ("not_processed.",),
    "other_handling": ("other",),
    "handled_total": ("handled_total",),
    "carry_forward": ("carry_forward",),
}
_REVIEW_FIGURES: dict[str, tuple[str, ...]] = {
    "reviews": ("review",),
    "lawsuits": ("litigation_direct", "litigation_after_review"),
}
FIGURES: tuple[str, ...] = (*_APPLICATION_FIGURES, *_REVIEW_FIGURES)


def _matches(row: str, pattern: str) -> bool:
    return row.startswith(pattern) if pattern.endswith(".") else row == pattern or row.startswith(pattern + ".")


@cache
def figure_keys(template: str) -> dict[str, tuple[str, ...]]:
    """figure → the cell keys it sums, for one template format."""
    rows = [r for r, _ in tpl.application_rows(template)]
    out: dict[str, tuple[str, ...]] = {}
    for name, patterns in _APPLICATION_FIGURES.items():
        out[name] = tuple(f"applications.{r}.total" for r in rows if any(_matches(r, p) for p in patterns))
    for name, groups in _REVIEW_FIGURES.items():
        out[name] = tuple(f"{g}.total" for g in groups)
    return out


def key_figures(values: Mapping[str, Number | None], template: str | None) -> dict[str, Number | None]:
    """figure → sum of its cells that hold a number; None when none does (or the template is unknown)."""
    if template not in tpl.TEMPLATES:
        return dict.fromkeys(FIGURES)
    out: dict[str, Number | None] = {}
    for name, keys in figure_keys(template).items():
        present = [values[k] for k in keys if values.get(k) is not None]
        out[name] = sum(present) if present else None
    return out

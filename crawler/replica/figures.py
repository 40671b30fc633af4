"""The figures the replica portals publish: the five seed reports' numbers, and consistent variants over years.

`seed_figures.json` holds the seeds' printed numbers (null = a cell printed blank); nothing else from the
seeds is used. Other years, and the governments of the same cities, are generated so that every identity the
checks know holds: row totals, 一+二 = 三(七)+四 per column, results summing to 总计, review totals, and across
years 上年结转 = last year's 结转下年度 and (2019 format) 上一年项目数量 = last year's + 本年增/减.
Deterministic: the same agency and years give the same figures on every machine.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from crawler import template as tpl

Number = int | float
APPLICANTS = [c for c, _ in tpl.APPLICANT_COLUMNS if c != "total"]
# How often each outcome happens, roughly as real reports show (予以公开 and 不掌握 dominate).
_RESULT_WEIGHTS = {
    "granted": 6.0,
    "partial": 1.5,
    "refused.state_secret": 0.05,
    "refused.law_prohibited": 0.1,
    "refused.three_safety": 0.05,
    "refused.third_party": 0.4,
    "refused.internal_affairs": 0.2,
    "refused.process_info": 0.3,
    "refused.enforcement_file": 0.1,
    "refused.query_matter": 0.2,
    "unable.not_held": 3.0,
    "unable.needs_creation": 0.4,
    "unable.unclear": 0.4,
    "not_processed.petition": 0.6,
    "not_processed.duplicate": 0.5,
    "not_processed.publication": 0.1,
    "not_processed.excessive": 0.1,
    "not_processed.confirmation": 0.2,
    "other": 0.5,
    "other.no_correction": 0.3,
    "other.unpaid_fee": 0.05,
    "other.other": 0.3,
}
_APPLICANT_WEIGHTS = {
    "natural_person": 8.0,
    "commercial": 1.5,
    "research": 0.2,
    "social_welfare": 0.2,
    "legal_service": 0.5,
    "other_org": 0.6,
}


@dataclass
class Figures:
    agency: str
    year: int
    template: str
    cells: dict[str, Number | None] = field(default_factory=dict)

    def total(self, row: str) -> Number:
        return self.cells.get(f"applications.{row}.total") or 0

    def copy(self, **changes) -> Figures:
        return replace(self, cells=dict(self.cells), **changes)


@cache
def seed_figures() -> tuple[Figures, ...]:
    raw = json.loads(Path(__file__).with_name("seed_figures.json").read_text(encoding="utf-8"))
    return tuple(Figures(r["agency"], r["year"], r["template"], r["cells"]) for r in raw)


def _split(rng: random.Random, n: int, weights: dict[str, float]) -> dict[str, int]:
    keys = list(weights)
    out = dict.fromkeys(keys, 0)
    for k in rng.choices(keys, weights=[weights[k] for k in keys], k=n):
        out[k] += 1
    return out


def _rows(template: str) -> list[str]:
    return [r for r, _ in tpl.application_rows(template)]


def _set_row(cells: dict, row: str, values: dict[str, int]) -> None:
    for c in APPLICANTS:
        cells[f"applications.{row}.{c}"] = values.get(c, 0)
    cells[f"applications.{row}.total"] = sum(values.get(c, 0) for c in APPLICANTS)


def applications(
    template: str, rng: random.Random, scale: int, carried: dict[str, int], carry_forward: dict[str, int] | None = None
) -> dict[str, Number]:
    """Table 三 for one year: new requests per applicant, outcomes, and what carries into next year."""
    cells: dict[str, Number] = {}
    new = _split(rng, rng.randint(scale, scale * 4), _APPLICANT_WEIGHTS)
    results_rows = tpl.result_rows(template)
    weights = {r: _RESULT_WEIGHTS[r] for r in results_rows}
    outcome: dict[str, dict[str, int]] = {r: {} for r in results_rows}
    forward: dict[str, int] = {}
    for c in APPLICANTS:
        pool = new[c] + carried.get(c, 0)
        want = carry_forward.get(c, 0) if carry_forward is not None else min(pool, rng.choice([0, 0, 0, 1, 2]))
        if pool < want:  # going back in time: this year must have had enough requests to carry `want`
            new[c] += want - pool
            pool = want
        forward[c] = want
        for r, n in _split(rng, pool - want, weights).items():
            outcome[r][c] = n
    _set_row(cells, "new", new)
    _set_row(cells, "carried_over", carried)
    for r in results_rows:
        _set_row(cells, r, outcome[r])
    _set_row(cells, "handled_total", {c: sum(outcome[r].get(c, 0) for r in results_rows) for c in APPLICANTS})
    _set_row(cells, "carry_forward", forward)
    return cells


def review_litigation(rng: random.Random, scale: int) -> dict[str, int]:
    cells: dict[str, int] = {}
    for group, _ in tpl.REVIEW_GROUPS:
        parts = {
            col: (rng.choice([0, 0, 0, 1]) * rng.randint(1, max(1, scale // 2)))
            for col in ("upheld", "corrected", "other", "pending")
        }
        if group != "review":
            parts = {k: v // 2 for k, v in parts.items()}
        cells.update({f"{group}.{k}": v for k, v in parts.items()})
        cells[f"{group}.total"] = sum(parts.values())
    return cells


def active(template: str, rng: random.Random, scale: int, prev: dict[str, Number] | None) -> dict[str, Number]:
    """Table 二. In the 2019 format each item row's 上一年项目数量 follows from last year's row."""
    cells: dict[str, Number] = {}
    for row, _, _, cols in tpl.ACTIVE_ROWS[template]:
        if template == "2019" and "prev_count" in cols:
            before = prev.get(f"active.{row}.prev_count") if prev else None
            change_before = prev.get(f"active.{row}.change") if prev else None
            count = (before or 0) + (change_before or 0) if before is not None else rng.randint(0, 20 * scale)
            change = max(-count, rng.randint(-3, 6))
            cells[f"active.{row}.prev_count"] = count
            cells[f"active.{row}.change"] = change
            if "decisions" in cols:
                cells[f"active.{row}.decisions"] = rng.randint(0, 50 * scale)
        elif row == "procurement":
            cells["active.procurement.items"] = rng.randint(0, 12)
            cells["active.procurement.amount"] = round(rng.uniform(0, 900) * scale, 2)
        elif "made" in cols:
            made = rng.randint(0, 3 * scale)
            cells.update(
                {
                    f"active.{row}.made": made,
                    f"active.{row}.published": made,
                    f"active.{row}.total": made + rng.randint(0, 40),
                }
            )
        elif "issued" in cols:
            issued, repealed = rng.randint(0, 3 * scale), rng.randint(0, 2)
            cells.update(
                {
                    f"active.{row}.issued": issued,
                    f"active.{row}.repealed": repealed,
                    f"active.{row}.in_force": issued + rng.randint(5, 60),
                }
            )
        elif row == "fees":
            cells["active.fees.amount"] = round(rng.uniform(0, 500) * scale, 2)
        else:
            cells[f"active.{row}.decisions"] = rng.randint(0, 80 * scale)
    return cells


def _per_column(cells: dict, row: str) -> dict[str, int]:
    return {c: int(cells.get(f"applications.{row}.{c}") or 0) for c in APPLICANTS}


def _complete(seed: Figures, rng: random.Random, scale: int) -> Figures:
    """A seed with the parts its document does not print (the truncated Zibo seed) filled in consistently."""
    f = seed.copy()
    c = f.cells
    if f"applications.new.{APPLICANTS[0]}" not in c:
        handled, forward, carried = (_per_column(c, r) for r in ("handled_total", "carry_forward", "carried_over"))
        _set_row(c, "new", {k: handled[k] + forward[k] - carried[k] for k in APPLICANTS})
    for key, value in active(f.template, rng, scale, None).items():
        c.setdefault(key, value)
    for key, value in review_litigation(rng, scale).items():
        c.setdefault(key, value)
    return f


def _year(
    agency: str, year: int, rng: random.Random, scale: int, prev: Figures | None, forward: dict | None
) -> Figures:
    template = tpl.expected_template(year) or "2019"
    carried = _per_column(prev.cells, "carry_forward") if prev else {c: rng.choice([0, 0, 1]) for c in APPLICANTS}
    cells = applications(template, rng, scale, carried, forward)
    cells.update(active(template, rng, scale, prev.cells if prev and prev.template == template else None))
    cells.update(review_litigation(rng, scale))
    return Figures(agency, year, template, cells)


def series(agency: str, years: list[int], *, scale: int = 1, seed: Figures | None = None) -> dict[int, Figures]:
    """One agency's figures for `years`, consistent from year to year, through the seed's year if given."""
    rng = random.Random(f"{agency}:{scale}")
    out: dict[int, Figures] = {}
    if seed is None:
        prev = None
        for y in sorted(years):
            prev = out[y] = _year(agency, y, rng, scale, prev, None)
        return out
    anchor = _complete(seed, rng, scale)
    out[anchor.year] = anchor
    prev = anchor
    for y in sorted(y for y in years if y > anchor.year):
        prev = out[y] = _year(agency, y, rng, scale, prev, None)
    nxt = anchor
    for y in sorted((y for y in years if y < anchor.year), reverse=True):
        f = _year(agency, y, rng, scale, None, _per_column(nxt.cells, "carried_over"))
        if f.template == "2019" and nxt.template == "2019":
            # 上一年项目数量 of next year = this year's count + change: pick the change, derive the count.
            for key in [k for k in f.cells if k.endswith(".prev_count")]:
                row = key.rsplit(".", 1)[0]
                target = nxt.cells.get(key)
                if target is None:
                    continue
                change = min(rng.randint(-3, 6), target)
                f.cells[f"{row}.change"] = change
                f.cells[key] = target - change
        out[y] = nxt = f
    return {y: out[y] for y in years if y in out}


def make_inconsistent(f: Figures, delta: int = 3) -> Figures:
    """予以公开 raised by `delta` in its row while （七）总计 stays: the results no longer add up."""
    g = f.copy()
    g.cells["applications.granted.natural_person"] = (g.cells.get("applications.granted.natural_person") or 0) + delta
    g.cells["applications.granted.total"] = (g.cells.get("applications.granted.total") or 0) + delta
    return g

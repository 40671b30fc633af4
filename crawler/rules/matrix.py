"""The in-table identities over many reports at once, as one matrix product per chunk.

Each identity is a column of coefficients (+1 left, −1 right) over the template's cell keys, so
the residuals of N reports are `values @ C`. Semantics match engine.py: a missing cell makes the
identity not assessable, a blank (NaN in `blank`-as-zero input) counts as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from crawler import template as tpl
from crawler.rules.identities import Identity, identities

PASS, FAIL, NOT_ASSESSABLE = 0, 1, 2
STATUS_NAMES = ("pass", "fail", "not_assessable")


@dataclass(frozen=True)
class Compiled:
    keys: tuple[str, ...]  # column order of the value matrix
    identities: tuple[Identity, ...]
    coeff: np.ndarray  # (len(keys), len(identities)) float64: +1 / −1 / 0
    involved: np.ndarray  # same shape, float32: 1 where the identity uses the cell


@cache
def compile_template(template: str) -> Compiled:
    keys = tpl.keys(template)
    col = {k: i for i, k in enumerate(keys)}
    idents = identities(template)
    coeff = np.zeros((len(keys), len(idents)))
    for j, ident in enumerate(idents):
        for k in ident.left:
            coeff[col[k], j] += 1
        for k in ident.right:
            coeff[col[k], j] -= 1
    involved = np.zeros_like(coeff, dtype=np.float32)
    for j, ident in enumerate(idents):
        for k in ident.cells:
            involved[col[k], j] = 1
    return Compiled(keys, idents, coeff, involved)


def statuses(compiled: Compiled, values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """(N, identities) array of PASS/FAIL/NOT_ASSESSABLE.

    `values`: (N, keys) float64, blanks already 0. `missing`: (N, keys) bool, True where the
    document lacks the cell (None = nothing missing).
    """
    residual = values @ compiled.coeff
    out = np.where(np.abs(residual) > 1e-6, FAIL, PASS).astype(np.int8)
    if missing is not None and missing.any():
        touched = missing.astype(np.float32) @ compiled.involved
        out[touched > 0] = NOT_ASSESSABLE
    return out


def values_matrix(compiled: Compiled, reports: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Dense (values, missing) matrices from {key: value | None} mappings (None = blank → 0)."""
    n, k = len(reports), len(compiled.keys)
    values = np.zeros((n, k))
    missing = np.ones((n, k), dtype=bool)
    col = {key: i for i, key in enumerate(compiled.keys)}
    for i, cells in enumerate(reports):
        for key, v in cells.items():
            j = col.get(key)
            if j is not None:
                missing[i, j] = False
                values[i, j] = v or 0
    return values, missing

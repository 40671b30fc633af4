"""Where the shared material is: ../shared beside the checkout (here and in CI); XXGK_SHARED overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("XXGK_SHARED", ROOT.parent / "shared"))


def seed_paths() -> list[Path]:
    return sorted((SHARED / "seeds").glob("*.txt"))


def expected_for(path: Path) -> dict:
    return json.loads((path.parent / "expected" / f"{path.stem}.json").read_text())

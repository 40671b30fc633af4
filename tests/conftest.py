import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared sits beside the checkout (here and in CI); XXGK_SHARED overrides.
SHARED = Path(os.environ.get("XXGK_SHARED", ROOT.parent / "shared"))
os.environ.setdefault("TELNETCONSOLE_ENABLED", "False")


def seed_paths() -> list[Path]:
    return sorted((SHARED / "seeds").glob("*.txt"))


def expected_for(path: Path) -> dict:
    return json.loads((path.parent / "expected" / f"{path.stem}.json").read_text())


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"shared material not found at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def real_pdf(shared) -> Path:
    return shared / "real" / "huaian-city-gov-2024.pdf"

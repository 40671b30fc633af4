"""Fixtures every test area uses. Helpers live in tests/support (on sys.path through pytest's `pythonpath`)."""

import os
from pathlib import Path

import pytest
from support.shared import SHARED

os.environ.setdefault("TELNETCONSOLE_ENABLED", "False")


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"shared material not found at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def real_pdf(shared) -> Path:
    return shared / "real" / "huaian-city-gov-2024.pdf"

"""The five real seeds and the real PDF come out exactly as hand-labelled."""

import json
import subprocess
import sys

import pytest
from support.shared import expected_for, seed_paths

from crawler.parsing import parse_file


def assert_matches(contract: dict, expected: dict) -> None:
    for field in ("agency", "year", "template", "signed_date"):
        if field in expected:
            assert contract[field] == expected[field], field
    got, want = contract["cells"], expected["cells"]
    assert set(got) == set(want), {"extra": sorted(set(got) - set(want)), "missing": sorted(set(want) - set(got))}
    wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k] or (got[k] is None) != (want[k] is None)}
    assert not wrong


@pytest.mark.parametrize("path", seed_paths(), ids=lambda p: p.stem)
def test_seed_exact(path):
    assert_matches(parse_file(path).contract(), expected_for(path))


def test_zibo_truncated_seed_gains_no_cells():
    path = next(p for p in seed_paths() if expected_for(p)["agency"].startswith("淄博"))
    report = parse_file(path)
    assert "applications.new.total" not in report.cells
    assert "active.licensing.prev_count" not in report.cells
    assert any(f.rule == "parse.missing_cells" for f in report.findings)


def test_jiaxing_blanks_are_null_with_a_finding():
    path = next(p for p in seed_paths() if expected_for(p)["agency"].startswith("嘉兴"))
    report = parse_file(path)
    blank = next(f for f in report.findings if f.rule == "parse.blank_cells")
    assert "applications.partial.total" in blank.cells
    assert report.cells["applications.partial.total"].value is None


def test_real_pdf_exact(real_pdf, shared):
    expected = json.loads((shared / "real" / "expected" / "huaian-city-gov-2024.json").read_text())
    report = parse_file(real_pdf)
    assert report.format == "pdf" and report.pages == 6
    assert_matches(report.contract(), expected)


def test_cli_json_contract_and_exit_codes(tmp_path, real_pdf):
    junk = tmp_path / "notes.txt"
    junk.write_text("会议纪要\n今天讨论了三件事。\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "parse", "--json", str(junk), str(real_pdf)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "not an annual report" in err[0]
    out = json.loads(proc.stdout)
    assert set(out) == {"agency", "year", "template", "signed_date", "cells", "findings"}
    assert out["cells"]["applications.handled_total.total"] == 3050

"""The template version comes from the table structure, not from the year."""

from support.shared import expected_for, seed_paths

from crawler.parsing import parse_bytes


def _seed(prefix: str):
    return next(p for p in seed_paths() if expected_for(p)["agency"].startswith(prefix))


def test_2023_report_in_2019_layout_is_parsed_as_2019_with_a_finding():
    path = _seed("温州")
    text = path.read_text(encoding="utf-8").replace("2020年", "2023年").replace("2020年度", "2023年度")
    report = parse_bytes(text.encode("utf-8"))
    assert report.year == 2023
    assert report.template == "2019"
    assert report.values() == {k: v for k, v in expected_for(path)["cells"].items()}
    mismatch = [f for f in report.findings if f.rule == "template.year_mismatch"]
    assert len(mismatch) == 1 and mismatch[0].status == "fail"
    assert "2021" in mismatch[0].message


def test_2021_layout_is_detected_without_any_year():
    path = _seed("嘉兴")
    text = path.read_text(encoding="utf-8").replace("2021年度", "").replace("2021年", "")
    report = parse_bytes(text.encode("utf-8"))
    assert report.template == "2021"
    assert "applications.other.no_correction.total" in report.cells
    assert not any(f.rule == "template.year_mismatch" for f in report.findings)


def test_gbk_text_reads_the_same():
    path = _seed("沈阳")
    text = path.read_text(encoding="utf-8")
    report = parse_bytes(text.encode("gb18030"))
    assert report.values() == expected_for(path)["cells"]
    assert report.agency == "沈阳市人民防空办公室"

"""`xxgk import`, the command form of Archive.ingest, on a real archive file."""

from __future__ import annotations

from support.shared import seed_paths

from crawler.cli import main
from storage import Archive


def test_import_with_and_without_flags(tmp_path, real_pdf, capsys):
    db = tmp_path / "a.db"
    seeds = seed_paths()
    assert main(["import", "--db", str(db), *map(str, seeds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and all(": new, version 1," in line for line in out)
    assert (
        main(
            [
                "import",
                "--db",
                str(db),
                "--agency",
                "淮安市政府",
                "--year",
                "2024",
                "--kind",
                "government",
                "--url",
                "https://www.huaian.gov.cn/nb/2024.pdf",
                "--published-at",
                "2025-03-20",
                str(real_pdf),
            ]
        )
        == 0
    )
    assert "淮安市政府 2024年: new" in capsys.readouterr().out
    with Archive(db) as archive:
        report = archive.reports.for_agency_year("淮安市政府", 2024)
        assert (report.source_url, report.kind, report.published_at, report.published_source) == (
            "https://www.huaian.gov.cn/nb/2024.pdf",
            "government",
            "2025-03-20",
            "manual",
        )
        wenzhou = archive.reports.for_agency_year("温州市人民防空办公室", 2020)
        assert wenzhou.source_url == seeds[0].resolve().as_uri()  # file:// URL by default
        assert len(archive.reports.list()) == 6
    # Again: nothing new.
    assert main(["import", "--db", str(db), *map(str, seeds)]) == 0
    assert all(line.endswith("already archived, unchanged") for line in capsys.readouterr().out.splitlines())


def test_one_bad_file_does_not_stop_the_others(tmp_path, capsys):
    db = tmp_path / "a.db"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02" * 400)
    missing = tmp_path / "missing.pdf"
    seed = seed_paths()[3]
    assert main(["import", "--db", str(db), str(junk), str(missing), str(seed)]) == 2
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert len(errors) == 2
    assert (
        errors[0].startswith(f"xxgk import: {junk}: ")
        and "[unsupported]" in errors[0]
        and "archived as report #1" in errors[0]
    )
    assert errors[1] == f"xxgk import: {missing}: cannot read file (No such file or directory)"
    assert "嘉兴市人民防空办公室 2021年: new" in captured.out
    with Archive(db) as archive:
        # The unreadable file is archived all the same, with its reason.
        assert [(r.parse_status, r.parse_reason) for r in archive.reports.list()] == [
            ("failed", "unsupported"),
            ("ok", None),
        ]


def test_url_names_one_document(tmp_path, capsys):
    seeds = [str(p) for p in seed_paths()[:2]]
    assert main(["import", "--db", str(tmp_path / "a.db"), "--url", "https://x.gov.cn/a.pdf", *seeds]) == 2
    assert "give one FILE" in capsys.readouterr().err

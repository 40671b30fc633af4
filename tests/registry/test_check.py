"""`xxgk registry check` and the loader behind it: every bad registry is one line FILE:LINE: message, never a
traceback, and `xxgk crawl` says the same line; a good registry loads exactly as before."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import run_xxgk

from crawler.registry import DEFAULT_PATH, RegistryError, check_registry, load_registry, parse_registry
from crawler.replica.registry import registry_yaml, replica_registry

GOOD = """\
portals:
  - id: demo
    name: 某市人民政府
    cms: generic
    start_url: http://127.0.0.1:9/zfxxgknb/
    domains: [127.0.0.1]
    agencies:
      - {name: 某市人民政府, kind: government}
"""


def problems(write, text) -> list[str]:
    registry, found = check_registry(write(text))
    assert registry is None
    return [str(p) for p in found]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("- just\n- a list\n", 1, "must be a mapping with a 'portals:' list"),
        (
            "portals:\n  - name: x\n    cms: generic\n    start_url: http://a.gov.cn/\n    domains: [a.gov.cn]\n",
            2,
            "missing field 'id'",
        ),
        (
            GOOD.replace("      - {name: 某市人民政府, kind: government}", "      - 某市人民政府"),
            8,
            "an agency must be a mapping",
        ),
        (GOOD.replace("[127.0.0.1]", '"127.0.0.1"'), 6, "domains must be a list"),
        (
            GOOD.replace("kind: government}", 'kind: government, first_year: "abc"}'),
            8,
            "first_year must be a whole number",
        ),
        (GOOD.replace("kind: government}", 'kind: government, deadline: "13-45"}'), 8, "is not a day of the year"),
        (GOOD.replace("cms: generic", "cms: hanwb"), 4, "did you mean 'hanweb'?"),
        (GOOD.replace("    domains:", "    domain:"), 6, "unknown portal field 'domain' (did you mean 'domains'?)"),
        (GOOD.replace("kind: government}", "knd: government}"), 8, "unknown agency field 'knd' (did you mean 'kind'?)"),
        (GOOD + GOOD.split("portals:\n", 1)[1], 9, "duplicate id 'demo'"),
        (GOOD.replace("http://127.0.0.1:9/", "http://127.0.0.2:9/"), 5, "outside the portal's domains"),
        (GOOD.replace("[127.0.0.1]", "[http://127.0.0.1/]"), 6, "a domain is a host name, not a URL"),
        (GOOD + "    js: true\n    js: false\n", 10, "written twice"),
        ("portals: [\n", 2, "not valid YAML"),
    ],
)
def test_each_bad_registry_is_one_located_line(write, text, line, words):
    found = problems(write, text)
    assert found, "a bad registry must report a problem"
    first = found[0]
    assert first.startswith(f"{write(text)}:{line}: "), found
    assert words in first, found
    assert all("\n" not in p for p in found)


def test_non_utf8_file_is_one_line(write):
    path = write("portals:\n  - name: 温州\n".encode("gbk"))
    registry, found = check_registry(path)
    assert registry is None and [str(p) for p in found] == [
        f"{path}:2: not UTF-8 text (byte 0xce): save the registry as UTF-8"
    ]


def test_a_domain_string_is_refused_not_split_into_characters(write):
    """The bug from issue 11: `domains: "127.0.0.1"` became ('1', '2', '7', '.', …)."""
    with pytest.raises(RegistryError, match=r"domains must be a list.*write domains: \[127\.0\.0\.1\]"):
        load_registry(write(GOOD.replace("[127.0.0.1]", '"127.0.0.1"')))
    assert load_registry(write(GOOD)).portals[0].domains == ("127.0.0.1",)


def test_a_registry_is_built_once_per_process_until_its_file_changes(write):
    """`xxgk crawl` reads the registry and so does Scrapy's spider loader: the second read is the same object;
    a changed file (even of the same size) is read again, and a broken one still raises."""
    path = write(GOOD)
    first = load_registry(path)
    assert load_registry(path) is first
    path.write_text(GOOD.replace("某市人民政府, kind", "某县人民政府, kind"), encoding="utf-8")
    assert load_registry(path).portals[0].agencies[0].name == "某县人民政府"
    path.write_text(GOOD.replace("cms: generic", "cms: nosuch"), encoding="utf-8")
    with pytest.raises(RegistryError):
        load_registry(path)


def test_registry_error_is_the_first_problem_and_counts_the_rest(write):
    path = write(GOOD.replace("cms: generic", "cms: nosuch").replace("kind: government}", "kind: govt}"))
    with pytest.raises(RegistryError) as e:
        load_registry(path)
    assert len(e.value.problems) == 2
    assert str(e.value) == f"{e.value.problems[0]} (and 1 more: xxgk registry check {path})"


def test_parse_registry_of_data_says_where_by_path():
    with pytest.raises(RegistryError, match=r"^registry: portals\[0\]\.agencies\[0\]\.kind: kind must be one of"):
        parse_registry(
            {
                "portals": [
                    {
                        "id": "a",
                        "name": "a",
                        "cms": "generic",
                        "start_url": "http://a.gov.cn/",
                        "domains": ["a.gov.cn"],
                        "agencies": [{"name": "x", "kind": "govt"}],
                    }
                ]
            }
        )


def test_the_bundled_and_replica_registries_load_as_before(tmp_path):
    bundled = load_registry()
    assert [p.id for p in bundled.portals] == ["wenzhou", "shenyang", "zibo", "jiaxing", "dadukou"]
    assert sum(len(p.agencies) for p in bundled.portals) == 10
    assert load_registry(DEFAULT_PATH) == bundled
    base = "http://127.0.0.1:8001"
    path = tmp_path / "demo.yaml"
    path.write_text(registry_yaml(base), encoding="utf-8")
    assert load_registry(path) == replica_registry(base)
    # the fields the crawler reads are untouched by the new optional ones
    for p in replica_registry(base).portals:
        assert dataclasses.replace(p, evidence=()) == p


def test_cli_check_ok_prints_one_summary_line():
    done = run_xxgk("registry", "check")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and ": ok — 5 portals" in lines[0] and "10 agencies" in lines[0]


def test_cli_check_bad_exits_2_with_one_line_each_and_crawl_says_the_same(write, tmp_path):
    path = write(GOOD.replace("[127.0.0.1]", '"127.0.0.1"').replace("cms: generic", "cms: hanwb"))
    done = run_xxgk("registry", "check", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[:2] == [
        f"{path}:4: cms must be one of trs, hanweb, fujian, jsonapi, generic, got 'hanwb' (did you mean 'hanweb'?)",
        f"{path}:6: domains must be a list, got the text '127.0.0.1' — write domains: [127.0.0.1]",
    ]
    crawl = run_xxgk("crawl", "--registry", str(path), "--db", str(tmp_path / "x.db"), "-q")
    assert crawl.returncode == 2 and "Traceback" not in crawl.stderr
    assert f"xxgk crawl: {lines[0]} (and 1 more: xxgk registry check {path})" in crawl.stderr.splitlines()
    assert not (tmp_path / "x.db").exists()


def test_cli_check_reads_xxgk_registry(write):
    path = write(GOOD.replace("cms: generic", "cms: nosuch"))
    done = run_xxgk("registry", "check", env={"XXGK_REGISTRY": str(path)})
    assert done.returncode == 2 and done.stderr.startswith(f"{path}:4: cms must be one of")


def test_help_lists_the_environment():
    done = run_xxgk("registry", "--help")
    assert done.returncode == 0 and "XXGK_REGISTRY" in done.stdout and "XXGK_MODOOD_DIR" in done.stdout


def test_the_bundled_registry_is_backed_by_evidence_and_unverified():
    from urllib.parse import urlsplit

    from crawler.registry_schema import host_in

    for p in load_registry().portals:
        assert p.verified is False, p.id  # nobody fetched them from here
        assert p.evidence, f"{p.id}: no evidence beside its URL"
        for e in (*p.evidence, *(e for a in p.agencies for e in a.evidence)):
            assert e.kind == "saved_page" and e.note
            assert host_in(urlsplit(e.source).hostname or "", p.domains), (p.id, e.source)  # a page of this portal


NATIONAL_LOAD = """
import os
import sys
from pathlib import Path

def rss_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20

from crawler.registry import load_registry  # the imports are not what is measured
import pydantic, yaml  # noqa: F401
before = rss_mb()
registry = load_registry(sys.argv[1])
print(len(registry.portals), sum(len(p.agencies) for p in registry.portals), rss_mb() - before)
"""


def test_a_national_registry_costs_its_size_in_memory_not_its_parse(tmp_path):
    """3,000 portals × 6 agencies (a 5 MB file): its parse takes ≈ 170 MB; the loaded registry must not keep it
    (it kept ≈ 160 MB in every process that loads the registry). CPython's own allocator is what is measured."""
    import os
    import subprocess
    import sys

    lines = ["portals:"]
    for n in range(3000):
        host = f"127.10.{n // 250}.{n % 250 + 1}"
        lines += [
            f"  - id: p{n:04d}",
            f"    name: 第{n}县人民政府",
            "    cms: trs",
            f"    start_url: http://{host}/zwgk/zfxxgknb/index.html",
            f"    domains: [{host}]",
            "    agencies:",
        ]
        for dept in ("人民政府", "教育局", "民政局", "财政局", "交通运输局", "农业农村局"):
            kind = "government" if dept == "人民政府" else "department"
            lines += [
                f"      - name: 第{n}县{dept}",
                f"        kind: {kind}",
                "        province: 河北省",
                f"        county: 第{n}县",
                "        level: county",
                f"        listing_url: http://{host}/zwgk/zfxxgknb/index.html",
                "        first_year: 2019",
            ]
    path = tmp_path / "national.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", NATIONAL_LOAD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"},
    )
    portals, agencies, grew = map(int, out.stdout.split())
    assert (portals, agencies) == (3000, 18000)
    assert grew < 60, f"loading the registry kept {grew} MB"

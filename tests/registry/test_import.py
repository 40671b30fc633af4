"""`xxgk registry import agencies.csv`: a documented CSV becomes registry YAML that `registry check` accepts;
each bad row is one line with its CSV line number and nothing is written."""

from __future__ import annotations

from conftest import run_xxgk

from crawler.registry import load_registry
from crawler.registry_csv import parse_csv, portal_id

HEADER = "name,kind,province,city,county,level,portal,domains\n"
ROWS = (
    "温州市人民政府,government,浙江省,温州市,,city,https://www.wenzhou.gov.cn/col/col1229116978/index.html,wenzhou.gov.cn\n"
    "温州市人民防空办公室,department,浙江省,温州市,,city,https://www.wenzhou.gov.cn/col/col1229116978/index.html,\n"
    "杭州市西湖区人民政府,government,浙江省,杭州市,西湖区,county,http://www.hzxh.gov.cn/,hzxh.gov.cn; xihu.gov.cn\n"
    "温州市教育局,department,浙江省,温州市,,city,http://edu.wenzhou.gov.cn/,\n"
    "温州市某局,department,浙江省,温州市,,city,https://www.wenzhou.gov.cn/col/col2/index.html,\n"
)


def test_rows_become_one_portal_per_url_with_ids_from_the_host(write, tmp_path):
    csv = write(HEADER + ROWS, "agencies.csv")
    out = tmp_path / "out.yaml"
    done = run_xxgk("registry", "import", str(csv), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{out}: 4 portals, 5 agencies"
    registry = load_registry(out)  # what `registry check` runs
    assert [p.id for p in registry.portals] == ["wenzhou", "hzxh", "wenzhou-edu", "wenzhou-2"]
    wz = registry.portals[0]
    assert [a.name for a in wz.agencies] == ["温州市人民政府", "温州市人民防空办公室"]
    assert wz.cms == "generic" and wz.verified is False and wz.domains == ("wenzhou.gov.cn",)
    assert registry.portals[1].domains == ("hzxh.gov.cn", "xihu.gov.cn")  # "; "-separated
    assert registry.portals[2].domains == ("wenzhou.gov.cn",)  # empty: the URL's registrable domain
    assert run_xxgk("registry", "check", str(out)).returncode == 0


def test_an_optional_cms_column_is_used():
    result = parse_csv(
        "name,kind,province,city,county,level,portal,domains,cms\n"
        "某市人民政府,government,,,,city,http://www.a.gov.cn/col/col1/index.html,,hanweb\n"
    )
    assert not result.problems and result.portals[0]["cms"] == "hanweb"


def test_bad_rows_are_one_line_each_with_their_line_number(write):
    text = (
        HEADER
        + ROWS.splitlines(keepends=True)[0]
        + "坏机关,govt,浙江省,,,city,http://x.gov.cn/,\n"
        + "\n"
        + "缺网址,department,浙江省,,,city,,\n"
        + '"多行\n名称",department,浙江省,,,town,http://y.gov.cn/,\n'
        + "错域名,government,浙江省,,,county,http://www.a.gov.cn/,b.gov.cn\n"
    )
    csv = write(text, "agencies.csv")
    done = run_xxgk("registry", "import", str(csv))
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines == [
        f"{csv}:3: kind must be one of department, government, got the text 'govt'",
        f"{csv}:5: portal is empty: give the URL of the agency's report column or home page",
        f"{csv}:6: level must be one of province, city, county, township, got the text 'town' (did you mean 'township'?)",
        f"{csv}:8: start_url host 'www.a.gov.cn' is outside the portal's domains ['b.gov.cn']: the crawl would refuse it",
        f"{csv}: 4 problem(s) in 5 rows; nothing written",
    ]


def test_header_mistakes_get_a_did_you_mean(write):
    csv = write("name,knd,province,city,county,level,portal,domains\n", "agencies.csv")
    done = run_xxgk("registry", "import", str(csv))
    assert done.returncode == 2
    assert done.stderr.splitlines()[:2] == [
        f"{csv}:1: unknown column 'knd' (did you mean 'kind'?)",
        f"{csv}:1: missing column(s) kind",
    ]


def test_a_gbk_csv_is_refused_with_the_fix(write):
    csv = write((HEADER + ROWS).encode("gb18030"), "agencies.csv")
    done = run_xxgk("registry", "import", str(csv))
    assert done.returncode == 2 and done.stderr.startswith(f"{csv}:2: not UTF-8 text")


def test_ids_for_ip_hosts_and_repeats():
    taken: set[str] = set()
    assert portal_id("127.0.0.1", taken) == "127-0-0-1"
    assert portal_id("127.0.0.1", taken) == "127-0-0-1-2"
    assert portal_id("xxgk.hangzhou.gov.cn", taken) == "hangzhou-xxgk"

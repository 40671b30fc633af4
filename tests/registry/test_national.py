"""The national list of people's governments: counts per province against modood's CSVs (read from
../shared at test time), the naming rules, and the coverage line."""

from __future__ import annotations

import pytest
from conftest import run_xxgk

from crawler import national
from crawler.modood import cross_check
from crawler.registry import load_registry, parse_registry


@pytest.fixture(scope="module")
def modood(shared):
    path = shared / "real2" / "portals" / "registry" / "modood"
    assert (path / "areas.csv").is_file(), f"modood data not found in {path}"
    return path


@pytest.fixture(scope="module")
def checks(modood):
    return cross_check(modood)


def _modood_counts(modood, province: str) -> tuple[int, int]:
    """Prefecture- and county-level governments in modood, counted from its CSVs here, independently of
    crawler/modood.py: placeholders, NBS statistical areas (code digit 5 is 7) and self-listed cities left out."""
    import csv

    provinces = {r["name"]: r["code"] for r in csv.DictReader((modood / "provinces.csv").open(encoding="utf-8"))}
    code = provinces[province]
    cities = {
        r["code"]: r["name"]
        for r in csv.DictReader((modood / "cities.csv").open(encoding="utf-8"))
        if r["provinceCode"] == code
    }
    real_cities = {
        c for c, n in cities.items() if n not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
    }
    areas = [r for r in csv.DictReader((modood / "areas.csv").open(encoding="utf-8")) if r["provinceCode"] == code]
    counties = [a for a in areas if a["code"][4] != "7" and a["name"] != cities.get(a["cityCode"])]
    return len(real_cities), len(counties)


@pytest.mark.parametrize(
    "province, expected",
    [
        ("浙江省", {"province": 1, "city": 11, "county": 90}),
        ("广东省", {"province": 1, "city": 21, "county": 122}),  # 东莞市, 中山市: prefecture level only
        ("北京市", {"province": 1, "city": 0, "county": 16}),
        ("四川省", {"province": 1, "city": 21, "county": 183}),
    ],
)
def test_counts_match_modood_where_nothing_changed(modood, province, expected):
    assert national.counts(province)[province] == expected
    assert _modood_counts(modood, province) == (expected["city"], expected["county"])


def test_changes_since_the_modood_snapshot_are_the_only_differences(modood, checks):
    # 重庆市: 江北区 and 渝北区 became 两江新区 (2025-11): one county-level government fewer.
    assert national.counts("重庆市")["重庆市"]["county"] == _modood_counts(modood, "重庆市")[1] - 1 == 37
    # 新疆: 和安县 and 和康县 (2024-12) are new.
    assert (
        national.counts("新疆维吾尔自治区")["新疆维吾尔自治区"]["county"]
        == _modood_counts(modood, "新疆维吾尔自治区")[1] + 2
    )
    assert all(not c.unexplained for c in checks.values()), {
        p: c.unexplained for p, c in checks.items() if c.unexplained
    }
    assert all(c.ours["city"] == c.theirs["city"] and c.ours["province"] == 1 for c in checks.values())
    assert len(checks) == 31


def test_totals():
    c = national.counts()
    assert len(c) == 31
    assert sum(r["city"] for r in c.values()) == 333  # 293 地级市, 30 自治州, 7 地区, 3 盟
    assert sum(r["county"] for r in c.values()) == 2845


@pytest.mark.parametrize(
    "name, place",
    [
        ("浙江省人民政府", ("浙江省", None, None, "province")),
        ("内蒙古自治区人民政府", ("内蒙古自治区", None, None, "province")),
        ("杭州市人民政府", ("浙江省", "杭州市", None, "city")),
        ("杭州市西湖区人民政府", ("浙江省", "杭州市", "西湖区", "county")),  # a district carries its city's name
        ("南昌市西湖区人民政府", ("江西省", "南昌市", "西湖区", "county")),
        ("淳安县人民政府", ("浙江省", "杭州市", "淳安县", "county")),
        ("建德市人民政府", ("浙江省", "杭州市", "建德市", "county")),  # 县级市
        ("景宁畲族自治县人民政府", ("浙江省", "丽水市", "景宁畲族自治县", "county")),
        ("科尔沁右翼前旗人民政府", ("内蒙古自治区", "兴安盟", "科尔沁右翼前旗", "county")),
        ("兴安盟行政公署", ("内蒙古自治区", "兴安盟", None, "city")),  # a 盟 has a 行政公署
        ("阿克苏地区行政公署", ("新疆维吾尔自治区", "阿克苏地区", None, "city")),
        ("延边朝鲜族自治州人民政府", ("吉林省", "延边朝鲜族自治州", None, "city")),
        ("重庆市大渡口区人民政府", ("重庆市", None, "大渡口区", "county")),  # a municipality's district
        ("城口县人民政府", ("重庆市", None, "城口县", "county")),
        ("济源市人民政府", ("河南省", None, "济源市", "county")),  # administered by the province directly
        ("神农架林区人民政府", ("湖北省", None, "神农架林区", "county")),
        ("六枝特区人民政府", ("贵州省", "六盘水市", "六枝特区", "county")),
        ("东莞市人民政府", ("广东省", "东莞市", None, "city")),  # no counties
    ],
)
def test_names_follow_real_usage(name, place):
    by_name = {a.name: a for a in national.national_agencies()}
    a = by_name[name]
    assert (a.province, a.city, a.county, a.level) == place and a.kind == "government"


def test_names_are_unique_and_the_excluded_are_out():
    names = [a.name for a in national.national_agencies()]
    assert len(names) == len(set(names)) == 31 + 333 + 2845
    assert not any(n.startswith(("香港", "澳门", "台湾")) for n in names)
    assert "北京市西城区人民政府" in names and "西城区人民政府" not in names


def test_new_divisions_are_expected_from_their_first_year():
    by_name = {a.name: a for a in national.national_agencies("重庆市")}
    assert by_name["重庆市两江新区人民政府"].first_year == 2025
    assert "重庆市江北区人民政府" not in by_name
    assert by_name["重庆市渝中区人民政府"].first_year == 2019


def test_coverage_line_counts_governments_with_a_portal():
    registry = load_registry()
    assert national.coverage(registry, "浙江省").line() == "监测了浙江省 2/102 个县级以上人民政府"
    assert national.coverage(registry, "重庆市").line() == "监测了重庆市 1/38 个县级以上人民政府"
    # a district declared by its bare name but with its place counts too; a department never does
    declared = parse_registry(
        {
            "portals": [
                {
                    "id": "xh",
                    "name": "西湖区人民政府",
                    "cms": "generic",
                    "start_url": "http://www.hzxh.gov.cn/",
                    "domains": ["hzxh.gov.cn"],
                    "agencies": [
                        {
                            "name": "西湖区人民政府",
                            "kind": "government",
                            "province": "浙江省",
                            "city": "杭州市",
                            "county": "西湖区",
                            "level": "county",
                        },
                        {
                            "name": "浙江省人民政府办公厅",
                            "kind": "department",
                            "province": "浙江省",
                            "level": "province",
                        },
                    ],
                }
            ]
        }
    )
    assert national.coverage(declared, "浙江省").monitored == 1
    statuses = {r.agency.name: r.status for r in national.reporters(declared, "浙江省")}
    assert statuses["杭州市西湖区人民政府"] == "monitored"
    assert statuses["浙江省人民政府"] == "unmonitored"  # never "missing": nothing looks for it
    assert set(statuses.values()) == {"monitored", "unmonitored"}


def test_cli_counts_and_yaml(modood, tmp_path):
    done = run_xxgk("registry", "national", "--counts", "--cross-check", str(modood))
    assert done.returncode == 0, done.stderr
    assert "differences with modood: 0 unexplained" in done.stdout
    assert any(
        line.startswith("浙江省") and line.split()[1:5] == ["1", "11", "90", "102"] for line in done.stdout.splitlines()
    )
    assert "重庆市: 江北区: abolished in November 2025" in done.stdout
    yaml_out = run_xxgk("registry", "national", "--province", "浙江省")
    assert yaml_out.returncode == 0
    path = tmp_path / "zj.yaml"
    path.write_text(yaml_out.stdout, encoding="utf-8")
    registry = load_registry(path)  # the output is a valid registry of expected reporters without a portal
    assert registry.portals == () and len(registry.expected) == 102
    cov = run_xxgk("registry", "national", "--coverage", "--province", "浙江省")
    assert cov.stdout.strip() == "监测了浙江省 2/102 个县级以上人民政府"
    bad = run_xxgk("registry", "national", "--province", "浙江")
    assert bad.returncode == 2 and bad.stderr.strip().endswith("(did you mean '浙江省'?)")

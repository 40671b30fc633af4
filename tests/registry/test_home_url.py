"""A portal declared by its home page (self-healing listings): `home_url` with or without start_url, checked like
every other field, one line each."""

from __future__ import annotations

from test_check import GOOD, problems

from crawler.registry import check_registry, parse_registry
from crawler.replica.registry import registry_yaml, replica_registry

HOME_ONLY = GOOD.replace("    start_url: http://127.0.0.1:9/zfxxgknb/\n", "    home_url: http://127.0.0.1:9/\n")


def test_a_portal_may_be_declared_by_its_home_page_only(write):
    registry, found = check_registry(write(HOME_ONLY))
    assert found == []
    (portal,) = registry.portals
    assert portal.home_url == portal.start_url == "http://127.0.0.1:9/" and not portal.declares_column


def test_a_home_page_beside_a_declared_column(write):
    text = GOOD.replace("    domains:", "    home_url: http://127.0.0.1:9/\n    domains:")
    registry, found = check_registry(write(text))
    assert found == []
    (portal,) = registry.portals
    assert portal.start_url == "http://127.0.0.1:9/zfxxgknb/" and portal.home_url == "http://127.0.0.1:9/"
    assert portal.declares_column
    (plain,) = parse_registry({"portals": [{**_portal(), "start_url": "http://127.0.0.1:9/zfxxgknb/"}]}).portals
    assert plain.home_url is None and plain.declares_column


def test_neither_start_url_nor_home_url_is_one_line(write):
    text = GOOD.replace("    start_url: http://127.0.0.1:9/zfxxgknb/\n", "")
    (line,) = problems(write, text)
    assert line.endswith(":2: a portal needs start_url (its 年报 column) or home_url (its home page, to find the column from)")


def test_a_bad_home_url_is_one_line(write):
    (outside,) = problems(write, HOME_ONLY.replace("home_url: http://127.0.0.1:9/", "home_url: http://127.0.0.2:9/"))
    assert ":5: home_url host '127.0.0.2' is outside the portal's domains" in outside
    (scheme,) = problems(write, HOME_ONLY.replace("home_url: http://127.0.0.1:9/", "home_url: ftp://127.0.0.1/"))
    assert ":5: home_url: expected an http:// or https:// URL" in scheme
    (typo,) = problems(write, HOME_ONLY.replace("home_url:", "home_ur:"))
    assert "unknown portal field 'home_ur' (did you mean 'home_url'?)" in typo


def test_the_replica_registry_round_trips_its_home_page_portal(write):
    base = "http://127.0.0.1:8765"
    registry, found = check_registry(write(registry_yaml(base)))
    assert found == [] and registry == replica_registry(base)
    home = [p for p in registry.portals if p.home_url]
    assert [p.id for p in home] == ["demo-dadukou"] and not home[0].declares_column


def _portal() -> dict:
    return {"id": "x", "name": "某市人民政府", "cms": "generic", "domains": ["127.0.0.1"]}

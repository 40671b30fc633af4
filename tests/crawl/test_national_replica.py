"""The national replay's portals (crawler/replica/national.py, what bench/national.py crawls) serve the pages
their header navigation links (首页, 政务公开, …), on every CMS family and on the JavaScript portals (whose
政务公开 link answered 404: a failed listing page in every JS portal's crawl)."""

from __future__ import annotations

import re

from crawler.replica.national import JS_EVERY, NationalWorld

NAVIGATION = ("/index.html", "/zwgk/index.html", "/zwfw/index.html", "/hdjl/index.html", "/sitemap.html")


def test_every_familys_portal_serves_the_pages_its_navigation_links():
    world = NationalWorld(portals=JS_EVERY, reports=JS_EVERY * 6)
    firsts: dict[str, object] = {}
    for p in world.portals:
        firsts.setdefault("js" if p.portal.js else p.portal.cms, p)
    assert set(firsts) == {"trs", "hanweb", "generic", "fujian", "jsonapi", "js"}
    for family, p in firsts.items():
        site = world.site(p, 1)
        pages = [
            r.body.decode("utf-8", "replace")
            for r in site.routes.values()
            if r.body.lstrip()[:15].lower() == b"<!doctype html>"
        ]
        linked = {href for page in pages for href in re.findall(r'href="([^"]+)"', page)}
        assert set(NAVIGATION) <= linked, family  # its pages carry the navigation
        assert [path for path in NAVIGATION if path not in site.routes] == [], family

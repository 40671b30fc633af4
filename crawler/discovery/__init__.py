"""Finding portals' annual-report columns outside a crawl (`xxgk discover`).

    crawler/discovery/pagefetch.py  one page over HTTP(S) under the crawler's Confinement
    crawler/discovery/discover.py   the walk home page → 信息公开 → 年报 column, and its registry YAML
    crawler/discovery/heal.py       the column of a registry portal found from its home page, for the crawl

In the crawl layer (it reads pages with spiders/base's link rules), as its own package: spiders import
crawler.crawl, so a module of crawler.crawl that imported spiders would close a circle.
"""

"""xxgk's Scrapy spiders: one per registry portal, built by spiders.loader from its CMS family's base in
spiders/base/. A module here is for a portal that needs real code of its own."""

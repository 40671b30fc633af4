"""TRS WCM static publishing (most ministries, many provinces and cities).

The column is `.../zfxxgknb/index.html`; page N+1 is `index_N.html`, the count comes from the inline
`createPageHTML(countPage, currentPage, "index", "html")` (or `var countPage = N`); entries are plain links to
`./YYYYMM/tYYYYMMDD_<docid>.html` with the date beside them; report pages carry `<meta name="PubDate">` and the
body in `.TRS_Editor`. ReportSpider already reads all of that; this family adds nothing but its name, and
stays the place to put TRS-only quirks.
"""

from __future__ import annotations

from spiders.base.report import ReportSpider


class TrsSpider(ReportSpider):
    """The trs family's base."""


BASE = TrsSpider  # the family's base class, for spiders.loader

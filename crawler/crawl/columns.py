"""Self-healing listings: the annual-report column of a portal declared by its home page, during a crawl.

For a registry portal with a `home_url`, before its spider starts (`prepare`):
- the column stored in the archive (archive.columns) is crawled;
- a start_url the registry declares and the archive has never had becomes the column (the operator's word);
- with neither, the column is found from the home page (crawler.discovery.heal) and stored with how it was found.

After the spider closed (`after`): when the column answered 404/410, or the walk answered but listed none of the
portal's archived reports, the column is looked for again from the home page. A different one is stored (the old
one gone, superseded by it) and crawled at once in the same run; the check then raises one health alert
「年报栏目地址已变更」 from archive.columns.moves() (crawler/alerts/events.py). When none is found, the listing
is not shown to be the agency's: a 404 leaves the portal unreachable, and a column that stopped holding the
reports has its walk disowned (no listing pages: the deadline check cannot call anything missing from it, and
no report is judged taken down), so its agencies are unverified, never 逾期未公开.

crawler.discovery is reached by name, as Scrapy reaches the spiders (SPIDER_LOADER_CLASS): it reads pages with
the spiders' link rules, and spiders import crawler.crawl.
"""

from __future__ import annotations

import logging

from scrapy.utils.misc import load_object
from twisted.internet import defer, threads

from crawler.crawl.results import PortalResult
from crawler.crawl.session import CrawlSession
from crawler.registry import Portal
from storage.columns import ColumnRecord

logger = logging.getLogger(__name__)

FINDER = "crawler.discovery.heal.find_column"
GONE = {"404": "http_404", "410": "http_410"}  # the column's own answer → why it is gone


def gone_reason(result: PortalResult, column_url: str) -> str | None:
    """http_404 / http_410 when the column itself answered so in this crawl."""
    for f in result.failures:
        if f["url"] == column_url and f["reason"] == "http_error" and f["detail"] in GONE:
            return GONE[f["detail"]]
    return None


class Healing:
    """One portal's column in one run."""

    def __init__(self, session: CrawlSession, portal: Portal, networks: tuple = ()):
        self.session = session
        self.portal = portal
        self.networks = networks
        self.columns = session.archive.columns
        self.finder = load_object(FINDER)
        self.current: ColumnRecord | None = None

    @defer.inlineCallbacks
    def prepare(self):
        """Choose the column this run crawls and tell the session (the spider asks it for its start URL)."""
        pid = self.portal.id
        current = self.columns.current(pid)
        if self.portal.declares_column and not self.columns.known(pid, self.portal.start_url):
            current = self.columns.record(pid, self.portal.start_url, "declared")
        elif current is None:
            search = yield threads.deferToThread(self.finder, self.portal, self.networks)
            if search.column is not None:
                current = self._record(search.column, "discovered")
            else:
                logger.warning("portal %s: no 年报 column found, crawling from the home page: %s", pid, search.note)
        self.current = current
        self.session.columns[pid] = current.url if current else None

    @defer.inlineCallbacks
    def after(self, search_again: bool = True):
        """Whether the column moved and another was adopted (the caller crawls the portal again). After the
        crawl of a column just found, `search_again=False`: it is confirmed, or its walk disowned."""
        pid, column = self.portal.id, self.current
        result = self.session.results.get(pid)
        if column is None or result is None:
            return False
        reason = gone_reason(result, column.url)
        if reason is None:
            holds = self.columns.holds_reports(pid, self.session.run_id)
            if holds is False and result.pages:
                reason = "not_holding"  # it answers, but lists none of the reports the archive has from it
            elif holds or result.listing_pages:
                self.columns.mark_ok(column.id)
        if reason is None:
            return False
        if search_again:
            search = yield threads.deferToThread(self.finder, self.portal, self.networks, {column.url})
            note, found = f"no other column found: {search.note}", search.column
        else:
            note, found = "just after it was found from the home page", None
        if found is None:
            why = f"年报栏目 {column.url} {_GONE_TEXT[reason]}, {note}"
            logger.warning("portal %s: %s", pid, why)
            if reason == "not_holding":
                self.session.disown_listing(pid, column.url, why)
            return False
        new = self._record(found, "rediscovered", replaces=(column.id, reason))
        logger.warning("portal %s: 年报栏目地址已变更 %s → %s (%s; %s)", pid, column.url, new.url, reason, found.how())
        self.current = new
        self.session.columns[pid] = new.url
        return True

    def _record(self, found, how: str, replaces: tuple[int, str] | None = None) -> ColumnRecord:
        """Store a crawler.discovery.heal.FoundColumn (not imported: see the module's last paragraph)."""
        return self.columns.record(
            self.portal.id,
            found.url,
            how,
            found_from=found.found_from,
            link_text=found.link_text,
            home_url=found.home_url,
            reports=found.reports,
            evidence=found.evidence,
            replaces=replaces,
        )


_GONE_TEXT = {
    "http_404": "answers 404",
    "http_410": "answers 410",
    "not_holding": "no longer lists any of the portal's archived reports",
}

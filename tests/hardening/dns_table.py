"""A ConfinedResolver whose name lookups come from a table (XXGK_TEST_DNS_TABLE, JSON name → addresses).

This offline machine resolves no public name, so the one collaborator a real crawl cannot run, DNS, is a
table; everything else (Twisted connecting, the resolver judging the answers, Scrapy recording the failure)
is the real path. Crawls select it with `-s TWISTED_DNS_RESOLVER=dns_table.TableResolver` and this folder on
PYTHONPATH.
"""

from __future__ import annotations

import ipaddress
import json
import os

from twisted.internet.error import DNSLookupError

from crawler.confinement import IPAddress
from crawler.crawl.resolver import ConfinedResolver

TABLE_ENV = "XXGK_TEST_DNS_TABLE"


class TableResolver(ConfinedResolver):
    def lookup(self, name: str) -> list[IPAddress]:
        table = json.loads(os.environ.get(TABLE_ENV, "{}"))
        if name not in table:
            raise DNSLookupError(f"address {name!r} not found: not in the test table")
        return [ipaddress.ip_address(a) for a in table[name]]

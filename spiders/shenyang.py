"""沈阳市人民政府: its portal and reporters are declared in crawler/registry.yaml (id `shenyang`)."""

from spiders.base.trs import TrsSpider


class ShenyangSpider(TrsSpider):
    name = "shenyang"

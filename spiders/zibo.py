"""淄博市人民政府: its portal and reporters are declared in crawler/registry.yaml (id `zibo`)."""

from spiders.base.hanweb import HanwebSpider


class ZiboSpider(HanwebSpider):
    name = "zibo"

"""嘉兴市人民政府: its portal and reporters are declared in crawler/registry.yaml (id `jiaxing`)."""

from spiders.base.hanweb import HanwebSpider


class JiaxingSpider(HanwebSpider):
    name = "jiaxing"

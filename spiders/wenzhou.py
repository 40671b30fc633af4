"""温州市人民政府: its portal and reporters are declared in crawler/registry.yaml (id `wenzhou`)."""

from spiders.base.hanweb import HanwebSpider


class WenzhouSpider(HanwebSpider):
    name = "wenzhou"

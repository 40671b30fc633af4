"""重庆市大渡口区人民政府: its portal and reporters are declared in crawler/registry.yaml (id `dadukou`)."""

from spiders.base.generic import GenericSpider


class DadukouSpider(GenericSpider):
    name = "dadukou"

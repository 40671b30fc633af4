"""Scrapy's spider loader, driven by the registry: one spider per declared portal.

A portal's CMS family is said once, in the registry (`cms:`); its spider is built from that family's base,
`spiders/base/<cms>.py` (its `BASE`), so adding a portal on a known CMS is a few lines of registry YAML and
nothing else. A portal that needs real code of its own gets a module in spiders/ with a subclass named after
it (Querido Diário style); none needs one today. `generic` is the spider for portals outside the registry
(`scrapy crawl generic -a url=URL -a agency=NAME -a kind=department|government`).
"""

from __future__ import annotations

import importlib
import inspect

from scrapy.utils.misc import walk_modules_iter

from crawler.registry import Registry, load_registry
from spiders.base.generic import UrlSpider
from spiders.base.report import ReportSpider


def family_base(cms: str) -> type[ReportSpider]:
    """The base spider of a CMS family: the `BASE` of spiders/base/<cms>.py."""
    return importlib.import_module(f"spiders.base.{cms}").BASE


def portal_modules(module_names: list[str]) -> dict[str, type[ReportSpider]]:
    """Per-portal classes found in the spider modules, by spider name (base classes excluded)."""
    out: dict[str, type[ReportSpider]] = {}
    for name in module_names:
        for module in walk_modules_iter(name):
            if module.__name__.startswith("spiders.base") or module.__name__ == __name__:
                continue
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, ReportSpider) and obj.__module__ == module.__name__ and obj.name:
                    out[obj.name] = obj
    return out


def spider_classes(registry: Registry, modules: dict[str, type[ReportSpider]]) -> dict[str, type[ReportSpider]]:
    out: dict[str, type[ReportSpider]] = {}
    for portal in registry.portals:
        base = modules.get(portal.id) or family_base(portal.cms)
        camel = "".join(part.capitalize() for part in portal.id.replace("-", "_").split("_") if part)
        out[portal.id] = type(
            f"{camel}Spider", (base,), {"name": portal.id, "portal": portal, "__module__": base.__module__}
        )
    out.setdefault("generic", UrlSpider)
    return out


class RegistrySpiderLoader:
    def __init__(self, settings):
        self._classes = spider_classes(
            load_registry(settings.get("XXGK_REGISTRY")), portal_modules(settings.getlist("SPIDER_MODULES"))
        )

    @classmethod
    def from_settings(cls, settings):
        return cls(settings)

    def load(self, spider_name: str) -> type[ReportSpider]:
        try:
            return self._classes[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name} (not a portal of the registry)") from None

    def list(self) -> list[str]:
        return sorted(self._classes)

    def find_by_request(self, request) -> list[str]:
        return [name for name, cls in self._classes.items() if cls.portal and cls.portal.start_url == request.url]

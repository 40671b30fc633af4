"""Writing registry YAML the way people write it by hand, for the commands that generate it (`xxgk registry
import`, `xxgk registry national`, `xxgk discover`).

Portals are block mappings; an agency, an evidence entry and a domain list are one flow line each
(`- {name: 温州市人民政府, kind: government, …}`), as in crawler/registry.yaml, so a generated file reads and
diffs like the bundled one. Unset (None) fields and empty lists are left out: the schema's defaults apply.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

_WIDTH = 1 << 16  # never fold a note or a URL across lines
_BLOCK = {"portals", "expected", "agencies", "evidence", "options"}  # keys whose value is written as a block


def plain(value: Any) -> Any:
    """YAML-ready data from dataclasses, tuples and dicts: None and empty collections left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = plain(v)
            if v is None or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class _Flow(dict):
    """A mapping written on one line."""


class _FlowList(list):
    """A list written on one line."""


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key (`portals:\\n  - id: …`), as the registry files are written by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # one date shared by many entries is written out each time, never as &id001 / *id001


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _styled(value: Any, key: str | None = None) -> Any:
    """Block for the registry's structure, flow for the leaves (agencies, evidence entries, domain lists)."""
    if isinstance(value, dict):
        if key in _BLOCK or key is None:
            return {k: _styled(v, k) for k, v in value.items()}
        return _Flow({k: _styled(v, k) for k, v in value.items()})
    if isinstance(value, list):
        if key in ("portals",):
            return [_styled(v, None) for v in value]
        if key in _BLOCK:
            return [_item(item) for item in value]
        return _FlowList(value)
    return value


def _item(item: Any) -> Any:
    """An agency or evidence entry: one line, unless it carries a list of its own (an agency's evidence), which
    is then written below it one entry a line."""
    if not isinstance(item, dict):
        return item
    if not any(isinstance(v, list) for v in item.values()):
        return _Flow(item)
    return {
        k: [_Flow(e) if isinstance(e, dict) else e for e in v] if isinstance(v, list) else v for k, v in item.items()
    }


def dump_registry(portals: list[Any], expected: list[Any] | None = None, header: str = "") -> str:
    """Registry YAML for these portals (and expected reporters without a portal), with `header` comment lines
    first. Portals and agencies may be crawler.registry dataclasses or plain dicts."""
    data: dict[str, Any] = {"portals": [plain(p) for p in portals]}
    if expected:
        data["expected"] = [plain(a) for a in expected]
    body = yaml.dump(_styled(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=_WIDTH)
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    return ("\n".join(lines) + "\n\n" if lines else "") + body

"""Reading a registry file so that every problem can be told as `FILE:LINE: message`.

The file is parsed once (libyaml when PyYAML has it): the node tree keeps each value's position, the data built
from the same nodes is what the schema validates, and a problem's path (`portals[3].agencies[0].kind`) is
walked down the node tree to the line it came from. Duplicate keys, which YAML loaders silently collapse to the
last one, are found on the same walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import yaml

from crawler.registry_schema import Path, Problem

# libyaml when PyYAML was built with it: a registry of thousands of portals loads in a fraction of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Located:
    """A problem with the line it is on (0 when the file as a whole is meant)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A parsed registry file: its data and the node tree that says where each value was written."""

    file: str
    data: Any
    root: yaml.Node | None

    def locate(self, problem: Problem) -> Located:
        return Located(self.file, problem.line or line_of(self.root, problem.path), problem.message)


class SourceError(Exception):
    """The file cannot be read as YAML at all; `located` says where."""

    def __init__(self, located: Located):
        super().__init__(str(located))
        self.located = located


def read_source(path: str | FilePath) -> Source:
    """Read and parse a registry file. Raises SourceError for an unreadable, non-UTF-8 or non-YAML file."""
    name = str(path)
    try:
        raw = FilePath(path).read_bytes()
    except OSError as e:
        raise SourceError(Located(name, 0, f"cannot read the registry: {e.strerror or e}")) from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise SourceError(
            Located(name, line, f"not UTF-8 text (byte 0x{raw[e.start]:02x}): save the registry as UTF-8")
        ) from e
    return parse_source(text, name)


def parse_source(text: str, name: str = "<registry>") -> Source:
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise SourceError(Located(name, line, f"not valid YAML: {what}")) from e
    except yaml.YAMLError as e:
        raise SourceError(Located(name, 0, f"not valid YAML: {e}")) from e
    finally:
        loader.dispose()
    return Source(name, data, root)


def duplicate_keys(root: yaml.Node | None) -> list[Problem]:
    """Keys written twice in one mapping: YAML keeps the last silently, which hides a typo's twin."""
    out: list[Problem] = []

    def walk(node: yaml.Node, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                k = str(key.value)
                if k in seen:
                    message = f"key {k!r} is written twice here; YAML keeps only the last"
                    out.append(Problem((*path, k), message, key.start_mark.line + 1))
                seen.add(k)
                walk(value, (*path, k))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


def line_of(root: yaml.Node | None, path: Path) -> int:
    """The 1-based line of the field or list item at `path`, else of the deepest one on the way that exists."""
    if root is None:
        return 1
    node = root
    line = node.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            pair = next(((k, v) for k, v in node.value if str(k.value) == step), None)
            if pair is None:
                return line
            key, node = pair
            line = key.start_mark.line + 1  # the field's line, where a person looks for `kind: …`
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line

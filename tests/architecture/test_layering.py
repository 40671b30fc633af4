"""The floor plan holds: each layer imports only the layers below it, packages import no circle, and SQL is
executed only inside storage.

Read from the source with `ast` (nothing is imported), so a violation fails here with the module and the line,
whatever the test run imported before. docs/architecture.md describes the same layers in words.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crawler", "spiders", "storage")

# Layer → the module prefixes that belong to it, lowest layer first. A module belongs to the layer of its
# longest matching prefix.
LAYERS: dict[str, tuple[str, ...]] = {
    "contracts": (
        "crawler",  # the package itself (crawler/__init__.py)
        "crawler.model",
        "crawler.template",
        "crawler.registry",
        "crawler.text",
        "crawler.exits",
        "crawler.confinement",
        "crawler.browser",
    ),
    "parsing": ("crawler.parsing",),
    "rules": ("crawler.rules",),
    "storage": ("storage",),
    "ingest": ("crawler.ingest",),
    "crawl": ("crawler.crawl", "crawler.settings", "spiders", "crawler.discovery"),
    "monitor": ("crawler.monitor",),
    "alerts": ("crawler.alerts",),
    "replica": ("crawler.replica",),
    "cli": ("crawler.cli", "crawler.commands"),
}
# What each layer may import besides itself: everything below it, except where a narrower rule says so.
ALLOWED: dict[str, set[str]] = {
    "contracts": set(),
    "parsing": {"contracts"},
    "rules": {"contracts", "parsing"},
    "storage": {"contracts"},  # storage never parses, judges, alerts or crawls
    "ingest": {"contracts", "parsing", "rules", "storage"},
    "crawl": {"contracts", "parsing", "rules", "storage", "ingest"},
    "monitor": {"contracts", "parsing", "rules", "storage", "ingest"},
    "alerts": {"contracts", "parsing", "rules", "storage", "ingest", "monitor"},
    "replica": {"contracts", "parsing", "rules", "storage", "ingest", "crawl", "monitor", "alerts"},
    "cli": {"contracts", "parsing", "rules", "storage", "ingest", "crawl", "monitor", "alerts", "replica"},
}
SQL_CALLS = {"execute", "executemany", "executescript"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or the package of an imported name)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from crawler import checks` imports the module crawler.checks, not just the package.
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        else:
            continue
        out += [Import(name, t, node.lineno) for t in targets if t.split(".")[0] in PACKAGES]
    return out


def layer_of(module: str) -> str:
    best, length = None, -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = layer, len(prefix)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")
    return best


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    known = modules()
    return [imp for name, path in known.items() for imp in imports_of(name, path, known)]


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_layers_import_only_downward(graph):
    wrong = [
        f"{imp.source} ({layer_of(imp.source)}) imports {imp.target} ({layer_of(imp.target)}) at line {imp.line}"
        for imp in graph
        if layer_of(imp.target) != layer_of(imp.source) and layer_of(imp.target) not in ALLOWED[layer_of(imp.source)]
    ]
    assert not wrong, "\n".join(wrong)


def _package(module: str) -> str:
    """The unit of the circle check: a subpackage (crawler.parsing), a top-level module of crawler
    (crawler.ingest), or a top-level package (storage, spiders)."""
    parts = module.split(".")
    if parts[0] == "crawler" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def test_no_import_circles_between_packages(graph):
    edges: dict[str, set[str]] = {}
    for imp in graph:
        a, b = _package(imp.source), _package(imp.target)
        if a != b and b != "crawler":  # every crawler.* module lives inside the crawler package
            edges.setdefault(a, set()).add(b)
    circles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                circles.append(" → ".join(path[path.index(nxt) :] + [nxt]))
            elif len(path) < len(edges) + 1:
                visit(nxt, [*path, nxt])

    for start in sorted(edges):
        visit(start, [start])
    assert not circles, "\n".join(sorted(set(circles)))


def test_sql_is_executed_only_in_storage():
    wrong = []
    for name, path in modules().items():
        if name == "storage" or name.startswith("storage."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                wrong.append(f"{name}:{node.lineno} calls .{node.func.attr}()")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation(tmp_path):
    """The checks above are only worth something if they can fail: an upward import is reported."""
    fake = tmp_path / "storage" / "bad.py"
    fake.parent.mkdir()
    fake.write_text("from crawler.parsing import parse_bytes\n", encoding="utf-8")
    imp = imports_of("storage.bad", fake, {"storage.bad": fake})[0]
    assert layer_of(imp.target) == "parsing" and "parsing" not in ALLOWED[layer_of(imp.source)]

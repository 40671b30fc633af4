"""The `xxgk` command line. Each subcommand lives in crawler/commands/<name>.py, is a thin
wrapper over the Python API it names, and registers itself through `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from crawler import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description="政府信息公开工作年度报告 monitor: crawl, parse, check, alert.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue  # shared helpers, not commands
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("xxgk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

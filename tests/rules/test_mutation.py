"""Mutation test: change one cell of a real report by ±1..5 and check that the rules notice.

A mutation is *expected* to be caught when the cell takes part in an identity that could be
assessed on the untouched report. Every expected mutation must be caught (recall 1.0), and no
rule may blame a cell that was not changed (false alarms 0). Figures are printed.
"""

import random

import pytest
from support.shared import expected_for, seed_paths

from crawler import template as tpl
from crawler.ingest import examine, examine_file
from crawler.rules import table_findings
from crawler.rules.identities import identities
from crawler.rules.narrative import compare, narrative, statements

DELTAS = [d for n in range(1, 6) for d in (n, -n)]


def _pad(name: str, width: int = 34) -> str:
    """Left-align a name in a fixed column, counting CJK characters as two columns."""
    return name + " " * max(1, width - sum(2 if ord(c) > 0x2E7F else 1 for c in name))


def _documents(real_pdf):
    docs = [(expected_for(p)["agency"], p) for p in seed_paths()]
    return docs + [("淮安市人民政府（PDF）", real_pdf)]


def _assessable_cells(template: str, baseline) -> set[str]:
    ok = {(f.rule, f.data["scope"]) for f in baseline if f.status == "pass"}
    return {k for i in identities(template) if (i.rule, i.scope) in ok for k in i.cells}


def _rules(template, values, said):
    return table_findings(template, values) + compare(said, template, values)


def test_every_covered_single_cell_mutation_is_caught(real_pdf, capsys):
    rows = []
    totals = dict(mutations=0, expected=0, caught=0, false_alarms=0, baseline_fails=0)
    for name, path in _documents(real_pdf):
        report = examine_file(path)
        values = report.values()
        said = statements(narrative(report.sections, report.text))
        baseline = _rules(report.template, values, said)
        base_fails = [f for f in baseline if f.status == "fail"]
        covered = _assessable_cells(report.template, baseline)
        n = expected = caught = false_alarms = 0
        for key in tpl.keys(report.template):
            if key not in values:
                continue  # a part the document does not print cannot be mutated
            for d in DELTAS:
                mutated = dict(values)
                mutated[key] = (values[key] or 0) + d
                failing = [f for f in _rules(report.template, mutated, said) if f.status == "fail"]
                n += 1
                hit = any(key in f.cells for f in failing)
                expected += key in covered
                caught += hit and key in covered
                false_alarms += any(key not in f.cells for f in failing)
        rows.append((name, n, expected, caught, false_alarms, len(base_fails)))
        for k, v in zip(
            ("mutations", "expected", "caught", "false_alarms", "baseline_fails"), rows[-1][1:], strict=True
        ):
            totals[k] += v
    with capsys.disabled():
        print("\nmutation test (cells dict → rules)")
        print(f"{_pad('report')}{'mutations':>9}{'expected':>10}{'caught':>8}{'recall':>8}{'false':>7}{'base':>6}")
        for name, n, e, c, fa, bf in rows:
            print(f"{_pad(name)}{n:>10}{e:>10}{c:>8}{c / e if e else 1:>8.3f}{fa:>7}{bf:>6}")
        print(
            f"{_pad('total')}{totals['mutations']:>10}{totals['expected']:>10}{totals['caught']:>8}"
            f"{totals['caught'] / totals['expected']:>8.3f}{totals['false_alarms']:>7}{totals['baseline_fails']:>6}"
        )
    assert totals["baseline_fails"] == 0
    assert totals["expected"] > 3000 and totals["caught"] == totals["expected"]
    assert totals["false_alarms"] == 0


def _numeric_fields(text: str) -> list[tuple[int, int, int]]:
    """(line, field, value) of every table number printed as its own tab-separated field."""
    out = []
    for i, line in enumerate(text.split("\n")):
        if "\t" not in line:
            continue
        for j, field in enumerate(line.split("\t")):
            if field.strip().isdigit():
                out.append((i, j, int(field.strip())))
    return out


def _mutate(text: str, line: int, field: int, new: int) -> str:
    lines = text.split("\n")
    fields = lines[line].split("\t")
    fields[field] = fields[field].replace(fields[field].strip(), str(new))
    lines[line] = "\t".join(fields)
    return "\n".join(lines)


@pytest.mark.parametrize("path", seed_paths(), ids=lambda p: p.stem)
def test_mutations_through_text_parse_and_rules(path, capsys):
    """A sample of mutations made in the document text itself, then parsed and checked."""
    text = path.read_text(encoding="utf-8")
    original = examine_file(path)
    covered = _assessable_cells(original.template, original.findings)
    rng = random.Random(path.stem)
    fields = _numeric_fields(text)
    sample = rng.sample(fields, min(12, len(fields)))
    mapped = expected = caught = false_alarms = 0
    for line, field, value in sample:
        d = rng.choice(DELTAS)
        if value + d < 0:
            d = -d
        report = examine(_mutate(text, line, field, value + d).encode("utf-8"))
        old, new = original.values(), report.values()
        changed = [k for k in set(old) | set(new) if old.get(k, "absent") != new.get(k, "absent")]
        if len(changed) != 1:
            continue  # the number was not a template cell (e.g. a year in a heading)
        key = changed[0]
        assert new[key] == (old[key] or 0) + d
        mapped += 1
        failing = [f for f in report.findings if f.status == "fail"]
        expected += key in covered
        caught += key in covered and any(key in f.cells for f in failing)
        false_alarms += any(key not in f.cells for f in failing)
    with capsys.disabled():
        print(
            f"\n{path.stem}: text mutations {len(sample)}, mapped to one cell {mapped}, expected {expected}, caught {caught}, false alarms {false_alarms}"
        )
    assert mapped >= len(sample) // 2
    assert caught == expected and false_alarms == 0

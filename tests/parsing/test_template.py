import json

from support.shared import SHARED

from crawler import template as tpl


def test_keys_equal_the_shared_contract():
    spec = json.loads((SHARED / "spec" / "cells.json").read_text())
    for version in tpl.TEMPLATES:
        assert list(tpl.keys(version)) == [c["key"] for c in spec["templates"][version]]
        tables = {c.key: c.table for c in tpl.cells(version)}
        assert tables == {c["key"]: c["table"] for c in spec["templates"][version]}


def test_cell_kinds():
    idx19, idx21 = tpl.cell_index("2019"), tpl.cell_index("2021")
    assert idx19["active.licensing.change"].kind is tpl.Kind.CHANGE
    assert idx19["active.procurement.amount"].kind is tpl.Kind.AMOUNT
    assert idx21["active.fees.amount"].kind is tpl.Kind.AMOUNT
    assert idx21["applications.new.total"].kind is tpl.Kind.COUNT


def test_result_rows_differ_in_row_six():
    assert "other" in tpl.result_rows("2019")
    assert [r for r in tpl.result_rows("2021") if r.startswith("other")] == [
        "other.no_correction",
        "other.unpaid_fee",
        "other.other",
    ]
    assert tpl.expected_template(2020) == "2019" and tpl.expected_template(2023) == "2021"

"""Fuzzing every reader with mutated real documents: only ParseError may come out, and never slowly.

The corpus is the five seeds (as text, HTML, GBK-lying HTML, DOCX and XLSX renditions) and the real PDF.
Hypothesis picks a document, a donor for splices and a mutation seed; tests/hostile.py mutates: byte and
bit flips, truncation, splices, duplicated and deleted chunks, tokens that break parsers, and structural
damage to the XML inside DOCX/XLSX packages and to HTML markup. bench/fuzz.py runs 10,000 of these in
watched worker processes; this test keeps to a modest count so the suite stays fast.
"""

from __future__ import annotations

import faulthandler
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import hostile

PER_INPUT_LIMIT = 10.0
CORPUS = hostile.fuzz_corpus()


@pytest.fixture(autouse=True)
def watchdog():
    """A parse stuck inside C code cannot be interrupted: dump the stacks and end the run instead of hanging CI."""
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    base=st.integers(0, len(CORPUS) - 1),
    donor=st.integers(0, len(CORPUS) - 1),
    seed=st.integers(0, 2**32 - 1),
    rounds=st.integers(1, 3),
)
def test_mutated_documents_raise_only_parse_error(base: int, donor: int, seed: int, rounds: int):
    _, fmt, data = CORPUS[base]
    mutated = hostile.mutate(data, fmt, random.Random(seed), CORPUS[donor][2], rounds)
    start = time.perf_counter()
    hostile.parse_both_ways(mutated, fmt)  # any exception but ParseError fails the test (and is shrunk)
    assert time.perf_counter() - start < PER_INPUT_LIMIT


@pytest.mark.parametrize("name,fmt,data", CORPUS, ids=[c[0] for c in CORPUS])
def test_unmutated_corpus_parses(name: str, fmt: str, data: bytes):
    """The control: every corpus document is a readable report before it is damaged."""
    from crawler.parsing import parse_bytes, sniff

    assert sniff(data) == fmt
    assert parse_bytes(data).cells


def test_every_reader_is_fuzzed():
    assert {fmt for _, fmt, _ in CORPUS} >= {"text", "html", "docx", "xlsx", "pdf"}


def test_structural_mutations_keep_the_container_valid():
    """The zip-member mutator damages the XML, not the zip: the reader sees a readable package with bad XML."""
    import io
    import zipfile

    _, _, docx = next(c for c in CORPUS if c[1] == "docx")
    rng = random.Random(7)
    for _ in range(20):
        mutated = hostile.mutate_zip_member(docx, rng, b"")
        assert zipfile.ZipFile(io.BytesIO(mutated)).testzip() is None

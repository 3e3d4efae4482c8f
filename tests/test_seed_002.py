"""Seed 002 (the 2019 HMM refcount patch and John Hubbard's review), read from ../shared/seeds.

`notifier-review check <seed>` runs in fragment mode (a patch copied from a web archive, no
tree) and must find what the reviewer found: the hmm_get()/hmm_put() pair that takes different
objects, the reference leaked by the new early returns of hmm_invalidate_range_start() and
hmm_invalidate_range_end(), and the `hmm->mm == NULL` tests there that cannot protect anything.
It must say nothing about the functions the patch gets right.  No seed text is kept here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.cli.main import main

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
SEED = next(iter(sorted(SEEDS.glob("002_*.txt"))), None) if SEEDS.is_dir() else None

pytestmark = pytest.mark.skipif(SEED is None, reason="../shared/seeds not present")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("seed002")
    out = work / "report.json"
    status = main(["check", "-C", str(work), str(SEED), "--format", "json", "-o", str(out)])
    assert status == 1  # findings were shown
    return json.loads(out.read_text())


def findings(report: dict, rule: str, function: str) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == rule and f["function"] == function]


def test_fragment_mode(report: dict) -> None:
    assert report["mode"] == "fragment"


def test_asymmetric_get_put_pair(report: dict) -> None:
    (f,) = findings(report, "refcount-asymmetric-pair", "hmm_get")
    assert "struct mm_struct *" in f["message"] and "struct hmm *" in f["message"]
    assert "hmm_put()" in f["message"]


@pytest.mark.parametrize("function", ["hmm_invalidate_range_start", "hmm_invalidate_range_end"])
def test_leaked_reference(report: dict, function: str) -> None:
    (f,) = findings(report, "refcount-leak", function)
    assert "hmm_get()" in f["message"] and "hmm_put()" in f["message"]
    assert "`hmm`" in f["message"]  # the object in the patch's own words
    notes = " ".join(step["note"] for step in f["path"])
    assert "hmm->mm == NULL' is true" in notes  # the path goes through the new early return


@pytest.mark.parametrize("function", ["hmm_invalidate_range_start", "hmm_invalidate_range_end"])
def test_unprotected_liveness_test(report: dict, function: str) -> None:
    (f,) = findings(report, "null-check-unprotected-liveness", function)
    assert "hmm->mm" in f["message"] and "page_table_lock" in f["message"]
    assert "hmm_mm_destroy()" in f["message"]


@pytest.mark.parametrize("function", ["hmm_free", "hmm_put", "hmm_mirror_unregister"])
def test_silent_on_correct_functions(report: dict, function: str) -> None:
    assert [f["rule"] for f in report["findings"] if f["function"] == function] == []

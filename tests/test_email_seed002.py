"""Seed 002, a real review thread read from ../shared/seeds when present (none of it kept here).

In fragment mode the reply to the patch must quote hmm_invalidate_range_start() down to the new
NULL test and comment right there on the reference the early return leaks (refcount family) and
on why the test cannot protect anything (null-check family); the get/put pair that takes
different types is commented under the quoted hmm_get() definition.
"""

from __future__ import annotations

import re

import pytest
from email_support import SEEDS, body, review_files, settings

from reviewer.engine.registry import all_rules
from reviewer.voices.email_reply import render_replies

SEED = next(iter(sorted(SEEDS.glob("002_*.txt"))), None) if SEEDS.is_dir() else None
RULES = {r.id for r in all_rules()}
HAS_REFCOUNT = any(r.startswith("refcount-") for r in RULES)
HAS_NULL_CHECK = any(r.startswith("null-check-") for r in RULES)

pytestmark = pytest.mark.skipif(SEED is None, reason="../shared/seeds not present")


def blocks(text: str) -> list[tuple[list[str], str]]:
    """(quoted lines, the prose under them) pairs, in the order of the reply."""
    out: list[tuple[list[str], str]] = []
    quote: list[str] = []
    prose: list[str] = []
    for line in text.split("\n"):
        if line.startswith(">"):
            if prose and quote:
                out.append((quote, "\n".join(prose)))
                quote, prose = [], []
            elif prose:
                prose = []
            quote.append(line[2:] if line.startswith("> ") else "")
        elif quote:
            prose.append(line)
    if quote:
        out.append((quote, "\n".join(prose)))
    return out


@pytest.fixture(scope="module")
def reply() -> str:
    assert SEED is not None
    report = review_files([str(SEED)])
    assert report.mode == "fragment"
    msgs = render_replies(report, settings())
    assert len(msgs) == 1
    return body(msgs[0])


def _under(text: str, quoted: str) -> list[tuple[list[str], str]]:
    return [(q, p) for q, p in blocks(text) if any(quoted in ln for ln in q)]


@pytest.mark.xfail(not HAS_REFCOUNT, reason="the refcount family (issue 3) has not landed")
def test_asymmetric_pair_under_the_hmm_get_definition(reply):
    found = _under(reply, "+static inline struct hmm *hmm_get(struct mm_struct *mm)")
    assert found, "hmm_get() definition not quoted"
    quote, prose = found[0]
    assert quote[-1].startswith("+{") or "hmm_get(struct mm_struct *mm)" in quote[-1]
    assert re.search(r"\(refcount-asymmetric[a-z-]*\)", prose)
    assert "hmm_put()" in prose


@pytest.mark.xfail(not HAS_REFCOUNT, reason="the refcount family (issue 3) has not landed")
def test_leak_commented_at_the_null_test(reply):
    found = _under(reply, " static int hmm_invalidate_range_start(struct mmu_notifier *mn,")
    assert found, "hmm_invalidate_range_start() not quoted"
    quote, prose = found[0]
    assert quote[-2:] == ["+\tif (hmm->mm == NULL)", "+\t\treturn 0;"]
    assert "(refcount-leak)" in prose
    assert "hmm_put()" in prose


@pytest.mark.xfail(not (HAS_REFCOUNT and HAS_NULL_CHECK),
                   reason="the null-check family (issue 3) has not landed")
def test_null_test_cannot_protect_commented_there_too(reply):
    found = _under(reply, " static int hmm_invalidate_range_start(struct mmu_notifier *mn,")
    quote, prose = found[0]
    assert quote[-1] == "+\t\treturn 0;"
    assert re.search(r"\(null-check-[a-z-]+\)", prose)
    assert "(refcount-leak)" in prose

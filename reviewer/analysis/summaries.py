"""Summaries of a file's own functions: what each does to resources its caller can see.

Flow position: understanding.  A function of the file is walked once (without rules); what it
leaves held on a parameter (a wrapper that starts a range or takes a lock), what it drops that its
caller holds (a put helper), and what it returns holding (a get) become a `Summary` the walker
applies at every call of that function.  Success conditions are read off the return values:
a get that returns NULL when it fails is a conditional acquisition, like kref_get_unless_zero().
A function whose text calls nothing that can take or drop a resource (no table entry, no guard,
no helper of the file with a non-empty summary) has the empty summary without being walked: on
big files most helpers are like that, and walking them was most of the cost of a review.
"""

from __future__ import annotations

import re

from reviewer.analysis.knowledge import Knowledge
from reviewer.analysis.state import Held, State
from reviewer.analysis.unit import FunctionUnit
from reviewer.analysis.walker import CallSite, Checker, Summary, Walk
from reviewer.c.cfg import CfgNode

_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
FAILURE_RETURNS = re.compile(r"^(NULL|0|false|-E[A-Z0-9]+|ERR_PTR\(.*\)|-\d+)$")


class _SummaryChecker(Checker):
    def __init__(self, params: list[str]) -> None:
        self.params = params
        self.param_re = (
            re.compile(r"\b(" + "|".join(re.escape(p) for p in params) + r")\b")
            if params else None
        )
        self.exits: list[tuple[list[Held], list[Held], str | None]] = []
        self.releases: set[tuple[str, str]] = set()
        self.returned_pending: set[tuple[str, str, str, str]] = set()

    def _on_params(self, key: str) -> bool:
        return bool(self.param_re and self.param_re.search(key)) and "@" not in key

    def on_release_unheld(self, walk: Walk, st: State, call: CallSite, group: str, key: str,
                          double: bool) -> None:
        if not double and self._on_params(key):
            self.releases.add((group, key))

    def on_exit(self, walk: Walk, st: State, node: CfgNode, returned: str | None) -> None:
        held = [h for h in st.held if h.scope < 0 and self._on_params(h.key)]
        self.exits.append((held, list(walk.handed_at_exit), returned))
        for p in walk.pending_returned:
            if self._on_params(p.held.key):
                self.returned_pending.add((p.held.group, p.held.kind, p.held.key, p.success))


def _success_of(holding: list[str | None], failing: list[str | None]) -> str | None:
    if not failing:
        return "always"
    fail = [r or "" for r in failing]
    if all(r in ("NULL", "0", "false") for r in fail) and "NULL" in fail:
        return "ret_nonnull"
    if all(r.startswith("ERR_PTR(") for r in fail):
        return "ret_not_err"
    if all(FAILURE_RETURNS.match(r) for r in fail):
        if all(r in ("0", "false") for r in fail):
            return "ret_nonzero"
        if all(r.startswith("-") for r in fail) and all(h in ("0",) for h in holding):
            return "ret_zero"
        if any(r.startswith("ERR_PTR(") for r in fail) and "NULL" in fail:
            return "ret_nonnull_not_err"
    return None


def _may_hold_or_drop(unit: FunctionUnit, knowledge: Knowledge) -> bool:
    """False when no path of the function can take or drop a resource a caller sees.  The test
    is on the text (names followed by `(`, comments included), a superset of the calls."""
    names = set(_CALLED.findall(unit.text(unit.body)))
    if any("guard" in n for n in names):
        return True
    if not names.isdisjoint(knowledge.acquires) or not names.isdisjoint(knowledge.releases):
        return True
    facts = unit.facts
    for n in sorted(names):
        if n != unit.name and facts.has(n):
            s = facts.summary(n)
            if s is not None and (s.acquires or s.releases):
                return True
    return False


def summarise(unit: FunctionUnit, knowledge: Knowledge) -> Summary:
    params = unit.param_names()
    if not _may_hold_or_drop(unit, knowledge):
        return Summary(params=params)
    checker = _SummaryChecker(params)
    walk = Walk(unit, knowledge, [checker], summaries=unit.facts.summary).run()
    summ = Summary(params=params)
    if walk.bounded:
        return summ
    summ.releases = sorted(checker.releases)
    # `return spin_trylock(&x->lock);`: acquired on a parameter when the result says so
    for group, kind, key, success in sorted(checker.returned_pending):
        summ.acquires.append((group, kind, key, success))
    # resources left held on parameters: the function is an acquire wrapper
    keys: dict[tuple[str, str], Held] = {}
    for held, _handed, _ret in checker.exits:
        for h in held:
            keys.setdefault((h.group, h.key), h)
    for (group, key), h in keys.items():
        holding = [r for held, _, r in checker.exits if any(x.key == key for x in held)]
        failing = [r for held, _, r in checker.exits if all(x.key != key for x in held)]
        success = _success_of(holding, failing)
        if success is not None:
            summ.acquires.append((group, h.kind, key, success))
    # resources handed to the caller through the return value: the function is a get
    returned: dict[str, Held] = {}
    for _held, handed, _ret in checker.exits:
        for h in handed:
            returned.setdefault(h.group, h)
    for group, h in returned.items():
        holding = [r for _, handed, r in checker.exits if any(x.group == group for x in handed)]
        failing = [r for _, handed, r in checker.exits if all(x.group != group for x in handed)]
        success = _success_of(holding, failing)
        if success is not None:
            summ.acquires.append((group, h.kind, "ret", success))
    return summ

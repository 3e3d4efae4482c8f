"""Base classes for rule families.

Flow position: judgement.  A rule family (one module in `rules/`) declares its rules (`RuleInfo`:
id, severity, the kernel reason, a bad and a good example) and provides a path checker, which
the engine plugs into the walk of every function under review, and optionally a file-level check
(for facts that are not about one path, such as a get/put pair taking different types).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tree_sitter import Node

from reviewer.analysis.knowledge import Knowledge
from reviewer.analysis.state import State
from reviewer.analysis.walker import Checker, Walk
from reviewer.c.facts import FileFacts
from reviewer.engine.findings import Finding, PathStep


@dataclass(frozen=True)
class RuleInfo:
    id: str
    family: str
    severity: str
    summary: str
    reason: str
    bad: str
    good: str


@dataclass
class RunOptions:
    knowledge: Knowledge
    version: tuple[int, int] | None = None
    severity_overrides: dict[str, str] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)  # rule ids or family names


class FamilyChecker(Checker):
    """A checker that turns what it sees into findings, deduplicated by fingerprint."""

    family = ""
    rules: dict[str, RuleInfo] = {}

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.findings: dict[str, Finding] = {}

    def enabled(self, rule: str) -> bool:
        return rule not in self.options.disabled and self.family not in self.options.disabled

    def report(
        self,
        walk: Walk,
        rule: str,
        at: Node | int,
        message: str,
        st: State | None = None,
        anchor: str | None = None,
        extra_steps: Iterable[PathStep] = (),
    ) -> Finding | None:
        if not self.enabled(rule):
            return None
        info = self.rules[rule]
        line = at if isinstance(at, int) else walk.line(at)
        if anchor is None:
            anchor = walk.stmt_text(at) if not isinstance(at, int) else str(line)
        unit = walk.unit
        steps = [PathStep(unit.path, s.line, s.note) for s in (st.path if st is not None else ())]
        steps.extend(extra_steps)
        f = Finding(
            rule=rule,
            family=self.family,
            severity=self.options.severity_overrides.get(rule, info.severity),
            file=unit.path,
            line=line,
            function=unit.name,
            message=message,
            anchor=anchor,
            path=_dedupe(steps),
        )
        self.findings.setdefault(f.fingerprint, f)
        return f


def _dedupe(steps: list[PathStep]) -> list[PathStep]:
    out: list[PathStep] = []
    for s in steps:
        if out and out[-1] == s:
            continue
        out.append(s)
    return out


class RuleFamily:
    """One family: its rules, a path checker factory and an optional file-level check."""

    family = ""
    rules: tuple[RuleInfo, ...] = ()

    checker_class: type[FamilyChecker] | None = None

    def checker(self, options: RunOptions) -> FamilyChecker | None:
        return self.checker_class(options) if self.checker_class is not None else None

    def check_file(
        self, facts: FileFacts, functions: list[str], options: RunOptions
    ) -> list[Finding]:
        return []

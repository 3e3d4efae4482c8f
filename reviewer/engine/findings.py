"""Findings: what a rule reports, in a form every voice can render.

Flow position: judgement -> voices.  A finding carries the rule id, family, severity, where it
is (file, line, function), a message in a reviewer's voice, the path that leads to the problem
(the lines that matter, each with a note) and a fingerprint that does not depend on line numbers
(rule + function + normalised statement text), so v1 and v2 of a series can be compared and a
finding present before a patch can be told from one the patch introduces.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

SEVERITIES = ("warning", "error")
FAMILIES = ("bracketing", "atomic-sleep", "refcount", "thp-range", "null-check")


@dataclass(frozen=True)
class PathStep:
    file: str
    line: int
    note: str


@dataclass
class Finding:
    rule: str
    family: str
    severity: str
    file: str
    line: int
    function: str
    message: str
    anchor: str  # normalised statement text the fingerprint is made from
    path: list[PathStep] = field(default_factory=list)
    patch: int | None = None
    fixed_by: int | None = None  # index of a later patch of the series that removes it
    suppressed: str | None = None  # reason, when a suppression matched

    @property
    def fingerprint(self) -> str:
        raw = f"{self.rule}|{self.function}|{' '.join(self.anchor.split())}"
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    def to_json(self) -> dict:
        d = asdict(self)
        d["fingerprint"] = self.fingerprint
        d.pop("anchor", None)
        d["path"] = [asdict(p) for p in self.path]
        return d


def severity_rank(severity: str) -> int:
    return {"warning": 1, "error": 2}.get(severity, 0)

"""Runs every enabled rule family over chosen functions of one file image.

Flow position: judgement.  Given the file facts (functions, ops tables, summaries) and the names
of the functions to look at, this walks each function once with every family's checker plugged
in, adds the families' file-level findings, and reports which functions were skipped (parse
errors in fragment mode) or bounded (path explosion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.analysis.walker import RemovedLine, Walk
from reviewer.c.facts import FileFacts
from reviewer.engine.findings import Finding
from reviewer.engine.registry import families
from reviewer.engine.rule import RunOptions


@dataclass
class FileAnalysis:
    findings: list[Finding] = field(default_factory=list)
    analysed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # could not be analysed (parse errors)
    bounded: list[str] = field(default_factory=list)  # path bound hit


def analyse_functions(
    facts: FileFacts, names: list[str], options: RunOptions, file_level: bool = True,
    removed: dict[str, list[RemovedLine]] | None = None, added: frozenset[int] = frozenset(),
) -> FileAnalysis:
    """`removed` and `added`: in a patch review, the lines the patch removes from each
    function and the post-image lines it adds (rules that judge a change, such as a put that
    goes away, read them)."""
    result = FileAnalysis()
    fams = [f for f in families() if f.family not in options.disabled]
    for name in names:
        entry = facts.defs.get(name)
        if entry is None:
            continue
        fd, _piece = entry
        if fd.has_error and facts.fragment:
            result.skipped.append(name)
            continue
        unit = facts.unit(name)
        if unit is None:
            continue
        checkers = [c for c in (f.checker(options) for f in fams) if c is not None]
        walk = Walk(unit, options.knowledge, checkers, summaries=facts.summary,
                    removed=(removed or {}).get(name, ()), added=added).run()
        result.analysed.append(name)
        if walk.bounded:
            result.bounded.append(name)
        for c in checkers:
            result.findings.extend(c.findings.values())
    if file_level:
        for fam in fams:
            result.findings.extend(fam.check_file(facts, names, options))
    return result

"""Which fields a file clears, and under which locks: a file fact computed with the path walker.

Flow position: understanding (file facts, on demand).  A liveness test such as
`if (hmm->mm == NULL)` can only protect what follows when it runs under the lock the file holds
where it writes that NULL (`hmm->mm = NULL` under `mm->page_table_lock` in hmm_mm_destroy()).
`field_clears(facts, field, values)` finds every assignment `x->field = <value>` in the file's
functions and records the locks held at that point on the walked paths, with the declared type
of `x`.  Results are cached on the FileFacts object, per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from reviewer.analysis.state import State
from reviewer.analysis.symbolic import strip_parens
from reviewer.analysis.walker import Checker, Walk
from reviewer.analysis.words import in_words
from reviewer.c.facts import FileFacts

NULL_VALUES = ("NULL", "0")
SET_VALUES = ("true", "1")


@dataclass(frozen=True)
class Clear:
    function: str
    line: int
    base_type: str  # declared type of the object whose field is written, normalised
    locks: frozenset[tuple[str, str]]  # (group, lock name) held on every path to the write
    lock_text: str  # one held lock as written, for messages ("" when none)


def lock_name(key: str) -> str:
    """`&mm->page_table_lock` -> `page_table_lock`; `&demo_lock` -> `demo_lock`."""
    k = key.lstrip("&*(")
    for sep in ("->", "."):
        if sep in k:
            k = k.rsplit(sep, 1)[1]
    return re.sub(r"@L\d+(c\d+)?", "", k).strip(")")


def norm_type(t: str | None) -> str:
    if not t:
        return ""
    t = re.sub(r"\b(const|volatile|__rcu)\b", "", t)
    return " ".join(t.replace("*", " * ").split())


class _ClearWatcher(Checker):
    def __init__(self, field: str, values: tuple[str, ...]) -> None:
        self.field = field
        self.values = values
        self.seen: dict[int, list[frozenset[tuple[str, str]]]] = {}
        self.texts: dict[int, str] = {}
        self.types: dict[int, str] = {}

    def on_assign(self, walk: Walk, st: State, lhs: Node, rhs: Node | None) -> State | None:
        target = strip_parens(lhs)
        if rhs is None or target.type != "field_expression":
            return None
        fld = target.child_by_field_name("field")
        if fld is None or walk.text(fld) != self.field or walk.stmt_text(rhs) not in self.values:
            return None
        line = walk.line(lhs)
        locks = frozenset((h.group, lock_name(h.key)) for h in st.held if h.kind == "lock")
        self.seen.setdefault(line, []).append(locks)
        held = sorted((h for h in st.held if h.kind == "lock"), key=lambda h: h.line)
        if held:
            self.texts.setdefault(line, in_words(held[-1].key, st).lstrip("&"))
        base = target.child_by_field_name("argument")
        if base is not None and strip_parens(base).type == "identifier":
            self.types[line] = norm_type(walk.unit.local_type(walk.text(strip_parens(base))))
        return None


def field_clears(facts: FileFacts, field: str, values: tuple[str, ...] = NULL_VALUES
                 ) -> list[Clear]:
    cache: dict[tuple[str, tuple[str, ...]], list[Clear]] = facts.__dict__.setdefault(
        "_field_clears", {})
    key = (field, values)
    if key in cache:
        return cache[key]
    pattern = re.compile(r"->\s*" + re.escape(field) + r"\s*=\s*(" +
                         "|".join(re.escape(v) for v in values) + r")\s*;")
    out: list[Clear] = []
    for name, (fd, piece) in facts.defs.items():
        if fd.has_error or not pattern.search(piece.parsed.text(fd.body)):
            continue
        unit = facts.unit(name)
        if unit is None:
            continue
        watcher = _ClearWatcher(field, values)
        Walk(unit, facts.knowledge, [watcher], summaries=facts.summary).run()
        for line, lock_sets in sorted(watcher.seen.items()):
            common = frozenset.intersection(*lock_sets) if lock_sets else frozenset()
            out.append(Clear(name, line, watcher.types.get(line, ""), common,
                             watcher.texts.get(line, "") if common else ""))
    cache[key] = out
    return out

"""File-level facts computed once per file image: its functions, ops tables and summaries.

Flow position: C understanding.  From every parsed piece of a file (one piece in tree mode, one
per hunk in fragment mode) this collects the function definitions, the struct initialisers that
fill callback tables (`.invalidate_range_start = my_start` in a `struct mmu_notifier_ops`), and,
on demand, a summary of what each of the file's functions does to resources its callers can see
(a wrapper that starts a range, a helper that drops a reference), computed with the path walker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from reviewer.c.cfg import build_cfg
from reviewer.c.parse import FunctionDef, ParsedFile, functions

if TYPE_CHECKING:
    from reviewer.analysis.knowledge import Knowledge
    from reviewer.analysis.unit import FunctionUnit
    from reviewer.analysis.walker import Summary


@dataclass
class Piece:
    parsed: ParsedFile
    line_base: int = 0  # real line = tree line + line_base


@dataclass(frozen=True)
class OpsEntry:
    struct: str  # e.g. "mmu_notifier_ops"
    table: str  # the variable holding the table
    field: str  # e.g. "invalidate_range_start"
    function: str
    line: int  # the line of the `.field = function` entry


@dataclass
class FileFacts:
    path: str
    pieces: list[Piece]
    knowledge: Knowledge
    fragment: bool = False
    defs: dict[str, tuple[FunctionDef, Piece]] = field(default_factory=dict)
    ops: list[OpsEntry] = field(default_factory=list)
    _units: dict[str, FunctionUnit] = field(default_factory=dict)
    _summaries: dict[str, Summary | None] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)
    _keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for piece in self.pieces:
            for fd in functions(piece.parsed):
                # first definition wins (duplicates are #ifdef alternatives)
                self.defs.setdefault(fd.name, (fd, piece))
            self._collect_ops(piece)

    # -- ops tables ----------------------------------------------------------------------------
    def _collect_ops(self, piece: Piece) -> None:
        root = piece.parsed.root
        text = piece.parsed.text
        stack = [root]
        while stack:
            n = stack.pop()
            if n.type == "function_definition":
                continue
            if n.type == "declaration":
                ty = n.child_by_field_name("type")
                struct = ""
                if ty is not None and ty.type == "struct_specifier":
                    name = ty.child_by_field_name("name")
                    struct = text(name) if name is not None else ""
                for d in n.named_children:
                    if d.type != "init_declarator":
                        continue
                    value = d.child_by_field_name("value")
                    decl = d.child_by_field_name("declarator")
                    if value is None or value.type != "initializer_list":
                        continue
                    table = text(decl).strip() if decl is not None else ""
                    for pair in value.named_children:
                        if pair.type != "initializer_pair":
                            continue
                        desig = pair.child_by_field_name("designator")
                        val = pair.child_by_field_name("value")
                        if desig is None or val is None or val.type != "identifier":
                            continue
                        fld = text(desig).lstrip(".").strip()
                        self.ops.append(OpsEntry(struct, table, fld, text(val),
                                                 pair.start_point[0] + 1 + piece.line_base))
                continue
            stack.extend(n.named_children)

    def callbacks_of(self, function: str) -> list[OpsEntry]:
        return [o for o in self.ops if o.function == function]

    # -- functions -----------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.defs

    def unit(self, name: str) -> FunctionUnit | None:
        from reviewer.analysis.unit import FunctionUnit

        if name in self._units:
            return self._units[name]
        entry = self.defs.get(name)
        if entry is None:
            return None
        fd, piece = entry
        cfg = build_cfg(fd.body, piece.parsed.text, is_scoped_guard=piece.parsed.is_scoped_guard)
        u = FunctionUnit(
            name=fd.name,
            node=fd.node,
            body=fd.body,
            params=fd.params,
            return_type=fd.return_type,
            is_static=fd.is_static,
            text=piece.parsed.text,
            cfg=cfg,
            path=self.path,
            facts=self,
            line_base=piece.line_base,
        )
        self._units[name] = u
        return u

    def unit_for(self, fd: FunctionDef, piece: Piece) -> FunctionUnit | None:
        u = self.unit(fd.name)
        if u is not None and u.node.id == fd.node.id:
            return u
        from reviewer.analysis.unit import FunctionUnit

        cfg = build_cfg(fd.body, piece.parsed.text, is_scoped_guard=piece.parsed.is_scoped_guard)
        return FunctionUnit(fd.name, fd.node, fd.body, fd.params, fd.return_type, fd.is_static,
                            piece.parsed.text, cfg, self.path, self, piece.line_base)

    def summary(self, name: str) -> Summary | None:
        """What `name` (a function of this file) does to resources visible to its caller."""
        if name in self._summaries:
            return self._summaries[name]
        if name in self._in_progress or name not in self.defs:
            return None
        from reviewer.analysis.summaries import summarise

        key = self._content_key(name, set())
        if key in _SUMMARY_CACHE:
            result = _SUMMARY_CACHE[key]
        else:
            self._in_progress.add(name)
            try:
                unit = self.unit(name)
                result = summarise(unit, self.knowledge) if unit is not None else None
            finally:
                self._in_progress.discard(name)
            _SUMMARY_CACHE[key] = result
        self._summaries[name] = result
        return result

    def _content_key(self, name: str, visiting: set[str]) -> str:
        """A key that changes when the function or anything of the file it calls changes, so a
        summary is computed once per distinct body across all the images of a run (the post
        image of patch N and the pre image of N+1 share almost every function)."""
        cached = self._keys.get(name)
        if cached is not None:
            return cached
        fd, piece = self.defs[name]
        h = hashlib.sha1(f"{id(self.knowledge)}|{name}|".encode())
        h.update(piece.parsed.src[fd.node.start_byte:fd.node.end_byte])
        visiting.add(name)
        for callee in sorted(self._callees(name)):
            if callee not in visiting:
                h.update(self._content_key(callee, visiting).encode())
        visiting.discard(name)
        key = h.hexdigest()
        if not visiting:
            self._keys[name] = key
        return key

    def _callees(self, name: str) -> set[str]:
        fd, piece = self.defs[name]
        out: set[str] = set()
        stack = [fd.body]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is not None and fn.type == "identifier":
                    callee = piece.parsed.text(fn)
                    if callee in self.defs and callee != name:
                        out.add(callee)
            stack.extend(n.named_children)
        return out


# summaries by content key, shared by every FileFacts of the process (bounded: one run)
_SUMMARY_CACHE: dict[str, Summary | None] = {}


def node_line(node: Node, piece: Piece) -> int:
    return node.start_point[0] + 1 + piece.line_base

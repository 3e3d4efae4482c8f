"""Control-flow graph of one C function, built from its tree-sitter AST.

Flow position: C understanding.  After normalisation (reviewer.c.normalize) iterator macros are
loops, so this builder only sees standard C: compound statements, if/else, switch/case/default,
for/while/do, break/continue, goto and labels, return, `#if` blocks inside bodies (an opaque
branch), and calls that never return (BUG(), panic(), ...).  Each node carries the statement or
condition it evaluates; the path walker (reviewer.analysis.walker) walks the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

NORETURN_CALLS = frozenset(
    {
        "BUG",
        "panic",
        "do_exit",
        "unreachable",
        "__builtin_unreachable",
        "__builtin_trap",
        "make_task_dead",
        "kthread_exit",
        "__noreturn",
    }
)


@dataclass
class CfgNode:
    id: int
    kind: str  # entry, exit, stmt, cond, return, noreturn, join, guard, scope_end
    ast: Node | None = None
    line: int = 0
    succs: list[tuple[int, object]] = field(default_factory=list)  # (target, label)
    loop_head: bool = False
    cond_is_opaque: bool = False  # '#ifdef' blocks and loop macros with no real condition
    scope_locals: tuple[str, ...] = ()  # for scope_end: guard() locks released here


@dataclass
class Cfg:
    nodes: list[CfgNode]
    entry: int
    exit: int
    noreturn: int
    incomplete: bool = False  # a construct was not understood (e.g. goto to a missing label)

    def node(self, i: int) -> CfgNode:
        return self.nodes[i]

    def loops_around(self) -> list[frozenset[int]]:
        """For each node id: the loop heads whose loop the node is in, i.e. the heads it can
        reach and that can reach it (every cycle through a head stays inside its set)."""
        succs = [[s for s, _ in n.succs] for n in self.nodes]
        preds: list[list[int]] = [[] for _ in self.nodes]
        for n in self.nodes:
            for s in succs[n.id]:
                preds[s].append(n.id)
        around: list[set[int]] = [set() for _ in self.nodes]
        for head in (n.id for n in self.nodes if n.loop_head):
            inside = _reach(head, succs) & _reach(head, preds)
            for nid in inside:
                around[nid].add(head)
        return [frozenset(a) for a in around]


def _reach(start: int, edges: list[list[int]]) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        for m in edges[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


class _Builder:
    def __init__(
        self,
        text: Callable[[Node], str],
        noreturn: frozenset[str],
        is_scoped_guard: Callable[[Node], bool] | None = None,
    ) -> None:
        self.nodes: list[CfgNode] = []
        self.is_scoped_guard = is_scoped_guard or (lambda n: False)
        self.text = text
        self.noreturn_names = noreturn
        self.labels: dict[str, int] = {}
        self.pending_gotos: list[tuple[int, str]] = []
        self.incomplete = False

    def new(self, kind: str, ast: Node | None = None, loop_head: bool = False) -> int:
        line = ast.start_point[0] + 1 if ast is not None else 0
        n = CfgNode(len(self.nodes), kind, ast, line, [], loop_head)
        self.nodes.append(n)
        return n.id

    def edge(self, a: int, b: int, label: object = None) -> None:
        self.nodes[a].succs.append((b, label))

    # Each build_* takes the list of "open ends" (node ids, label) flowing into the statement and
    # returns the open ends flowing out of it.
    def build(self, stmt: Node, ins: list[tuple[int, object]], ctx: _LoopCtx) -> list:
        t = stmt.type
        if t == "compound_statement":
            return self.build_block(stmt, [c for c in stmt.named_children], ins, ctx)
        if t == "if_statement" and self.is_scoped_guard(stmt):
            return self.build_scoped_guard(stmt, ins, ctx)
        if t == "if_statement":
            return self.build_if(stmt, ins, ctx)
        if t in ("while_statement", "for_statement"):
            return self.build_loop(stmt, ins, ctx)
        if t == "do_statement":
            return self.build_do(stmt, ins, ctx)
        if t == "switch_statement":
            return self.build_switch(stmt, ins, ctx)
        if t == "return_statement":
            n = self.new("return", stmt)
            self.connect(ins, n)
            self.edge(n, self.exit_id)
            return []
        if t == "break_statement":
            if ctx.break_target is None:
                self.incomplete = True
                return []
            ctx.breaks.extend(self.as_list(ins))
            return []
        if t == "continue_statement":
            if ctx.continue_target is None:
                self.incomplete = True
                return []
            for a, lab in ins:
                self.edge(a, ctx.continue_target, lab)
            return []
        if t == "goto_statement":
            n = self.new("stmt", stmt)
            self.connect(ins, n)
            label = stmt.child_by_field_name("label")
            self.pending_gotos.append((n, self.text(label) if label else ""))
            return []
        if t == "labeled_statement":
            label = stmt.child_by_field_name("label")
            j = self.new("join", stmt)
            self.nodes[j].line = stmt.start_point[0] + 1
            if label is not None:
                self.labels[self.text(label)] = j
            self.connect(ins, j)
            outs: list = [(j, None)]
            for c in stmt.named_children:
                if c.type in ("statement_identifier",) or c == label:
                    continue
                outs = self.build(c, outs, ctx)
            return outs
        if t in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"):
            return self.build_preproc(stmt, ins, ctx)
        if t in ("comment", "preproc_call", "preproc_def", "preproc_function_def",
                 "preproc_include", "type_definition", "struct_specifier", "enum_specifier",
                 "union_specifier", ";"):
            return ins
        if t == "expression_statement" and self.is_noreturn(stmt):
            n = self.new("noreturn", stmt)
            self.connect(ins, n)
            self.edge(n, self.noreturn_id)
            return []
        if t == "ERROR":
            self.incomplete = True
        n = self.new("stmt", stmt)
        self.connect(ins, n)
        return [(n, None)]

    @staticmethod
    def as_list(ins: list) -> list:
        return list(ins)

    def connect(self, ins: list, n: int) -> None:
        for a, lab in ins:
            self.edge(a, n, lab)

    def is_noreturn(self, stmt: Node) -> bool:
        expr = stmt.named_children[0] if stmt.named_children else None
        if expr is None or expr.type != "call_expression":
            return False
        fn = expr.child_by_field_name("function")
        name = self.text(fn) if fn is not None else ""
        if name in self.noreturn_names:
            return True
        if name in ("BUG_ON", "WARN_ON_ONCE_NORETURN"):
            args = expr.child_by_field_name("arguments")
            if args is not None and args.named_child_count == 1:
                return self.text(args.named_children[0]).strip() in ("1", "true")
        return False

    def build_block(self, block: Node, stmts: list[Node], ins: list, ctx: _LoopCtx) -> list:
        outs = ins
        guards: list[str] = []
        for s in stmts:
            if s.type in ("{", "}"):
                continue
            if not outs and s.type != "labeled_statement" and not self._contains_label(s):
                # unreachable code (after return/goto) that holds no label: skip
                continue
            outs = self.build(s, outs, ctx)
            if s.type == "expression_statement" and self._is_guard(s):
                guards.append(self.text(s))
        if guards and outs:
            end = self.new("scope_end", block)
            self.nodes[end].line = block.end_point[0] + 1
            self.nodes[end].scope_locals = tuple(guards)
            self.connect(outs, end)
            outs = [(end, None)]
        return outs

    def _is_guard(self, stmt: Node) -> bool:
        return self.text(stmt).lstrip().startswith("guard(")

    def _contains_label(self, s: Node) -> bool:
        stack = [s]
        while stack:
            n = stack.pop()
            if n.type == "labeled_statement" or n.type == "case_statement":
                return True
            stack.extend(n.named_children)
        return False

    def build_if(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        cond = stmt.child_by_field_name("condition")
        c = self.new("cond", cond if cond is not None else stmt)
        self.connect(ins, c)
        cons = stmt.child_by_field_name("consequence")
        alt = stmt.child_by_field_name("alternative")
        outs: list = []
        if cons is not None:
            outs += self.build(cons, [(c, True)], ctx)
        else:
            outs.append((c, True))
        if alt is not None:
            body = [ch for ch in alt.named_children]
            a_outs: list = [(c, False)]
            for b in body:
                a_outs = self.build(b, a_outs, ctx)
            outs += a_outs
        else:
            outs.append((c, False))
        return outs

    def build_scoped_guard(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        """`scoped_guard(name, lock) body`: the lock is held for the body only."""
        g = self.new("guard", stmt)
        self.connect(ins, g)
        cons = stmt.child_by_field_name("consequence")
        outs = self.build(cons, [(g, None)], ctx) if cons is not None else [(g, None)]
        if outs:
            end = self.new("scope_end", stmt)
            self.nodes[end].line = stmt.end_point[0] + 1
            self.connect(outs, end)
            outs = [(end, None)]
        return outs

    def build_loop(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        outs = ins
        if stmt.type == "for_statement":
            init = stmt.child_by_field_name("initializer")
            if init is not None:
                n = self.new("stmt", init)
                self.connect(outs, n)
                outs = [(n, None)]
        cond = stmt.child_by_field_name("condition")
        head = self.new("cond", cond if cond is not None else stmt, loop_head=True)
        if cond is None:
            self.nodes[head].cond_is_opaque = True
            self.nodes[head].line = stmt.start_point[0] + 1
        self.connect(outs, head)
        update = stmt.child_by_field_name("update") if stmt.type == "for_statement" else None
        cont_target = head
        if update is not None:
            u = self.new("stmt", update)
            self.edge(u, head)
            cont_target = u
        inner = _LoopCtx(break_target=head, continue_target=cont_target)
        body = stmt.child_by_field_name("body")
        body_outs = self.build(body, [(head, True)], inner) if body is not None else [(head, True)]
        self.connect(body_outs, cont_target)
        if cond is None and stmt.type == "for_statement":
            # for (;;): only breaks leave the loop
            return inner.breaks
        return [(head, False)] + inner.breaks

    def build_do(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        entry = self.new("join", stmt, loop_head=True)
        self.connect(ins, entry)
        cond = stmt.child_by_field_name("condition")
        c = self.new("cond", cond if cond is not None else stmt)
        inner = _LoopCtx(break_target=c, continue_target=c)
        body = stmt.child_by_field_name("body")
        outs = self.build(body, [(entry, None)], inner) if body is not None else [(entry, None)]
        self.connect(outs, c)
        if cond is not None and self.text(cond).strip("() \t\n") in ("0", "false"):
            return [(c, None)] + inner.breaks if outs else inner.breaks
        self.edge(c, entry, True)
        return [(c, False)] + inner.breaks

    def build_switch(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        cond = stmt.child_by_field_name("condition")
        sw = self.new("cond", cond if cond is not None else stmt)
        self.nodes[sw].cond_is_opaque = True
        self.connect(ins, sw)
        inner = _LoopCtx(break_target=sw, continue_target=ctx.continue_target)
        inner.outer = ctx
        body = stmt.child_by_field_name("body")
        has_default = False
        fall: list = []
        cases = [c for c in body.named_children] if body is not None else []
        for case in cases:
            if case.type != "case_statement":
                fall = self.build(case, fall, inner)
                continue
            value = case.child_by_field_name("value")
            if value is None:
                has_default = True
            label = ("case", self.text(value) if value is not None else "default")
            j = self.new("join", case)
            self.edge(sw, j, label)
            self.connect(fall, j)
            outs: list = [(j, None)]
            for s in case.named_children:
                if s == value:
                    continue
                outs = self.build(s, outs, inner)
            fall = outs
        outs = fall + inner.breaks
        if not has_default:
            outs.append((sw, ("case", "default")))
        # breaks inside the switch leave the switch, continues go to the enclosing loop
        return outs

    def build_preproc(self, stmt: Node, ins: list, ctx: _LoopCtx) -> list:
        c = self.new("cond", stmt)
        self.nodes[c].cond_is_opaque = True
        alt = stmt.child_by_field_name("alternative")
        then_stmts = [
            ch
            for ch in stmt.named_children
            if ch != alt and ch.type not in ("identifier", "preproc_defined", "binary_expression",
                                             "unary_expression", "call_expression",
                                             "parenthesized_expression", "number_literal")
            and ch != stmt.child_by_field_name("name")
            and ch != stmt.child_by_field_name("condition")
        ]
        self.connect(ins, c)
        outs: list = [(c, True)]
        for s in then_stmts:
            outs = self.build(s, outs, ctx)
        if alt is not None:
            outs += self.build_preproc_alt(alt, [(c, False)], ctx)
        else:
            outs.append((c, False))
        return outs

    def build_preproc_alt(self, alt: Node, ins: list, ctx: _LoopCtx) -> list:
        if alt.type in ("preproc_elif", "preproc_elifdef"):
            return self.build_preproc(alt, ins, ctx)
        outs = ins
        for s in alt.named_children:
            outs = self.build(s, outs, ctx)
        return outs


@dataclass
class _LoopCtx:
    break_target: int | None = None
    continue_target: int | None = None
    breaks: list = field(default_factory=list)
    outer: _LoopCtx | None = None


def build_cfg(
    body: Node,
    text: Callable[[Node], str],
    noreturn: frozenset[str] = NORETURN_CALLS,
    is_scoped_guard: Callable[[Node], bool] | None = None,
) -> Cfg:
    """Build the CFG of a function body (a compound_statement).

    `is_scoped_guard` tells which if_statements are normalised `scoped_guard(...)` blocks.
    """
    b = _Builder(text, noreturn, is_scoped_guard)
    entry = b.new("entry", None)
    b.exit_id = b.new("exit", None)
    b.noreturn_id = b.new("noreturn_sink", None)
    b.nodes[entry].line = body.start_point[0] + 1
    b.nodes[b.exit_id].line = body.end_point[0] + 1
    outs = b.build(body, [(entry, None)], _LoopCtx())
    # falling off the end of the function is an implicit return at the closing brace
    for a, lab in outs:
        b.edge(a, b.exit_id, lab)
    for n, label in b.pending_gotos:
        target = b.labels.get(label)
        if target is None:
            b.incomplete = True
            b.edge(n, b.exit_id)
        else:
            b.edge(n, target)
    return Cfg(b.nodes, entry, b.exit_id, b.noreturn_id, b.incomplete)

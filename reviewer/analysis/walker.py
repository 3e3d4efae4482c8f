"""The path walker: runs a function's CFG with the abstract state and lets rule checkers watch.

Flow position: understanding -> judgement.  The walker is generic: it knows from the knowledge
tables (and from summaries of the file's own functions) which calls take and drop which resource,
keeps symbolic values and branch facts, and explores every distinct (node, state) pair once.
Checkers (one per rule family) observe calls, assignments, dereferences, branches, unmatched
releases and exits, and may add tags to the state.  Path explosion is bounded; a bounded walk is
reported by the engine, never silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tree_sitter import Node

from reviewer.analysis.knowledge import Knowledge
from reviewer.analysis.state import Held, Pending, State, replace
from reviewer.analysis.symbolic import (
    call_args,
    callee_name,
    canon,
    is_pure,
    lvalue_key,
    root_of,
    strip_parens,
)
from reviewer.c.cfg import Cfg, CfgNode

MAX_STEPS = 40000
NODE_STATE_CAP = 16
BUSY_FACTOR = 8  # states a busy node may hold, in units of NODE_STATE_CAP, before the bound
AFTER_BOUND_STEPS = 1000  # once bounded, the rest of the walk gets this many more steps
LOOP_ITERATIONS = 2
TRANSPARENT_CALLS = frozenset(
    {"likely", "unlikely", "WARN_ON", "WARN_ON_ONCE", "WARN", "WARN_ONCE", "VM_WARN_ON",
     "VM_WARN_ON_ONCE", "data_race", "READ_ONCE"}
)
HANDED_KINDS = frozenset({"ref", "alloc", "registration"})


@dataclass
class CallSite:
    node: Node
    name: str
    args: list[Node]
    line: int
    dest: Node | None  # the assignment target when the result is stored
    in_condition: bool = False
    # what does not change from one walk step to the next, worked out when the site is read:
    out_vars: tuple[tuple[str, int], ...] = ()  # `&var` arguments: (var, column)
    guard: str | None = None  # guard(name)(lock): the lock group


@dataclass(frozen=True)
class RemovedLine:
    """A line a patch removes from the function under review."""

    at: int  # the post-image line it was removed before (where a reviewer would comment)
    old_line: int  # its line number in the pre image
    text: str


@dataclass
class Op:
    kind: str  # call, assign, deref, decl
    node: Node
    extra: object = None


@dataclass
class Summary:
    """What a function of the file does to resources its caller can see."""

    acquires: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (group, kind, key in terms of params or 'ret', success)
    releases: list[tuple[str, str]] = field(default_factory=list)  # (group, key in params)
    params: list[str] = field(default_factory=list)


class Checker:
    """Base class of rule-family checkers: override what you need."""

    family = ""

    def begin(self, walk: Walk) -> None:  # noqa: B027
        pass

    def on_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        return None

    def after_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        return None

    def on_assign(self, walk: Walk, st: State, lhs: Node, rhs: Node | None) -> State | None:
        return None

    def on_deref(self, walk: Walk, st: State, ptr: Node) -> State | None:
        return None

    def on_branch(self, walk: Walk, st: State, node: CfgNode, label: object) -> State | None:
        return None

    def on_release_unheld(
        self, walk: Walk, st: State, call: CallSite, group: str, key: str, double: bool
    ) -> None:
        pass

    def on_pending_failed(self, walk: Walk, st: State, pending: Pending) -> State | None:
        return None

    def on_release_mismatch(
        self, walk: Walk, st: State, call: CallSite, held: Held, key: str
    ) -> None:
        pass

    def on_exit(self, walk: Walk, st: State, node: CfgNode, returned: str | None) -> None:
        pass

    def finish(self, walk: Walk) -> None:  # noqa: B027
        pass


class Walk:
    """One walk of one function.  Rules read `unit` (the function), `knowledge` and `state`."""

    def __init__(
        self,
        unit: FunctionUnit,
        knowledge: Knowledge,
        checkers: Iterable[Checker],
        summaries: Callable[[str], Summary | None] | None = None,
        removed: Iterable[RemovedLine] = (),
        added: Iterable[int] = (),
    ) -> None:
        self.unit = unit
        # in a patch review: the lines the patch removes from this function, each with the
        # line of the post image it was removed next to (empty when scanning files)
        self.removed: list[RemovedLine] = list(removed)
        self.added: frozenset[int] = frozenset(added)  # post-image lines the patch adds
        self.knowledge = knowledge
        self.checkers = list(checkers)
        self.summaries = summaries or (lambda name: None)
        self.text = unit.text
        self.cfg: Cfg = unit.cfg
        self.bounded = False
        self.steps = 0
        self.call_syms: dict[int, str] = {}
        self._ops_cache: dict[int, list[Op]] = {}
        self.acquired_groups: set[str] = set()  # groups acquired somewhere in the function
        self.exit_states: list[tuple[State, CfgNode, str | None]] = []
        self.locals = unit.local_names()
        self.handed_at_exit: list[Held] = []  # resources the current exit hands to the caller
        self.pending_returned: list[Pending] = []  # acquisitions whose result is returned
        self.repeated_conds: set[str] = set()  # condition texts tested more than once
        self._canon_cache: dict[tuple[int, int], tuple[tuple, str]] = {}
        self._cond_leaves: dict[tuple[int, bool], list[tuple[Node, bool]]] = {}

    # -- helpers for checkers ------------------------------------------------------------------
    def line(self, node: Node | CfgNode) -> int:
        if isinstance(node, CfgNode):
            return node.line + self.unit.line_base
        return node.start_point[0] + 1 + self.unit.line_base

    def canon(self, node: Node | None, st: State) -> str:
        if node is None:
            return ""
        env = st.env
        key = (node.id, id(env))
        hit = self._canon_cache.get(key)
        if hit is not None and hit[0] is env:  # the very same environment object
            return hit[1]
        value = canon(node, self.text, st.env_map(), self.call_syms)
        self._canon_cache[key] = (env, value)
        return value

    def stmt_text(self, node: Node) -> str:
        return " ".join(self.text(node).split())

    # -- the walk ------------------------------------------------------------------------------
    def run(self) -> Walk:
        for c in self.checkers:
            c.begin(self)
        self._prescan()
        loops_around = self.cfg.loops_around()  # a loop's count matters only inside it
        seen: dict[int, set[State]] = {}
        work: list[tuple[int, State]] = [(self.cfg.entry, State())]
        keep = self._interesting_names()
        joined: dict[tuple[int, tuple], State] = {}
        budget = MAX_STEPS
        while work:
            nid, st = work.pop()
            if st.loops:
                inside = loops_around[nid]
                if any(h not in inside for h, _n in st.loops):
                    st = replace(st, loops=tuple(x for x in st.loops if x[0] in inside))
            bucket = seen.setdefault(nid, set())
            if st in bucket:
                continue
            if len(bucket) >= NODE_STATE_CAP:
                # a busy node: stay path-sensitive for resources only, join the rest
                sig = (nid, st.signature())
                base = joined.get(sig)
                merged = st.widened(keep) if base is None else base.join(st)
                if merged is not None:
                    joined[sig] = st = merged
                if st in bucket:
                    continue
                if len(bucket) >= NODE_STATE_CAP * BUSY_FACTOR:
                    if not self.bounded:
                        self.bounded = True
                        budget = min(budget, self.steps + AFTER_BOUND_STEPS)
                    continue
            bucket.add(st)
            self.steps += 1
            if self.steps > budget:
                self.bounded = True
                break
            node = self.cfg.node(nid)
            for succ, st2 in self._transfer(node, st):
                work.append((succ, st2))
        for c in self.checkers:
            c.finish(self)
        return self

    def call_sites(self):
        """Every call the function makes, in CFG node order (for checkers' own pre-scans)."""
        for n in self.cfg.nodes:
            if n.ast is None:
                continue
            for op in self._ops(n):
                if op.kind == "call":
                    yield op.extra

    def _interesting_names(self) -> set[str]:
        names: set[str] = set()
        for cs in self.call_sites():
            if cs.name in self.knowledge.acquires or cs.name in self.knowledge.releases:
                for a in cs.args:
                    names.add(root_of(self.text(a)))
                if cs.dest is not None:
                    names.add(root_of(self.text(cs.dest)))
        counts: dict[str, int] = {}
        for n in self.cfg.nodes:
            if n.kind == "cond" and n.ast is not None and not n.cond_is_opaque:
                t = self.stmt_text(strip_parens(n.ast)).lstrip("!")
                counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            if c > 1:
                names.update(re.findall(r"[A-Za-z_]\w*", t))
                self.repeated_conds.add(t)
        names.discard("")
        return names

    def _prescan(self) -> None:
        for cs in self.call_sites():
            acq = self.knowledge.acquires.get(cs.name)
            if acq is not None:
                self.acquired_groups.add(acq.group)
            summ = self.summaries(cs.name)
            if summ is not None:
                for a in summ.acquires:
                    self.acquired_groups.add(a[0])

    def _transfer(self, node: CfgNode, st: State) -> list[tuple[int, State]]:
        if node.kind == "exit":
            self._exit(st, node, None)
            return []
        if node.kind in ("noreturn_sink",):
            return []
        if node.kind == "entry" or node.kind == "join":
            return [(s, st) for s, _ in node.succs]
        if node.kind == "scope_end":
            st = self._end_scope(st, node)
            return [(s, st) for s, _ in node.succs]
        if node.kind == "guard":
            st = self._scoped_guard(st, node)
            return [(s, st) for s, _ in node.succs]
        out_st = self._run_ops(node, st)
        if out_st is None:
            return []
        st = out_st
        if node.kind == "return":
            value = node.ast.named_children[0] if node.ast is not None and node.ast.named_children \
                else None
            returned = self.canon(value, st) if value is not None else None
            what = f" {self.stmt_text(value)}" if value is not None else ""
            st = st.step(self.line(node), "returns" + what)
            self._exit(st, node, returned, value)
            return []
        if node.kind == "noreturn":
            return []
        if node.kind == "cond":
            return self._branches(node, st)
        return [(s, st) for s, _ in node.succs]

    def _branches(self, node: CfgNode, st: State) -> list[tuple[int, State]]:
        out: list[tuple[int, State]] = []
        if node.loop_head:
            n = st.loop_count(node.id)
            st = st.with_loop(node.id, n + 1)
            if n >= LOOP_ITERATIONS:
                exits = [(s, lab) for s, lab in node.succs if lab is False]
                for s, lab in exits:
                    b = self._branch(node, st, lab)
                    if b is not None:
                        out.append((s, b))
                return out
        for s, lab in node.succs:
            b = self._branch(node, st, lab)
            if b is not None:
                out.append((s, b))
        return out

    def _branch(self, node: CfgNode, st: State, label: object) -> State | None:
        if label in (True, False) and not node.cond_is_opaque and node.ast is not None:
            facts = self.cond_facts(node.ast, bool(label), st)
            for c, v in facts:
                known = st.fact(c)
                if known is None:
                    known = _constant_truth(c)
                if known is None and not v and any(root_of(h.key) == c and h.key != c
                                                   for h in st.held):
                    known = True  # a lock or reference taken through c: c is not NULL
                if known is not None and known != v:
                    return None
            st = st.with_facts(facts)
            st = self._resolve_pending(st)
            if not node.loop_head:
                cond = self.stmt_text(strip_parens(node.ast))
                st = st.step(self.line(node), f"'{cond}' is {str(label).lower()}")
        for c in self.checkers:
            r = c.on_branch(self, st, node, label)
            if r is not None:
                st = r
        return st

    # -- conditions ----------------------------------------------------------------------------
    def cond_facts(self, node: Node, value: bool, st: State) -> list[tuple[str, bool]]:
        """The facts a condition being `value` gives on this path.  Which sub-expressions
        they are about is the same at every visit (worked out once per node and truth);
        what they say depends on the path's values."""
        key = (node.id, value)
        leaves = self._cond_leaves.get(key)
        if leaves is None:
            leaves = self._cond_leaves[key] = self._leaves(node, value)
        if len(leaves) == 1:
            return self._fact(leaves[0][0], leaves[0][1], st)
        out: list[tuple[str, bool]] = []
        for leaf, truth in leaves:
            out += self._fact(leaf, truth, st)
        return out

    def _leaves(self, node: Node, value: bool) -> list[tuple[Node, bool]]:
        """The sub-expressions of a condition that facts are recorded on, with the truth
        each one has when the condition is `value`: through `!`, `&&` when true, `||` when
        false, comparisons with NULL/0/false and transparent calls such as likely()."""
        node = strip_parens(node)
        t = node.type
        if t == "unary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and self.text(op) == "!":
                arg = node.child_by_field_name("argument")
                if arg is not None:
                    return self._leaves(arg, not value)
        if t == "binary_expression":
            op_node = node.child_by_field_name("operator")
            op = self.text(op_node) if op_node is not None else ""
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is not None and right is not None:
                if op == "&&":
                    if value:
                        return self._leaves(left, True) + self._leaves(right, True)
                    return [(node, False)]
                if op == "||":
                    if not value:
                        return self._leaves(left, False) + self._leaves(right, False)
                    return [(node, True)]
                if op in ("==", "!="):
                    lt, rt = self.text(left).strip(), self.text(right).strip()
                    truth = value if op == "!=" else not value
                    if rt in ("NULL", "0", "false"):
                        return self._leaves(left, truth)
                    if lt in ("NULL", "0", "false"):
                        return self._leaves(right, truth)
        if t == "call_expression" and node.id not in self.call_syms:
            name = callee_name(node, self.text)
            args = call_args(node)
            if name in TRANSPARENT_CALLS and args:
                return self._leaves(args[0], value)
        return [(node, value)]

    def _fact(self, node: Node, value: bool, st: State) -> list[tuple[str, bool]]:
        """Record a branch fact only where it can matter later, to keep states few: tests of
        plain values (pointers, flags, fields), conditions the function tests more than once,
        and tests of a pending acquisition's result."""
        c = self.canon(node, st)
        if (
            node.type in ("identifier", "field_expression", "pointer_expression",
                          "subscript_expression")
            or self.stmt_text(node) in self.repeated_conds
            or node.id in self.call_syms
            or any(p.symbol in c for p in st.pending)
            or _constant_truth(c) is not None
        ):
            return [(c, value)]
        return []

    def _resolve_pending(self, st: State) -> State:
        if not st.pending:
            return st
        for p in list(st.pending):
            ok = _pending_outcome(p, st)
            if ok is None:
                continue
            st = replace(st, pending=st.pending - {p})
            if ok:
                st = st.add_held(p.held)
                st = st.step(p.held.line, f"{p.held.call}() succeeded")
            else:
                st = st.step(p.held.line, f"{p.held.call}() failed")
                for c in self.checkers:
                    r = c.on_pending_failed(self, st, p)
                    if r is not None:
                        st = r
        return st

    # -- statements ----------------------------------------------------------------------------
    def _ops(self, node: CfgNode) -> list[Op]:
        ast = node.ast
        if ast is None:
            return []
        cached = self._ops_cache.get(node.id)
        if cached is not None:
            return cached
        ops: list[Op] = []
        if node.kind == "cond":
            if node.cond_is_opaque and ast.type.startswith("preproc"):
                ops = []
            else:
                self._collect(ast, ops, in_condition=True)
        elif ast.type == "declaration":
            for d in ast.named_children:
                if d.type == "init_declarator":
                    value = d.child_by_field_name("value")
                    decl = d.child_by_field_name("declarator")
                    if value is not None:
                        self._collect(value, ops, dest=decl)
                    if decl is not None:
                        ops.append(Op("assign", decl, value))
                elif d.type in ("identifier", "pointer_declarator", "array_declarator"):
                    ops.append(Op("assign", d, None))
        elif ast.type == "return_statement":
            for c in ast.named_children:
                self._collect(c, ops)
        else:
            self._collect(ast, ops)
        self._ops_cache[node.id] = ops
        return ops

    def _collect(
        self, n: Node, ops: list[Op], dest: Node | None = None, in_condition: bool = False
    ) -> None:
        t = n.type
        if t in ("sizeof_expression", "alignof_expression", "offsetof_expression", "comment",
                 "string_literal", "concatenated_string", "type_descriptor"):
            return
        if t == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "call_expression":
                # guard(x)(lock): evaluate the lock arguments only
                pass
            args = call_args(n)
            name = callee_name(n, self.text)
            if name in ("sizeof", "typeof", "__typeof__", "ARRAY_SIZE", "BUILD_BUG_ON"):
                return
            for a in args:
                self._collect(a, ops, in_condition=in_condition)
            cs = CallSite(n, name, args, n.start_point[0] + 1, dest, in_condition,
                          self._address_args(args))
            cs.guard = self._guard_group(cs)
            if (in_condition and dest is None) or _returned_directly(n):
                acq = self.knowledge.acquires.get(name)
                summ = self.summaries(name)
                if (acq is not None and acq.success != "always") or (
                    summ is not None and any(a[3] != "always" for a in summ.acquires)
                ):
                    self.call_syms[n.id] = f"{name}@L{n.start_point[0] + 1}c{n.start_point[1]}"
            ops.append(Op("call", n, cs))
            return
        if t == "assignment_expression":
            left = n.child_by_field_name("left")
            right = n.child_by_field_name("right")
            op = n.child_by_field_name("operator")
            optext = self.text(op) if op is not None else "="
            if right is not None:
                self._collect(right, ops, dest=left if optext == "=" else None,
                              in_condition=in_condition)
            if left is not None:
                self._collect_lvalue(left, ops)
                ops.append(Op("assign", left, right if optext == "=" else ("op", optext)))
            return
        if t == "update_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None:
                self._collect_lvalue(arg, ops)
                ops.append(Op("assign", arg, ("op", "++")))
            return
        if t == "field_expression":
            arg = n.child_by_field_name("argument")
            if arg is not None:
                self._collect(arg, ops, in_condition=in_condition)
                op = n.child_by_field_name("operator")
                if (self.text(op) if op is not None else "") == "->":
                    ops.append(Op("deref", arg))
            return
        if t == "pointer_expression":
            arg = n.child_by_field_name("argument")
            if arg is None:
                return
            if self.text(n).startswith("&"):
                # &p->field computes an address, it does not read through p
                inner = strip_parens(arg)
                if inner.type == "field_expression":
                    base = inner.child_by_field_name("argument")
                    if base is not None:
                        self._collect(base, ops, in_condition=in_condition)
                    return
                self._collect(arg, ops, in_condition=in_condition)
                return
            self._collect(arg, ops, in_condition=in_condition)
            ops.append(Op("deref", arg))
            return
        if t == "subscript_expression":
            for c in n.named_children:
                self._collect(c, ops, in_condition=in_condition)
            arr = n.child_by_field_name("argument") or (n.named_children[0] if n.named_children
                                                         else None)
            if arr is not None:
                ops.append(Op("deref", arr))
            return
        if t in ("parenthesized_expression", "cast_expression"):
            for c in n.named_children:
                self._collect(c, ops, dest=dest, in_condition=in_condition)
            return
        for c in n.named_children:
            self._collect(c, ops, in_condition=in_condition)

    def _collect_lvalue(self, left: Node, ops: list[Op]) -> None:
        left = strip_parens(left)
        if left.type == "field_expression":
            arg = left.child_by_field_name("argument")
            if arg is not None:
                self._collect(arg, ops)
                op = left.child_by_field_name("operator")
                if (self.text(op) if op is not None else "") == "->":
                    ops.append(Op("deref", arg))
        elif left.type == "pointer_expression":
            arg = left.child_by_field_name("argument")
            if arg is not None:
                self._collect(arg, ops)
                ops.append(Op("deref", arg))
        elif left.type == "subscript_expression":
            for c in left.named_children:
                self._collect(c, ops)

    def _run_ops(self, node: CfgNode, st: State) -> State | None:
        for op in self._ops(node):
            if op.kind == "call":
                st = self._call(st, op.extra)  # type: ignore[arg-type]
            elif op.kind == "assign":
                st = self._assign(st, op.node, op.extra)  # type: ignore[arg-type]
            elif op.kind == "deref":
                for c in self.checkers:
                    r = c.on_deref(self, st, op.node)
                    if r is not None:
                        st = r
        return st

    def _assign(self, st: State, lhs: Node, rhs: object) -> State:
        env = st.env_dict()
        decl = lhs
        while decl.type in ("pointer_declarator", "array_declarator", "init_declarator",
                            "parenthesized_declarator", "attributed_declarator"):
            inner = decl.child_by_field_name("declarator")
            if inner is None:
                break
            decl = inner
        key = lvalue_key(decl, self.text, env) if decl.type != "identifier" else self.text(decl)
        line = lhs.start_point[0] + 1
        if key is None:
            if isinstance(rhs, Node) and strip_parens(decl).type != "identifier":
                # pages[i] = page, per_cpu(x, cpu) = p: a reference stored is handed on
                return self._hand_on_by_store(st, decl, canon(rhs, self.text, env,
                                                              self.call_syms))
            return st
        if isinstance(rhs, Node):
            value = canon(rhs, self.text, env, self.call_syms)
            if is_pure(rhs) and not value.startswith("{"):
                new = value
            else:
                new = f"{key}@L{line}"
                pend = self._pending_by_dest(st, rhs)
                if pend:
                    new = pend
        elif rhs is None:
            new = f"{key}@L{line}" if lhs.type != "identifier" or decl is not lhs else f"{key}@decl"
        else:
            new = f"{key}@L{line}"
        # invalidate keys hanging from the old value of this variable
        env = {k: v for k, v in env.items() if not k.startswith(key + "->") and
               not k.startswith(key + ".")}
        env[key] = new
        st = st.with_env(env)
        for c in self.checkers:
            r = c.on_assign(self, st, lhs, rhs if isinstance(rhs, Node) else None)
            if r is not None:
                st = r
        if isinstance(rhs, Node):
            st = self._hand_on_by_store(st, decl, new)
        return st

    def _pending_by_dest(self, st: State, rhs: Node) -> str | None:
        rhs = strip_parens(rhs)
        if rhs.type == "call_expression":
            return f"{callee_name(rhs, self.text)}@L{rhs.start_point[0] + 1}c{rhs.start_point[1]}"
        return None

    def _hand_on_by_store(self, st: State, target: Node, value: str) -> State:
        """A reference stored into a field or a global is handed on, not leaked."""
        target = strip_parens(target)
        if target.type == "identifier" and self.text(target) in self.locals:
            return st
        stored = root_of(value) if value.startswith("&") else value  # &obj[0], &obj->member
        for p in list(st.pending):  # `global = kmalloc(...)`: stored before it is even tested
            if p.held.kind in HANDED_KINDS and p.symbol == stored:
                st = replace(st, pending=st.pending - {p})
        for h in list(st.held):
            if h.kind in HANDED_KINDS and stored in (h.key, root_of(h.key)):
                st = st.drop_held(h).step(target.start_point[0] + 1 + self.unit.line_base,
                                          f"reference stored in {self.text(target)}")
        return st

    # -- calls ---------------------------------------------------------------------------------
    def _call(self, st: State, cs: CallSite) -> State:
        for c in self.checkers:
            r = c.on_call(self, st, cs)
            if r is not None:
                st = r
        k = self.knowledge
        name = cs.name
        # out-parameters: a variable whose address is passed may be written by the callee
        known = k.acquires.get(name) or k.releases.get(name)
        if cs.out_vars and (known is None or known.key.startswith("*")):
            env = st.env_dict()
            for var, col in cs.out_vars:
                env[var] = f"{var}@L{cs.line}c{col}"
                for key in [x for x in env if x.startswith(var + ".")]:
                    del env[key]
            st = st.with_env(env)
        init = k.field_inits.get(name)
        if init is not None:
            st = self._field_init(st, cs, init)
        if cs.guard is not None:
            st = self._acquire_guard(st, cs, cs.guard)
        rel = k.releases.get(name)
        if rel is not None:
            st = self._release(st, cs, rel.group, self._key(rel.key, cs, st))
        acq = k.acquires.get(name)
        if acq is not None:
            st = self._acquire(st, cs, acq.group, acq.kind, self._key(acq.key, cs, st),
                               acq.success, acq.releases_first)
        if rel is None and acq is None:
            summ = self.summaries(name)
            if summ is not None:
                st = self._apply_summary(st, cs, summ)
        for c in self.checkers:
            r = c.after_call(self, st, cs)
            if r is not None:
                st = r
        return st

    def _address_args(self, args: list[Node]) -> tuple[tuple[str, int], ...]:
        """The plain variables whose address a call is given (`&var`), with the column."""
        out = []
        for a in args:
            a2 = strip_parens(a)
            if a2.type == "pointer_expression" and self.text(a2).startswith("&"):
                inner = a2.child_by_field_name("argument")
                if inner is not None and strip_parens(inner).type == "identifier":
                    out.append((self.text(strip_parens(inner)), a2.start_point[1]))
        return tuple(out)

    def _field_init(self, st: State, cs: CallSite, init: dict) -> State:
        """An initialiser such as mmu_notifier_range_init() writes fields from its arguments."""
        idx = int(init.get("arg", 0))
        if idx >= len(cs.args):
            return st
        target = strip_parens(cs.args[idx])
        if target.type == "pointer_expression" and self.text(target).startswith("&"):
            inner = target.child_by_field_name("argument")
            base = self.text(inner).strip() + "." if inner is not None else ""
        else:
            base = self.canon(target, st) + "->"
        env = st.env_dict()
        facts = []
        for fld, pos in dict(init.get("fields", {})).items():
            pos = int(pos)
            if -len(cs.args) <= pos < len(cs.args):
                value = self.canon(cs.args[pos], st)
                env[base + fld] = value
                if fld in init.get("nonzero", []):
                    facts.append((value, True))
        return st.with_env(env).with_facts(facts)

    def _guard_group(self, cs: CallSite) -> str | None:
        fn = cs.node.child_by_field_name("function")
        if fn is None or fn.type != "call_expression":
            return None
        inner = callee_name(fn, self.text)
        if inner != "guard":
            return None
        gargs = call_args(fn)
        if not gargs:
            return None
        return self.knowledge.guards.get(self.text(gargs[0]).strip(), "guard:" +
                                         self.text(gargs[0]).strip())

    def _acquire_guard(self, st: State, cs: CallSite, group: str) -> State:
        block = cs.node.parent
        while block is not None and block.type != "compound_statement":
            block = block.parent
        key = self.canon(cs.args[0], st) if cs.args else ""
        h = Held(group, self.knowledge.group_kind.get(group, "lock"), key,
                 self.line(cs.node), "guard", scope=block.start_byte if block else -1,
                 atomic=group in self.knowledge.atomic_groups)
        return st.add_held(h).step(self.line(cs.node), f"guard({group}) taken")

    def _scoped_guard(self, st: State, node: CfgNode) -> State:
        """`scoped_guard(name, lock)`: normalised to an if whose condition is `(name, lock)`."""
        if node.ast is None:
            return st
        cond = node.ast.child_by_field_name("condition")
        inner = strip_parens(cond) if cond is not None else None
        if inner is None or inner.type != "comma_expression":
            return st
        left = inner.child_by_field_name("left")
        right = inner.child_by_field_name("right")
        gname = self.text(left).strip() if left is not None else ""
        while right is not None and right.type == "comma_expression":
            right = right.child_by_field_name("left")
        group = self.knowledge.guards.get(gname, "guard:" + gname)
        h = Held(group, self.knowledge.group_kind.get(group, "lock"), self.canon(right, st),
                 self.line(node), "scoped_guard", scope=node.ast.start_byte,
                 atomic=group in self.knowledge.atomic_groups)
        return st.add_held(h).step(self.line(node), f"scoped_guard({gname}) taken")

    def _end_scope(self, st: State, node: CfgNode) -> State:
        if node.ast is None:
            return st
        for h in list(st.held):
            if h.scope == node.ast.start_byte:
                st = st.drop_held(h)
        return st

    def _key(self, spec: str, cs: CallSite, st: State) -> str:
        if spec == "none":
            return ""
        if "{" in spec:
            # a template such as "&{arg0}->lru_lock": the lock lives inside the object passed
            return re.sub(r"\{(\*?(?:arg\d+|ret))\}",
                          lambda m: self._key(m.group(1), cs, st), spec)
        if spec == "all":
            return ",".join(self.canon(a, st) for a in cs.args)
        if spec == "ret":
            if cs.dest is not None:
                return self._dest_symbol(cs)
            if cs.node.id in self.call_syms:
                return self.call_syms[cs.node.id]
            return f"{cs.name}@L{cs.line}c{cs.node.start_point[1]}"
        deref = spec.startswith("*")
        idx_text = spec.lstrip("*").removeprefix("arg")
        try:
            idx = int(idx_text)
        except ValueError:
            return ""
        if idx >= len(cs.args):
            return ""
        arg = strip_parens(cs.args[idx])
        if deref and arg.type == "pointer_expression" and self.text(arg).startswith("&"):
            inner = arg.child_by_field_name("argument")
            return self.canon(inner, st)
        return self.canon(arg, st)

    def _dest_symbol(self, cs: CallSite) -> str:
        return f"{cs.name}@L{cs.line}c{cs.node.start_point[1]}"

    def _acquire(self, st: State, cs: CallSite, group: str, kind: str, key: str, success: str,
                 releases_first: bool = False) -> State:
        if releases_first:
            old = st.find_held(group, key)
            if old is not None:
                st = st.drop_held(old)
        h = Held(group, kind, key, self.line(cs.node), cs.name,
                 atomic=group in self.knowledge.atomic_groups)
        if success == "always":
            return st.add_held(h).step(self.line(cs.node), f"{cs.name}() taken")
        if cs.dest is None and not cs.in_condition and not _returned_directly(cs.node):
            # result ignored: assume it worked
            return st.add_held(h).step(self.line(cs.node), f"{cs.name}() taken")
        symbol = self._dest_symbol(cs) if cs.dest is not None else self.call_syms.get(
            cs.node.id, self._dest_symbol(cs))
        if kind in HANDED_KINDS and success in ("ret_nonnull", "ret_not_err",
                                                "ret_nonnull_not_err") and key == "":
            key = symbol
        return replace(st, pending=st.pending | {Pending(symbol, h, success)}).step(
            self.line(cs.node), f"{cs.name}() called")

    def _release(self, st: State, cs: CallSite, group: str, key: str) -> State:
        h = st.find_held(group, key)
        if h is None and self.knowledge.group_kind.get(group) in HANDED_KINDS:
            # a get that returns the object and a put that takes its member (&obj->kref)
            h = next((x for x in st.held if x.group == group and x.scope < 0
                      and "&" in (key[:1], x.key[:1])
                      and root_of(x.key) == root_of(key) and root_of(key)), None)
            if h is not None:
                key = h.key
        if h is not None:
            st = st.drop_held(h)
            st = replace(st, released=st.released | {(group, key, self.line(cs.node))})
            return st.step(self.line(cs.node), f"{cs.name}() releases it")
        # a pending acquisition whose success was never tested
        for p in st.pending:
            if p.held.group == group and (p.held.key == key or (
                    p.held.kind in HANDED_KINDS and "&" in (key[:1], p.held.key[:1])
                    and root_of(key) == root_of(p.held.key))):
                st = replace(st, pending=st.pending - {p})
                return st.step(self.line(cs.node), f"{cs.name}()")
        same_group = [x for x in st.held if x.group == group and x.scope < 0]
        double = any(g == group and k == key for g, k, _ in st.released)
        if same_group and not double and self.knowledge.group_kind.get(group) == "range":
            # the range ended is not the range started
            held = sorted(same_group, key=lambda x: x.line)[-1]
            for c in self.checkers:
                c.on_release_mismatch(self, st, cs, held, key)
            return st.drop_held(held)
        for c in self.checkers:
            c.on_release_unheld(self, st, cs, group, key, double)
        return st

    def _apply_summary(self, st: State, cs: CallSite, summ: Summary) -> State:
        mapping = {}
        for i, p in enumerate(summ.params):
            if i < len(cs.args):
                mapping[p] = self.canon(cs.args[i], st)
        for group, key in summ.releases:
            st = self._release(st, cs, group, _subst(key, mapping))
        for group, kind, key, success in summ.acquires:
            if key == "ret":
                k = self._dest_symbol(cs) if cs.dest is not None else self.call_syms.get(
                    cs.node.id, self._dest_symbol(cs))
                if cs.dest is None and not cs.in_condition:
                    continue  # returned object not kept: handed on
            else:
                k = _subst(key, mapping)
            st = self._acquire(st, cs, group, kind, k, success)
        return st

    # -- exits ---------------------------------------------------------------------------------
    def _exit(self, st: State, node: CfgNode, returned: str | None,
              value: Node | None = None) -> None:
        # a pending acquisition whose value is returned is handed to the caller, who tests it
        # (`return spin_trylock(lock);` makes a conditional lock wrapper)
        self.pending_returned = []
        for p in list(st.pending):
            if returned is not None and (returned == p.symbol or p.symbol in returned):
                st = replace(st, pending=st.pending - {p})
                if returned == p.symbol:
                    self.pending_returned.append(p)
        self.handed_at_exit = []
        if returned is not None:
            for h in list(st.held):
                if h.kind in HANDED_KINDS and (h.key == returned or root_of(h.key) == returned):
                    st = st.drop_held(h)
                    self.handed_at_exit.append(h)
        self.exit_states.append((st, node, returned))
        for c in self.checkers:
            c.on_exit(self, st, node, returned)


def _returned_directly(call: Node) -> bool:
    """`return f(...);` (through parentheses and casts): the caller decides on the result."""
    n = call.parent
    while n is not None and n.type in ("parenthesized_expression", "cast_expression"):
        n = n.parent
    return n is not None and n.type == "return_statement"


def _constant_truth(value: str) -> bool | None:
    if value in ("0", "false", "NULL", "0UL", "0L"):
        return False
    if value == "true" or (value[:1].isdigit() and value.rstrip("ULul").isdigit()):
        return value.rstrip("ULul") != "0"
    return None


def _subst(key: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return key
    pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in mapping) + r")\b")
    return pattern.sub(lambda m: mapping[m.group(1)], key)


def _pending_outcome(p: Pending, st: State) -> bool | None:
    s = p.symbol
    truth = st.fact(s)
    neg = st.fact(f"{s}<0")
    is_err = st.fact(f"IS_ERR({s})")
    err_or_null = st.fact(f"IS_ERR_OR_NULL({s})")
    if p.success == "ret_zero":
        if truth is False or neg is False:
            return True
        if truth is True or neg is True:
            return False
        return None
    if p.success in ("ret_nonzero", "ret_nonnull"):
        if truth is None:
            return None
        return truth
    if p.success == "ret_not_err":
        if is_err is None:
            return None
        return not is_err
    if p.success == "ret_nonnull_not_err":
        if err_or_null is not None:
            return not err_or_null
        if truth is False or is_err is True:
            return False
        if truth is True and is_err is False:
            return True
        return None
    return None


# imported late to avoid a cycle: FunctionUnit lives with the engine's view of a function
from reviewer.analysis.unit import FunctionUnit  # noqa: E402

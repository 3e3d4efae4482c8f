"""Family `null-check`: NULL tests that cannot help, and the ones that hide a real problem.

Kernel reason
-------------
A NULL test documents that the value may be NULL there.  When it cannot be (the notifier core
already dereferenced `mm` and `range` to reach the callback; `container_of()` of a member; a
lock helper that always returns its lock), the test misleads every later reader and tends to
grow an error path that is never exercised.  When the pointer was dereferenced on every path
before the test, either the test is dead or the dereference is the bug.  A function that
returns an ERR_PTR() on failure (`mmu_notifier_get()`) never returns NULL, so a NULL test of
its result lets every failure through.  A test of a field that another function of the file
clears under a lock (`hmm->mm = NULL` under `mm->page_table_lock` in hmm_mm_destroy()) cannot
protect the code after it unless it holds that lock too: the field may be cleared right after
the test (John Hubbard: "It can't provide true protection").  `kfree(NULL)`, `kvfree(NULL)` and
`vfree(NULL)` are no-ops, so `if (p) kfree(p);` is noise (SEMANTICS.md 5).

Anti-pattern::

    struct hmm *hmm = hmm_get(range->mm);

    if (hmm->mm == NULL)        /* cleared under mm->page_table_lock elsewhere */
            return 0;

Best practice::

    struct hmm *hmm = hmm_get(range->mm);     /* the reference keeps hmm usable */

    ret = hmm_invalidate_range(hmm, true, &update);
    hmm_put(hmm);
"""

from __future__ import annotations

import re

from tree_sitter import Node

from reviewer.analysis.clears import field_clears, lock_name, norm_type
from reviewer.analysis.knowledge import _applies
from reviewer.analysis.state import State, replace
from reviewer.analysis.symbolic import root_of, strip_parens
from reviewer.analysis.walker import Walk
from reviewer.analysis.words import in_words
from reviewer.c.cfg import CfgNode
from reviewer.engine.rule import FamilyChecker, RuleFamily, RuleInfo

FAMILY_NAME = "null-check"
NOTIFIER_OPS = frozenset({"mmu_notifier_ops", "mmu_interval_notifier_ops"})
UNEVALUATED_PREFIXES = ("VM_",)  # VM_BUG_ON() and friends compile to nothing without DEBUG_VM

AFTER_DEREF = RuleInfo(
    id="null-check-after-deref",
    family=FAMILY_NAME,
    severity="warning",
    summary="a NULL test of a pointer already dereferenced on every path to it",
    reason="If the pointer can be NULL here, the earlier dereference already crashed; if it "
    "cannot, the test is dead code that tells readers the opposite.",
    bad="""pfn = range->vma->vm_pgoff;
if (!range->vma)
        return -EINVAL;""",
    good="""if (!range->vma)
        return -EINVAL;
pfn = range->vma->vm_pgoff;""",
)
NEVER_NULL = RuleInfo(
    id="null-check-never-null",
    family=FAMILY_NAME,
    severity="warning",
    summary="a NULL test of a value that cannot be NULL",
    reason="container_of()/list_entry() of a member, the address of an object, the mn/mm/range "
    "arguments of a notifier callback (the core dereferenced them to call it) and the results "
    "of helpers that always return a valid pointer are never NULL; testing them suggests a "
    "case that does not exist and grows dead error paths.",
    bad="""static int demo_start(struct mmu_notifier *mn,
                      const struct mmu_notifier_range *range)
{
        if (!range->mm)
                return 0;""",
    good="""static int demo_start(struct mmu_notifier *mn,
                      const struct mmu_notifier_range *range)
{
        struct demo *d = container_of(mn, struct demo, mn);""",
)
ERR_PTR_NULL = RuleInfo(
    id="null-check-err-ptr",
    family=FAMILY_NAME,
    severity="error",
    summary="NULL test of a function that returns ERR_PTR() on failure",
    reason="mmu_notifier_get() and the other ERR_PTR() returners never return NULL: a NULL "
    "test passes every failure on as a valid pointer, and the first use dereferences an "
    "error code.",
    bad="""mn = mmu_notifier_get(&demo_ops, current->mm);
if (!mn)
        return -ENOMEM;""",
    good="""mn = mmu_notifier_get(&demo_ops, current->mm);
if (IS_ERR(mn))
        return PTR_ERR(mn);""",
)
UNPROTECTED = RuleInfo(
    id="null-check-unprotected-liveness",
    family=FAMILY_NAME,
    severity="warning",
    summary="a liveness test without the lock under which the file clears the field",
    reason=__doc__.split("Anti-pattern::")[0].split("Kernel reason\n-------------\n")[1]
    .strip(),
    bad="""hmm = hmm_get(mm);
if (hmm->mm == NULL)     /* hmm_mm_destroy() clears it under mm->page_table_lock */
        return 0;""",
    good="""hmm = hmm_get(mm);     /* the reference is the protection: no test */
hmm_invalidate_range(hmm, true, &update);
hmm_put(hmm);""",
)
FREE_NULL = RuleInfo(
    id="null-check-free-null",
    family=FAMILY_NAME,
    severity="warning",
    summary="`if (p) kfree(p);`: the free already accepts NULL",
    reason="kfree(), kvfree(), vfree(), kfree_sensitive() and their kin return at once on "
    "NULL; the test adds a branch and nothing else.",
    bad="""if (buf)
        kfree(buf);""",
    good="""kfree(buf);""",
)


# -- reading conditions ------------------------------------------------------------------------
def null_tests(cond: Node, text) -> list[tuple[Node, bool]]:
    """The expressions `cond` compares with NULL: (expression, explicit) where explicit means
    `== NULL`/`!= NULL`, as opposed to a bare `p`/`!p` truth test."""
    out: list[tuple[Node, bool]] = []
    n = strip_parens(cond)
    t = n.type
    if t == "unary_expression":
        op = n.child_by_field_name("operator")
        arg = n.child_by_field_name("argument")
        if op is not None and text(op) == "!" and arg is not None:
            return null_tests(arg, text)
        return out
    if t == "binary_expression":
        op = n.child_by_field_name("operator")
        left = n.child_by_field_name("left")
        right = n.child_by_field_name("right")
        optext = text(op) if op is not None else ""
        if left is None or right is None:
            return out
        if optext in ("&&", "||"):
            return null_tests(left, text) + null_tests(right, text)
        if optext in ("==", "!="):
            lt, rt = text(left).strip(), text(right).strip()
            if rt == "NULL":
                return [(strip_parens(left), True)]
            if lt == "NULL":
                return [(strip_parens(right), True)]
        return out
    if t == "call_expression":
        fn = n.child_by_field_name("function")
        if fn is not None and text(fn) in ("likely", "unlikely", "WARN_ON", "WARN_ON_ONCE"):
            args = n.child_by_field_name("arguments")
            if args is not None and args.named_children:
                return null_tests(args.named_children[0], text)
        return out
    if t in ("identifier", "field_expression"):
        return [(n, False)]
    return out


def _in_condition_or_unevaluated(node: Node, text) -> bool:
    """A dereference inside a condition (short-circuit: maybe not evaluated on this path) or
    inside VM_BUG_ON() (compiled out without CONFIG_DEBUG_VM) proves nothing."""
    n = node
    while n.parent is not None:
        p = n.parent
        if p.type in ("expression_statement", "compound_statement", "return_statement",
                      "declaration", "function_definition"):
            return False
        if p.type == "binary_expression":
            op = p.child_by_field_name("operator")
            if op is not None and text(op) in ("&&", "||"):
                return True
        if p.type == "conditional_expression":
            return True
        if p.type in ("if_statement", "while_statement", "for_statement", "do_statement",
                      "switch_statement"):
            return True
        if p.type == "call_expression":
            fn = p.child_by_field_name("function")
            if fn is not None and text(fn).startswith(UNEVALUATED_PREFIXES):
                return True
        n = p
    return False


class NullCheckChecker(FamilyChecker):
    family = FAMILY_NAME
    rules = {r.id: r for r in (AFTER_DEREF, NEVER_NULL, ERR_PTR_NULL, UNPROTECTED, FREE_NULL)}

    def begin(self, walk: Walk) -> None:
        k = walk.knowledge
        self.never_null = {n for e in k.section("never_null") if _applies(e, k.version)
                           for n in e.get("names", [])}
        self.never_null_macros = k.names_in("never_null_macros")
        self.err_ptr = k.names_in("err_ptr")
        self.free_ok = k.names_in("null_ok_free")
        self.flags = k.names_in("liveness_flags")
        self.tests: dict[int, list[tuple[Node, bool]]] = {}
        for node in walk.cfg.nodes:
            if node.kind == "cond" and node.ast is not None and not node.cond_is_opaque:
                found = null_tests(node.ast, walk.text)
                if found:
                    self.tests[node.id] = found
        self.tested_texts = {walk.stmt_text(e) for lst in self.tests.values() for e, _ in lst}
        self.arrivals: dict[tuple[int, int], list[int | None]] = {}
        self.never: dict[tuple[int, int], list[str | None]] = {}
        self.expr_of: dict[tuple[int, int], tuple[Node, CfgNode]] = {}
        self.callback_args = self._callback_args(walk)
        self._free_null(walk)

    # -- notifier callbacks -------------------------------------------------------------------
    def _callback_args(self, walk: Walk) -> dict[str, str]:
        """Never-NULL expressions of a notifier callback: parameter or field -> why."""
        unit = walk.unit
        roles = [o for o in unit.facts.callbacks_of(unit.name) if o.struct in NOTIFIER_OPS]
        params = unit.params
        first = norm_type(params[0][0]) if params else ""
        by_signature = unit.is_static and first in ("struct mmu_notifier *",
                                                    "struct mmu_interval_notifier *")
        if not roles and not by_signature:
            return {}
        role = f"an .{roles[0].field} callback" if roles else "a notifier callback"
        out: dict[str, str] = {}
        for entry in walk.knowledge.section("notifier_args"):
            types = {norm_type(t) for t in entry.get("types", [])}
            fields = entry.get("fields", {})
            for ptype, pname in params:
                nt = norm_type(ptype)
                if nt in types:
                    out[pname] = role
                    for f in fields.get(nt, []):
                        out[f"{pname}->{f}"] = role
        return out

    # -- dereferences -------------------------------------------------------------------------
    def on_deref(self, walk: Walk, st: State, ptr: Node) -> State | None:
        text = walk.stmt_text(ptr)
        if text not in self.tested_texts:
            return None
        parent = ptr.parent
        if parent is None or parent.type not in ("field_expression", "pointer_expression"):
            return None
        if _in_condition_or_unevaluated(ptr, walk.text):
            return None
        value = walk.canon(ptr, st)
        if any(t[1] == "deref" and t[2] == value for t in st.tags_of(FAMILY_NAME)):
            return None
        return st.add_tag((FAMILY_NAME, "deref", value, walk.line(ptr), ptr.start_byte))

    def on_assign(self, walk: Walk, st: State, lhs: Node, rhs: Node | None) -> State | None:
        """A variable assigned again holds a new value, even when the walker names it as
        before (the same assignment on the next loop iteration): what was dereferenced or
        known about the old one no longer applies."""
        target = strip_parens(lhs)
        while target.type in ("init_declarator", "pointer_declarator"):
            inner = target.child_by_field_name("declarator")
            if inner is None:
                break
            target = inner
        name = walk.text(target)
        if name not in self.tested_texts:
            return None
        value = walk.canon(target, st)
        mine = st.tags_of(FAMILY_NAME)
        stale = {t for t in mine if t[1] in ("deref", "addr") and (t[2] == value or (
            t[1] == "addr" and t[2] == name))}
        out = replace(st, tags=st.tags - stale) if stale else st
        value_node = strip_parens(rhs) if rhs is not None else None
        if (value_node is not None and value_node.type == "pointer_expression"
                and walk.text(value_node).startswith("&")):
            out = out.add_tag((FAMILY_NAME, "addr", name, value))
        return out if out is not st else None

    # -- tests ------------------------------------------------------------------------------------
    def on_branch(self, walk: Walk, st: State, node: CfgNode, label: object) -> State | None:
        found = self.tests.get(node.id)
        if not found or label not in (True, False):
            return None
        # every state reaching the test is recorded, on whichever branch it goes on: a value
        # known to be NULL only takes the false branch, and must still count
        test_line = walk.line(node)
        for idx, (expr, explicit) in enumerate(found):
            value = walk.canon(expr, st)
            key = (node.id, idx)
            self.expr_of[key] = (expr, node)
            derefs = [(t[3], t[4]) for t in st.tags_of(FAMILY_NAME)
                      if t[1] == "deref" and t[2] == value and t[3] < test_line]
            self.arrivals.setdefault(key, []).append(min(derefs) if derefs else None)
            self.never.setdefault(key, []).append(
                self._never_null(walk, st, expr, value, explicit))
            self._err_ptr(walk, st, node, expr, value)
            self._liveness(walk, st, node, expr, value, explicit)
        return None

    def _never_null(self, walk: Walk, st: State, expr: Node, value: str,
                    explicit: bool) -> str | None:
        text = walk.stmt_text(expr)
        pointer = explicit or (expr.type == "identifier"
                               and "*" in (walk.unit.local_type(text) or ""))
        m = re.match(r"^([A-Za-z_]\w*)@L\d+c\d+$", value)
        if m and pointer:
            name = m.group(1)
            if name in self.never_null_macros:
                return f"it is {name}() of a member, which cannot yield NULL"
            if name in self.never_null:
                return f"{name}() never returns NULL"
        if pointer and st.has_tag((FAMILY_NAME, "addr", text, value)):
            if "@join" in value:
                return "on every path to here it holds the address of an object or field"
            return f"it holds the address {in_words(value, st)}, which is never NULL"
        role = self.callback_args.get(text)
        if role is not None and value == text:
            return (f"{walk.unit.name}() is {role}, and the notifier core "
                    f"dereferenced `{text}` on its way to calling it")
        return None

    def _err_ptr(self, walk: Walk, st: State, node: CfgNode, expr: Node, value: str) -> None:
        m = re.match(r"^([A-Za-z_]\w*)@L\d+c\d+$", value)
        if not m or m.group(1) not in self.err_ptr:
            return
        if st.fact(f"IS_ERR({value})") is not None or st.fact(
                f"IS_ERR_OR_NULL({value})") is not None:
            return
        name = m.group(1)
        text = walk.stmt_text(expr)
        self.report(
            walk, ERR_PTR_NULL.id, node.ast,
            f"`{text}` comes from {name}(), which returns an ERR_PTR() on failure and never "
            "NULL, so this NULL test lets every failure through and the code goes on with an "
            f"error code as a pointer. Test it with IS_ERR({text}) and return PTR_ERR({text}).",
            st,
            anchor=f"{name} {walk.stmt_text(node.ast)}",
        )

    def _liveness(self, walk: Walk, st: State, node: CfgNode, expr: Node, value: str,
                  explicit: bool) -> None:
        if expr.type != "field_expression" or "->" not in walk.text(expr):
            return
        fld_node = expr.child_by_field_name("field")
        base = expr.child_by_field_name("argument")
        if fld_node is None or base is None or strip_parens(base).type != "identifier":
            return
        fld = walk.text(fld_node)
        is_flag = fld in self.flags
        base_text = walk.text(strip_parens(base))
        base_value = walk.canon(base, st)
        refs = [h for h in st.held if h.kind == "ref" and root_of(h.key) == base_value]
        if not refs:
            return  # only judged right after a reference was taken: the case that misleads
        base_type = norm_type(walk.unit.local_type(base_text))
        clears = field_clears(walk.unit.facts, fld, ("true", "1") if is_flag else ("NULL", "0"))
        clears = [c for c in clears if c.locks and c.base_type and c.base_type == base_type
                  and c.function != walk.unit.name]
        if not clears:
            return
        held = {(h.group, lock_name(h.key)) for h in st.held if h.kind == "lock"}
        unprotected = [c for c in clears if not (c.locks & held)]
        if not unprotected:
            return
        c = unprotected[0]
        ref = sorted(refs, key=lambda h: h.line)[0]
        lock = re.sub(r"@L\d+(c\d+)?", "", c.lock_text) or "its lock"
        if is_flag:
            fix = (f"Test the flag under {lock} and keep holding it while acting on the answer, "
                   "or drop the test if the reference already makes it pointless.")
        else:
            fix = ("Delete the test and rely on the reference, or, if the race matters, take "
                   f"{lock} around the test and the use.")
        verb, becoming = ("sets it", "being set") if is_flag else ("sets it to NULL",
                                                                    "becoming NULL")
        self.report(
            walk, UNPROTECTED.id, node.ast,
            f"`{walk.stmt_text(expr)}` is tested here without {lock}, the lock under which "
            f"{c.function}() {verb} (line {c.line}). Nothing stops it from {becoming} "
            "right after this test, so the check cannot protect the code that follows; and "
            f"{ref.call}() at line {ref.line} already took a reference, which is what must keep "
            f"`{base_text}` usable. {fix}",
            st,
            anchor=f"{walk.stmt_text(node.ast)} {c.function}",
        )

    # -- if (p) kfree(p); --------------------------------------------------------------------------
    def _free_null(self, walk: Walk) -> None:
        stack = [walk.unit.body]
        while stack:
            n = stack.pop()
            stack.extend(n.named_children)
            if n.type != "if_statement" or n.child_by_field_name("alternative") is not None:
                continue
            cond = n.child_by_field_name("condition")
            body = n.child_by_field_name("consequence")
            if cond is None or body is None:
                continue
            inner = strip_parens(cond)
            tested = None
            if inner.type in ("identifier", "field_expression"):
                tested = walk.stmt_text(inner)
            elif inner.type == "binary_expression":
                op = inner.child_by_field_name("operator")
                right = inner.child_by_field_name("right")
                left = inner.child_by_field_name("left")
                if (op is not None and walk.text(op) == "!=" and right is not None
                        and left is not None and walk.text(right).strip() == "NULL"):
                    tested = walk.stmt_text(left)
            if tested is None:
                continue
            stmts = [c for c in body.named_children if c.type != "comment"] \
                if body.type == "compound_statement" else [body]
            if len(stmts) != 1 or stmts[0].type != "expression_statement":
                continue
            call = stmts[0].named_children[0] if stmts[0].named_children else None
            if call is None or call.type != "call_expression":
                continue
            fn = call.child_by_field_name("function")
            args = call.child_by_field_name("arguments")
            name = walk.text(fn) if fn is not None else ""
            if name not in self.free_ok or args is None or len(args.named_children) != 1:
                continue
            if walk.stmt_text(args.named_children[0]) != tested:
                continue
            self.report(
                walk, FREE_NULL.id, n,
                f"{name}() already does nothing when given NULL, so the test of `{tested}` "
                f"before it only adds a branch; call {name}({tested}) unconditionally.",
                anchor=f"{name} {walk.stmt_text(n)}",
            )

    # -- end of the walk ------------------------------------------------------------------------
    def finish(self, walk: Walk) -> None:
        if walk.bounded:
            return
        for key, (expr, node) in self.expr_of.items():
            text = walk.stmt_text(expr)
            reasons = self.never.get(key, [])
            if reasons and all(reasons):
                self.report(
                    walk, NEVER_NULL.id, node.ast,
                    f"`{text}` cannot be NULL here: {reasons[0]}. The test suggests a case "
                    "that does not exist, and its error path is dead code; drop it.",
                    anchor=f"{walk.stmt_text(node.ast)} {text}",
                )
                continue
            derefs = self.arrivals.get(key, [])
            if derefs and all(d is not None for d in derefs):
                first = max(d[0] for d in derefs if d is not None)
                if not all(_dominates(walk, d[1], node) for d in derefs if d is not None):
                    continue  # merged states: the dereference is not on every path
                self.report(
                    walk, AFTER_DEREF.id, node.ast,
                    f"`{text}` is tested for NULL here, but every path to this test has already "
                    f"dereferenced it (line {first}). Either the test is dead and can go, or "
                    f"`{text}` really can be NULL and the dereference at line {first} is the "
                    "bug: then move the test before it.",
                    anchor=f"{walk.stmt_text(node.ast)} {text}",
                )


def _dominates(walk: Walk, deref_byte: int, test: CfgNode) -> bool:
    """Every CFG path from the entry to `test` runs the statement holding the dereference."""
    holders = {n.id for n in walk.cfg.nodes if n.ast is not None and n.kind in ("stmt", "return")
               and n.ast.start_byte <= deref_byte < n.ast.end_byte}
    if not holders:
        return False
    seen = {walk.cfg.entry}
    work = [walk.cfg.entry]
    while work:
        nid = work.pop()
        if nid == test.id:
            return False
        for succ, _ in walk.cfg.node(nid).succs:
            if succ not in seen and succ not in holders:
                seen.add(succ)
                work.append(succ)
    return True


class NullCheck(RuleFamily):
    family = FAMILY_NAME
    rules = (AFTER_DEREF, NEVER_NULL, ERR_PTR_NULL, UNPROTECTED, FREE_NULL)

    checker_class = NullCheckChecker


FAMILY = NullCheck()

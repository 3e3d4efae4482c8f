"""Family `refcount`: every reference taken is dropped or handed on, once, and get/put pairs match.

Kernel reason
-------------
A reference (mmget/mmput, mmgrab/mmdrop, get_page/put_page, kref_get/kref_put, a driver's own
x_get/x_put) keeps an object alive while the holder uses it.  A path that returns without
dropping it pins the object forever (an mm that never exits, a page that is never freed, an
HMM struct that outlives its mm); a second put on one path, or a put on a path that never took
the reference, frees the object under another user's feet.  Gets that can fail
(kref_get_unless_zero, mmget_not_zero, get_task_mm, an x_get that returns NULL) give a
reference only on the success branch, so their result must be tested before it is used.
Finally, a get and its put must take the same object: `hmm_get(struct mm_struct *)` against
`hmm_put(struct hmm *)` hides that the "get" is a lookup, and readers can no longer match
each put to its get (John Hubbard's review of the 2019 HMM refcount patch; SEMANTICS.md 3, 7).

Anti-pattern::

    struct hmm *hmm = hmm_get(range->mm);

    if (hmm->mm == NULL)
            return 0;                /* the reference taken above is never dropped */
    ret = hmm_invalidate_range(hmm, true, &update);
    hmm_put(hmm);
    return ret;

Best practice::

    struct hmm *hmm = mm_get_hmm(range->mm);    /* a lookup named as one */

    if (!hmm)
            return 0;
    ret = hmm_invalidate_range(hmm, true, &update);
    hmm_put(hmm);                                /* on every path that holds it */
    return ret;
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from reviewer.analysis.state import Held, Pending, State, replace
from reviewer.analysis.symbolic import call_args, root_of, strip_parens
from reviewer.analysis.walker import TRANSPARENT_CALLS, CallSite, Walk
from reviewer.analysis.words import in_words
from reviewer.c.cfg import CfgNode
from reviewer.c.facts import FileFacts
from reviewer.engine.findings import Finding
from reviewer.engine.rule import FamilyChecker, RuleFamily, RuleInfo, RunOptions

FAMILY_NAME = "refcount"
KINDS = frozenset({"ref", "alloc"})
MAYBE_NULL = frozenset({"ret_nonnull", "ret_nonnull_not_err", "ret_not_err"})
# name-paired helpers: (regex on the get's name, how to build the put's names from its groups)
PAIRS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^(?P<x>\w+)_get$"), ("{x}_put", "{x}_release")),
    (re.compile(r"^get_(?P<x>\w+)$"), ("put_{x}",)),
    (re.compile(r"^(?P<x>\w+)_grab$"), ("{x}_drop",)),
    (re.compile(r"^(?P<x>\w+)_ref$"), ("{x}_unref",)),
    (re.compile(r"^(?P<x>\w+)_hold$"), ("{x}_release", "{x}_unhold")),
)

ASYMMETRIC = RuleInfo(
    id="refcount-asymmetric-pair",
    family=FAMILY_NAME,
    severity="warning",
    summary="a get/put pair of the file takes different objects",
    reason="A get and its put should take the same kind of object, so that every put can be "
    "matched to its get by reading the call sites.  A get that takes one object (an mm) and "
    "returns a reference on another (the hmm hanging from it) is a lookup: name it as one, or "
    "make it take the object its put takes.",
    bad="""static struct hmm *hmm_get(struct mm_struct *mm);
static void hmm_put(struct hmm *hmm);""",
    good="""static struct hmm *hmm_get(struct hmm *hmm);     /* or: mm_get_hmm(mm) */
static void hmm_put(struct hmm *hmm);""",
)
LEAK = RuleInfo(
    id="refcount-leak",
    family=FAMILY_NAME,
    severity="error",
    summary="a path returns holding a reference it neither drops nor hands on",
    reason=__doc__.split("Anti-pattern::")[0].split("Kernel reason\n-------------\n")[1].strip(),
    bad="""hmm = hmm_get(mm);
if (hmm->mm == NULL)
        return 0;
hmm_put(hmm);""",
    good="""hmm = hmm_get(mm);
if (!hmm)
        return 0;
ret = use(hmm);
hmm_put(hmm);
return ret;""",
)
DOUBLE_PUT = RuleInfo(
    id="refcount-double-put",
    family=FAMILY_NAME,
    severity="error",
    summary="a reference is dropped twice on one path",
    reason="Each get is paid back by exactly one put; a second put on the same path drops a "
    "reference somebody else holds, and the object is freed while still in use.",
    bad="""if (err)
        put_page(page);
put_page(page);""",
    good="""if (err)
        goto out;
...
out:
put_page(page);""",
)
PUT_WITHOUT_GET = RuleInfo(
    id="refcount-put-without-get",
    family=FAMILY_NAME,
    severity="error",
    summary="a put on a path where the conditional get failed",
    reason="A conditional get (get_page_unless_zero, kref_get_unless_zero, mmget_not_zero, "
    "refcount_inc_not_zero) takes nothing when it fails; a failure path that reaches the put "
    "of the success path drops a reference the function never had, and frees an object other "
    "users still hold.",
    bad="""if (!get_page_unless_zero(page))
        goto out;
...
out:
put_page(page);""",
    good="""if (!get_page_unless_zero(page))
        return -EBUSY;
...
put_page(page);""",
)
PUT_REMOVED = RuleInfo(
    id="refcount-put-removed",
    family=FAMILY_NAME,
    severity="warning",
    summary="the patch removes the only put of an object the function still gets",
    reason="When a patch deletes the put of an object and changes nothing else about it (it "
    "is still obtained the same way, not returned, not stored, not put anywhere else), the "
    "reference the old code dropped is now kept forever, unless the getter stopped taking "
    "one in the same series.  The reviewer's question is \"who drops it now?\"; the answer "
    "belongs in the changelog, or the put belongs back.",
    bad="""        page = lookup_page_ref(pfn);       /* unchanged by the patch */
        ...
-       put_page(page);""",
    good="""        page = lookup_page_ref(pfn);
        ...
        put_page(page);                      /* kept, or the getter changed too */""",
)
UNCHECKED_GET = RuleInfo(
    id="refcount-unchecked-get",
    family=FAMILY_NAME,
    severity="error",
    summary="the result of a get that can fail is dereferenced without a check",
    reason="Gets for objects that may be dying (kref_get_unless_zero() inside, get_task_mm(), "
    "a lookup that returns NULL) and allocations give nothing on failure; using the result "
    "without testing it dereferences NULL (or an ERR_PTR) exactly when the object is going "
    "away, which is the race the get was meant to handle.",
    bad="""hmm = hmm_get(mm);
down_write(&hmm->mirrors_sem);""",
    good="""hmm = hmm_get(mm);
if (!hmm)
        return;
down_write(&hmm->mirrors_sem);""",
)


def _tracked(walk: Walk, group: str) -> bool:
    return walk.knowledge.group_kind.get(group) in KINDS


def _refers_to(value: str, root: str) -> bool:
    """`value` passes the object `root` itself or the address of one of its members."""
    if not root:
        return False
    if value == root:
        return True
    return value.startswith("&") and root_of(value) == root


class RefcountChecker(FamilyChecker):
    family = FAMILY_NAME
    rules = {r.id: r for r in (ASYMMETRIC, LEAK, DOUBLE_PUT, PUT_WITHOUT_GET, UNCHECKED_GET,
                               PUT_REMOVED)}

    def begin(self, walk: Walk) -> None:
        k = walk.knowledge
        self.consumers = k.names_in("ref_consumers")
        self.borrowers = k.names_in("ref_borrowers") | set(TRANSPARENT_CALLS)
        self.assertions = k.names_in("assertions")
        self.put_keys: dict[tuple[str, str], str] = {}  # (group, key) -> the put's name
        self.leaks: list[tuple[Held, CfgNode, State]] = []
        self.deferred: list[tuple[str, Node, str, State]] = []
        self._before: State | None = None
        self.acq_nodes: dict[tuple[str, str, int], Node] = {}
        self.names: dict[tuple[str, str], str] = {}  # what the code calls each object
        self.nofail: set[str] = set()
        self.removed_puts = _removed_puts(walk)
        self.passed_at: dict[str, set[int]] = {}  # root -> lines of calls it was passed to
        self._got: set[str] | None = None
        for cs in walk.call_sites():
            if "__GFP_NOFAIL" in walk.text(cs.node):
                self.nofail.add(f"{cs.name}@L{cs.line}c{cs.node.start_point[1]}")

    # -- hand-offs and assertions ----------------------------------------------------------
    def _known(self, walk: Walk, name: str) -> bool:
        k = walk.knowledge
        return (name in k.acquires or name in k.releases or name in self.borrowers
                or name in self.assertions)

    def on_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        roots = {root_of(h.key): h for h in st.held if h.kind in KINDS and h.scope < 0}
        for p in st.pending:
            if p.held.kind in KINDS:
                roots.setdefault(root_of(p.held.key), p.held)
        out = st
        if roots:
            consumer = call.name in self.consumers
            unknown = not self._known(walk, call.name)
            for a in call.args:
                value = walk.canon(a, st)
                for root in roots:
                    if not _refers_to(value, root):
                        continue
                    if consumer or unknown:
                        # handed on (a list, a tree, a callee that keeps it): from here the
                        # function may no longer own it, so a later return is no leak
                        out = out.add_tag((FAMILY_NAME, "passed", root))
                        self.passed_at.setdefault(root, set()).add(call.line)
        out = self._lock_arg_deref(walk, out, call)
        self._before = out
        return out if out is not st else None

    def _lock_arg_deref(self, walk: Walk, st: State, call: CallSite) -> State:
        """`down_write(&p->sem)` reads through p as surely as `p->x` does."""
        acq = walk.knowledge.acquires.get(call.name)
        if acq is None or acq.kind != "lock" or not call.args:
            return st
        arg = strip_parens(call.args[0])
        if arg.type != "pointer_expression" or not walk.text(arg).startswith("&"):
            return st
        inner = strip_parens(arg.child_by_field_name("argument") or arg)
        if inner.type != "field_expression" or "->" not in walk.text(inner):
            return st
        base = inner.child_by_field_name("argument")
        return self._deref(walk, st, base, call.node) if base is not None else st

    def after_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        given = st
        st = self._implied_get(walk, st, call)
        before = self._before
        self._before = None
        out = st
        if before is not None:
            new = [h for h in st.held - before.held if h.kind in KINDS]
            new += [p.held for p in st.pending - before.pending if p.held.kind in KINDS]
            for h in new:
                self.acq_nodes[(h.group, h.key, h.line)] = call.node
                self.names.setdefault((h.group, h.key), _name_at_get(walk, st, call, h.key))
                for tag in out.tags_of(FAMILY_NAME):
                    if tag[1] == "put" and tag[2] == h.group and tag[3] == h.key:
                        out = replace(out, tags=out.tags - {tag})
            for h in before.held - st.held:
                if h.kind in KINDS and (h.group, h.key) in {(g, k) for g, k, _ in st.released}:
                    self.put_keys.setdefault((h.group, h.key), call.name)
                    arg = walk.stmt_text(call.args[0]) if call.args else ""
                    out = out.add_tag((FAMILY_NAME, "put", h.group, h.key, walk.line(call.node),
                                       arg))
        if call.name in self.assertions and call.args:
            facts = walk.cond_facts(call.args[0], False, out)
            if facts:
                out = out.step(walk.line(call.node), f"{walk.stmt_text(call.node)} asserts it")
                out = walk._resolve_pending(out.with_facts(facts))
        return out if out is not given else None

    def _implied_get(self, walk: Walk, st: State, call: CallSite) -> State:
        """`folio = lookup(...)` whose put the patch removes: the old code dropped a reference
        on what the call returns, so the walk takes the call as a get (its table entry or a
        summary may simply not exist), and the paths that now leave with it are found."""
        if not self.removed_puts or call.dest is None:
            return st
        k = walk.knowledge
        if call.name in k.acquires or call.name in k.releases or call.name in self.borrowers:
            return st
        summ = walk.summaries(call.name)
        if summ is not None and summ.acquires:
            return st
        var = _dest_var(walk, call.dest)
        gone = next((r for r in self.removed_puts if r.var == var), None)
        if gone is None or walk.line(call.node) in walk.added or var in self._really_got(walk):
            return st
        kind = k.group_kind.get(gone.group, "ref")
        return walk._acquire(st, call, gone.group, kind, walk._key("ret", call, st),
                             "ret_nonnull")

    def _really_got(self, walk: Walk) -> set[str]:
        """Variables a known get of the function takes a reference on (as its result or its
        argument): their gets are the walk's own, nothing is implied for them."""
        if self._got is None:
            k = walk.knowledge
            self._got = set()
            for cs in walk.call_sites():
                if cs.name not in k.acquires or k.group_kind.get(
                        k.acquires[cs.name].group) not in KINDS:
                    continue
                if cs.dest is not None:
                    self._got.add(_dest_var(walk, cs.dest))
                self._got.update(walk.stmt_text(a) for a in cs.args)
        return self._got

    def on_assign(self, walk: Walk, st: State, lhs: Node, rhs: Node | None) -> State | None:
        st2 = self._stored_now(walk, st, lhs, rhs)
        st3 = self._fresh_object(walk, st2, lhs)
        return st3 if st3 is not st else None

    def _stored_now(self, walk: Walk, st: State, lhs: Node, rhs: Node | None) -> State:
        """`entry->pool = pool_get()`: stored where others reach it, the object is handed on
        (remembered as a tag, which outlives the path's widened variable values)."""
        target = strip_parens(lhs)
        if rhs is None or (target.type == "identifier" and walk.text(target) in walk.locals):
            return st
        if target.type in ("init_declarator", "pointer_declarator", "array_declarator"):
            return st  # a declaration of a local
        value = walk.canon(lhs, st)
        roots = {root_of(h.key) for h in st.held if h.kind in KINDS}
        roots |= {root_of(p.held.key) for p in st.pending if p.held.kind in KINDS}
        for root in roots:
            if value == root:
                st = st.add_tag((FAMILY_NAME, "passed", root))
        return st

    def _fresh_object(self, walk: Walk, st: State, lhs: Node) -> State:
        """An assignment site run again (the next loop iteration) makes a new object under the
        same symbol: what was put before is not what is put now."""
        puts = [t for t in st.tags_of(FAMILY_NAME) if t[1] == "put"]
        if not puts:
            return st
        values = {v for _, v in st.env}
        stale = {t for t in puts if root_of(t[3]) in values and "@L" in t[3]}
        if not stale:
            return st
        key = walk.canon(lhs, st)
        stale = {t for t in stale if root_of(t[3]) == key}
        return replace(st, tags=st.tags - stale) if stale else st

    # -- checks and dereferences ------------------------------------------------------------
    def on_branch(self, walk: Walk, st: State, node: CfgNode, label: object) -> State | None:
        if node.ast is None or node.cond_is_opaque:
            return None
        out = st
        if st.pending:
            cond = walk.canon(node.ast, st)
            for p in st.pending:
                if p.symbol in cond:
                    out = out.add_tag((FAMILY_NAME, "checked", p.symbol))
        roots = {root_of(h.key) for h in st.held if h.kind in KINDS and h.scope < 0}
        for root in _compared(walk, st, node.ast, roots):
            # `if (pages != pp_stack) kfree(pages)`: the code decides itself whether it owns it
            out = out.add_tag((FAMILY_NAME, "compared", root))
        return out if out is not st else None

    def on_deref(self, walk: Walk, st: State, ptr: Node) -> State | None:
        out = self._deref(walk, st, ptr, ptr)
        return out if out is not st else None

    def _deref(self, walk: Walk, st: State, ptr: Node, at: Node) -> State:
        value = walk.canon(ptr, st)
        for p in st.pending:
            if p.symbol != value or p.success not in MAYBE_NULL or p.held.kind != "ref":
                continue
            if st.has_tag((FAMILY_NAME, "checked", p.symbol)) or p.symbol in self.nofail:
                continue
            what = "NULL" if p.success == "ret_nonnull" else (
                "an ERR_PTR()" if p.success == "ret_not_err" else "NULL or an ERR_PTR()")
            test = "IS_ERR()" if p.success == "ret_not_err" else "a NULL test"
            name = walk.stmt_text(ptr)
            self.report(
                walk, UNCHECKED_GET.id, at,
                f"`{name}` holds the result of {p.held.call}() (line {p.held.line}), which "
                f"returns {what} when it cannot take the reference, and it is dereferenced "
                f"here with no check on this path. That is exactly the case the get exists "
                f"for (the object is going away); add {test} right after the call and bail "
                "out.",
                st,
                anchor=f"{p.held.call} {walk.stmt_text(at)}",
            )
            # report once: from here on the code assumes the get succeeded
            facts = [(p.symbol, True)]
            if p.success != "ret_nonnull":
                facts += [(f"IS_ERR({p.symbol})", False), (f"IS_ERR_OR_NULL({p.symbol})", False)]
            st = walk._resolve_pending(st.with_facts(facts))
        return st

    def on_pending_failed(self, walk: Walk, st: State, pending: Pending) -> State | None:
        if pending.held.kind in KINDS:
            return st.add_tag((FAMILY_NAME, "failed", pending.held.group, pending.held.key,
                               pending.success, pending.held.call, pending.held.line))
        return None

    # -- puts ------------------------------------------------------------------------------------
    def on_release_unheld(self, walk: Walk, st: State, call: CallSite, group: str, key: str,
                          double: bool) -> None:
        if not _tracked(walk, group) or not key or key == "NULL":
            return
        if double:
            arg = walk.stmt_text(call.args[0]) if call.args else ""
            puts = [t for t in st.tags_of(FAMILY_NAME)
                    if t[1] == "put" and t[2] == group and t[3] == key and t[5] == arg]
            first = min((t[4] for t in puts), default=None)
            if first is not None and first < walk.line(call.node):
                self._later(
                    walk, DOUBLE_PUT.id, call.node,
                    f"{call.name}() drops `{in_words(key, st)}` a second time on this path: it "
                    f"was already dropped at line {first} and nothing took it again in "
                    "between. The extra put frees the object while another holder still uses "
                    "it; drop one of them or make the two paths exclusive.",
                    st,
                )
            return
        failed = [t for t in st.tags_of(FAMILY_NAME)
                  if t[1] == "failed" and t[2] == group and t[3] == key]
        if not failed or failed[0][4] in MAYBE_NULL:
            return  # nothing says it was not held (or the put is of a NULL result)
        _, _, _, _, _, get, line = failed[0]
        self._later(
            walk, PUT_WITHOUT_GET.id, call.node,
            f"{call.name}() drops `{in_words(key, st)}` on a path where {get}() at line "
            f"{line} failed, so this function holds no reference to drop: the put frees a "
            "reference somebody else holds. Leave the failure path before the put (return, "
            "or jump to a label past it).",
            st,
        )

    # -- exits ----------------------------------------------------------------------------------
    def on_exit(self, walk: Walk, st: State, node: CfgNode, returned: str | None) -> None:
        for g, k, _line in st.released:
            self.put_keys.setdefault((g, k), "")
        for h in st.held:
            if h.kind not in KINDS or h.scope >= 0:
                continue
            root = root_of(h.key)
            if returned is not None and root and root in returned:
                continue
            if st.has_tag((FAMILY_NAME, "compared", root)):
                continue
            if st.has_tag((FAMILY_NAME, "passed", root)) and not self._passed_before_too(
                    walk, h, root):
                continue
            if _stored(walk, st, root):
                continue
            acq = self.acq_nodes.get((h.group, h.key, h.line))
            if acq is not None and _loop_leaves(acq, node.ast):
                continue  # gathered in a loop (into a batch the loop fills): not judged here
            self.leaks.append((h, node, st))

    def _passed_before_too(self, walk: Walk, h: Held, root: str) -> bool:
        """The object was passed only to calls the patch does not touch, and the patch removes
        its put: the old code passed it to the same calls and still dropped it, so those calls
        do not take it over."""
        name = self.names.get((h.group, h.key), "")
        if not any(r.group == h.group and r.var in (name, *self._get_args(walk, h))
                   for r in self.removed_puts):
            return False
        return not (self.passed_at.get(root, set()) & walk.added)

    def _get_args(self, walk: Walk, h: Held) -> list[str]:
        """The arguments of the call that took `h`, as written (`get_page_unless_zero(page)`
        takes its reference on `page`)."""
        node = self.acq_nodes.get((h.group, h.key, h.line))
        return [walk.stmt_text(a) for a in call_args(node)] if node is not None else []

    def _later(self, walk: Walk, rule: str, at: Node, message: str, st: State) -> None:
        """Path findings wait for the end of the walk: a walk that hit the path bound has
        merged states, and then a put "twice" or "without a get" is the merge speaking."""
        self.deferred.append((rule, at, message, st))

    def finish(self, walk: Walk) -> None:
        if walk.bounded:
            return
        for rule, at, message, st in self.deferred:
            self.report(walk, rule, at, message, st)
        explained: set[str] = set()
        for h, node, st in self.leaks:
            put = self.put_keys.get((h.group, h.key))
            obj = self.names.get((h.group, h.key)) or in_words(h.key, st)
            gone = next((r for r in self.removed_puts if r.group == h.group
                         and r.var in (obj, *self._get_args(walk, h))), None)
            if gone is not None:
                explained.add(gone.var)
            if put is None and gone is not None:
                self._leak_after_removal(walk, h, node, st, obj, gone)
                continue
            if put is None:
                continue  # never dropped here: a get helper, or handed on in ways not seen
            if _kept_on_success(walk, h, node):
                continue  # a reference on the caller's object, kept when the call succeeds
            where = (f"the return at line {walk.line(node)}" if node.kind == "return"
                     else "the end of the function")
            put_text = f"{put}()" if put else "the put the other paths use"
            if h.kind == "alloc":
                taken, dropped, drop, harm = (f"allocates `{obj}`", "freed", "free it",
                                              "The memory leaks.")
            else:
                taken, dropped, drop, harm = (f"takes a reference on `{obj}`", "dropped",
                                              "drop it", "The object can then never be freed.")
            self.report(
                walk, LEAK.id, gone.at if gone is not None else (
                    node.ast if node.ast is not None else walk.line(node)),
                f"{h.call}() at line {h.line} {taken}, and {where} leaves with it: it is "
                f"neither {dropped} nor handed on, while the other paths of this function "
                f"{drop} with {put_text}. {harm} Call {put_text} before this return (or jump "
                "to the label that does)."
                + (f" This patch removes the `{gone.text}` that did it on this path."
                   if gone is not None else ""),
                st,
                anchor=f"{h.call} {walk.stmt_text(node.ast) if node.ast is not None else 'end'}",
            )
        self._removed_only_put(walk, explained)


    def _leak_after_removal(self, walk: Walk, h: Held, node: CfgNode, st: State, obj: str,
                            gone: RemovedPut) -> None:
        where = (f"the return at line {walk.line(node)}" if node.kind == "return"
                 else "the end of the function")
        what = "the memory" if h.kind == "alloc" else "the reference"
        harm = ("The memory leaks." if h.kind == "alloc"
                else "The object can then never be freed.")
        self.report(  # said where the put was: the return may be far from the patch
            walk, LEAK.id, gone.at,
            f"This patch removes `{gone.text}`, the only {gone.verb} of `{obj}`, but {h.call}() at "
            f"line {h.line} still takes {what}, and {where} now leaves with it: nothing else "
            f"drops it or hands it on. {harm} Keep the {gone.put}() (or say in the changelog "
            "who drops it now).",
            st,
            anchor=f"{h.call} removed {gone.text}",
        )

    def _removed_only_put(self, walk: Walk, explained: set[str]) -> None:
        """A removed put the walk could not pin to a leaking path (the getter is not in the
        tables, or the object is also passed to calls whose ownership is unknown): judged from
        the text of the function, which still gets it the same way and no longer drops it."""
        body = walk.unit.body
        for gone in self.removed_puts:
            if gone.var in explained or gone.var not in walk.locals:
                continue
            source = _assigned_from_call(walk, body, gone.var)
            if source is None:
                continue  # not obtained from a call here: nothing says a reference is held
            name, line = source
            if line in walk.added or name in TRANSPARENT_CALLS or any(
                    re.match(r"\s*(?:[\w\s*]*\s)?\**" + re.escape(gone.var) + r"\s*=[^=]", r.text)
                    for r in walk.removed):
                continue  # the patch changes where the object comes from: not this question
            if _still_owned_elsewhere(walk, body, gone.var, self.consumers):
                continue
            if name in walk.knowledge.acquires:
                takes = ("allocates it" if gone.verb == "free" else "takes a reference")
                why = (f"{name}() {takes}, and with this {gone.verb} gone nothing in the "
                       f"function drops it or hands it on: `{gone.var}` is now leaked on every "
                       f"path that got it. Put the {gone.put}() back, or say in the changelog "
                       "who drops it now.")
            else:
                why = (f"nothing in the function drops it or hands it on any more. The old code "
                       f"dropped a reference here; unless {name}() stopped taking one (not in "
                       f"this patch), `{gone.var}` is now leaked on every path that got it. Who "
                       "drops it now?")
            self.report(
                walk, PUT_REMOVED.id, gone.at,
                f"This removes `{gone.text}`, the only {gone.verb} of `{gone.var}`, which still "
                f"comes "
                f"from {name}() at line {line}; {why}",
                anchor=f"{name} removed {gone.text}",
            )


@dataclass(frozen=True)
class RemovedPut:
    at: int
    put: str
    group: str
    var: str
    text: str
    verb: str = "put"  # "free" for an allocation


_PUT_STMT = re.compile(r"^\s*(\w+)\s*\(\s*([A-Za-z_]\w*)\s*(?:,[^;]*)?\)\s*;\s*(?:/\*.*\*/)?\s*$")


def _removed_puts(walk: Walk) -> list[RemovedPut]:
    """Puts of a tracked kind (reference, allocation) that the patch removes as a statement of
    their own, `put_page(page);`."""
    k = walk.knowledge
    out = []
    for r in walk.removed:
        m = _PUT_STMT.match(r.text)
        if m is None:
            continue
        rel = k.releases.get(m.group(1))
        if rel is None or k.group_kind.get(rel.group) not in KINDS:
            continue
        verb = "free" if k.group_kind.get(rel.group) == "alloc" else "put"
        out.append(RemovedPut(r.at, m.group(1), rel.group, m.group(2), " ".join(r.text.split()),
                              verb))
    return out


def _assigned_from_call(walk: Walk, body: Node, var: str) -> tuple[str, int] | None:
    """The call `var` is set from (`var = f(...)`, `T *var = f(...)`), when there is one."""
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type in ("assignment_expression", "init_declarator"):
            left = n.child_by_field_name("left") or n.child_by_field_name("declarator")
            right = n.child_by_field_name("right") or n.child_by_field_name("value")
            if left is not None and right is not None:
                name = walk.text(left).lstrip("* ").strip()
                value = strip_parens(right)
                if name == var and value.type == "call_expression":
                    callee = value.child_by_field_name("function")
                    if callee is not None and callee.type == "identifier":
                        return walk.text(callee), walk.line(value)
        stack.extend(reversed(n.named_children))
    return None


def _still_owned_elsewhere(walk: Walk, body: Node, var: str, consumers: set[str]) -> bool:
    """Something in the function still drops, returns, stores or hands on `var`."""
    k = walk.knowledge
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type == "return_statement" and n.named_children:
            if root_of(walk.text(n.named_children[0]).strip()) == var:
                return True
        elif n.type == "call_expression":
            fn = n.child_by_field_name("function")
            name = walk.text(fn) if fn is not None else ""
            args = [walk.text(a).strip() for a in call_args(n)]
            if var in args and (name in k.releases or name in consumers):
                return True
        elif n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            right = n.child_by_field_name("right")
            if right is not None and walk.text(strip_parens(right)).strip() == var and \
                    left is not None and not (left.type == "identifier"
                                              and walk.text(left) in walk.locals):
                return True
        stack.extend(n.named_children)
    return False


def _dest_var(walk: Walk, dest: Node) -> str:
    """The variable an assignment or a declaration writes: `folio` of `folio = f(x)` or of
    `struct folio *folio = f(x)`."""
    d = dest
    while d.type in ("init_declarator", "pointer_declarator", "parenthesized_declarator"):
        inner = d.child_by_field_name("declarator")
        if inner is None:
            break
        d = inner
    return walk.stmt_text(d)


def _kept_on_success(walk: Walk, h: Held, node: CfgNode) -> bool:
    """The registration idiom: a function takes a reference on an object its caller passed in,
    keeps it when it returns success and drops it on its failure paths (ib core's clients,
    drivers' `*_register()`).  Only a reference (not an allocation) on a parameter, returned
    with a success value (0, true, a positive count), is read that way."""
    if h.kind != "ref" or node.kind != "return" or node.ast is None:
        return False
    if root_of(h.key) not in walk.unit.param_names():
        return False
    value = node.ast.named_children[0] if node.ast.named_children else None
    text = walk.stmt_text(value) if value is not None else ""
    return text in ("0", "true") or text.isdigit() and text != "0"


def _name_at_get(walk: Walk, st: State, call: CallSite, key: str) -> str:
    """The object in the user's words, taken where it is acquired (the variable the result
    is assigned to, or the argument as written), while the path still knows it."""
    if call.dest is not None and "@L" in key:
        return _dest_var(walk, call.dest)
    return in_words(key, st)


def _stored(walk: Walk, st: State, root: str) -> bool:
    """The object is also reachable from a field, a global or through a pointer."""
    for var, val in st.env:
        if val == root and not (var in walk.locals and var.isidentifier()):
            return True
    return False


def _loop_leaves(acq: Node, exit_ast: Node | None) -> bool:
    """The acquiring call sits in a loop that the exit is outside of."""
    n = acq.parent
    while n is not None and n.type != "function_definition":
        if n.type in ("for_statement", "while_statement", "do_statement"):
            if exit_ast is None:
                return True
            return not (n.start_byte <= exit_ast.start_byte < n.end_byte)
        n = n.parent
    return False


def _compared(walk: Walk, st: State, cond: Node, roots: set[str]) -> set[str]:
    """Roots compared for (in)equality with something other than NULL in `cond`."""
    out: set[str] = set()
    if not roots:
        return out
    stack = [cond]
    while stack:
        n = stack.pop()
        if n.type == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and walk.text(op) in ("==", "!="):
                left = n.child_by_field_name("left")
                right = n.child_by_field_name("right")
                sides = [walk.canon(x, st) for x in (left, right) if x is not None]
                if len(sides) == 2 and not any(x in ("NULL", "0", "false") for x in sides):
                    out.update(r for r in roots if r in sides)
        stack.extend(n.named_children)
    return out


# -- file level: name-paired helpers ---------------------------------------------------------
def _norm_type(t: str) -> str:
    t = re.sub(r"\b(const|volatile|__rcu|__user)\b", "", t)
    return " ".join(t.replace("*", " * ").split())


def _short(t: str) -> str:
    words = [w for w in _norm_type(t).split() if w not in ("struct", "union", "*")]
    name = words[-1] if words else "obj"
    return name.removesuffix("_struct").removesuffix("_t")


def _pairs(facts: FileFacts) -> list[tuple[str, str]]:
    out = []
    for name in facts.defs:
        for pat, puts in PAIRS:
            m = pat.match(name)
            if m is None:
                continue
            for p in puts:
                put = p.format(x=m.group("x"))
                if put in facts.defs:
                    out.append((name, put))
                    break
    return out


def asymmetric_pairs(facts: FileFacts, names: list[str], options: RunOptions) -> list[Finding]:
    findings: list[Finding] = []
    wanted = set(names)
    for get, put in _pairs(facts):
        if get not in wanted and put not in wanted:
            continue
        gfd, gpiece = facts.defs[get]
        pfd, _ = facts.defs[put]
        if not gfd.params or not pfd.params:
            continue
        gtype, ptype = _norm_type(gfd.params[0][0]), _norm_type(pfd.params[0][0])
        if gtype == ptype or "*" not in gtype or "*" not in ptype:
            continue
        ret = _norm_type(gfd.return_type)
        if ret != ptype:
            continue  # not an object-returning get paired with its put
        summ = facts.summary(get)
        if summ is None or not any(a[2] == "ret" for a in summ.acquires):
            continue  # the get takes no reference we can see: not a get/put pair
        rename = f"{_short(gtype)}_get_{_short(ret)}"
        message = (
            f"{get}() takes a {gtype} but its pair {put}() takes a {ptype}: the get looks up "
            f"the {_short(ret)} from the {_short(gtype)} and takes a reference on it, so the "
            f"pair is not symmetric and a reader cannot match each {put}() to its {get}(). "
            f"Make {get}() take the {ptype} that {put}() takes (callers do the lookup), or "
            f"name the lookup for what it does (e.g. {rename}()) and keep {get}()/{put}() "
            "for the same object."
        )
        findings.append(Finding(
            rule=ASYMMETRIC.id,
            family=FAMILY_NAME,
            severity=options.severity_overrides.get(ASYMMETRIC.id, ASYMMETRIC.severity),
            file=facts.path,
            line=gfd.start_line + gpiece.line_base,
            function=get,
            message=message,
            anchor=f"{get}({gtype}) {put}({ptype})",
        ))
    return findings


class Refcount(RuleFamily):
    family = FAMILY_NAME
    rules = (ASYMMETRIC, LEAK, DOUBLE_PUT, PUT_WITHOUT_GET, UNCHECKED_GET, PUT_REMOVED)

    checker_class = RefcountChecker

    def check_file(self, facts: FileFacts, functions: list[str],
                   options: RunOptions) -> list[Finding]:
        if ASYMMETRIC.id in options.disabled or FAMILY_NAME in options.disabled:
            return []
        return asymmetric_pairs(facts, functions, options)


FAMILY = Refcount()

"""Family `thp-range`: a notifier invalidation must cover the whole (possibly huge) page.

Kernel reason
-------------
Secondary MMUs (KVM, GPU drivers, IOMMU SVA) map what the CPU maps, and a transparent huge page
is mapped there as one 2 MiB entry or as many 4 KiB ones.  When rmap code unmaps or write-protects
a page that may be compound, the notifier range must cover the whole compound page (`PAGE_SIZE <<
compound_order(page)`, `page_size()`, `folio_size()`, clamped to `vma->vm_end`; 6.x computes it
with vma_address_end()), otherwise the device keeps the rest of the huge mapping.  The old
`invalidate_page()` callback named a single address, "and a lot of the callback implementers
assumed this could never be THP and thus failed to invalidate the appropriate range"; it was
removed in 4.13 for that reason and because its locking context had changed under its users.
KSM pages are never compound, so KSM's one-page ranges are right; hugetlb code may widen a range
for shared PMDs (SEMANTICS.md 4.1, 4.2).

Anti-pattern::

    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm,
                            address, address + PAGE_SIZE);
    mmu_notifier_invalidate_range_start(&range);
    while (page_vma_mapped_walk(&pvmw)) { ... }   /* may be a PMD-mapped THP */

Best practice::

    end = min(vma->vm_end, address + (PAGE_SIZE << compound_order(page)));
    mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, address, end);
    mmu_notifier_invalidate_range_start(&range);
"""

from __future__ import annotations

import re

from reviewer.rules.callback_roles import kernel_words, removed_since, roles_of
from tree_sitter import Node

from reviewer.analysis.knowledge import parse_version
from reviewer.analysis.state import State
from reviewer.analysis.symbolic import call_args, callee_name, strip_parens
from reviewer.analysis.walker import CallSite, Walk
from reviewer.engine.rule import FamilyChecker, RuleFamily, RuleInfo

FAMILY_NAME = "thp-range"
_REASON = __doc__.split("Anti-pattern::")[0].split("Kernel reason\n-------------\n")[1].strip()
ASSERTS = r"(?:VM_BUG_ON\w*|BUG_ON|WARN_ON\w*|WARN_ONCE|VM_WARN_ON\w*)"
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
MIN_CALLS = frozenset({"min", "min_t", "min3", "umin"})

SINGLE_PAGE = RuleInfo(
    id="thp-range-single-page",
    family=FAMILY_NAME,
    severity="error",
    summary="a notifier range of one base page for a page that may be huge",
    reason=_REASON,
    bad="""if (PageTransHuge(page))
        nr = hpage_nr_pages(page);
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm,
                        address, address + PAGE_SIZE);""",
    good="""end = min(vma->vm_end, address + page_size(page));
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, address, end);""",
)
PMD_ROUNDED = RuleInfo(
    id="thp-range-pmd-rounded",
    family=FAMILY_NAME,
    severity="warning",
    summary="the range end is rounded to a PMD boundary instead of sized to the compound page",
    reason="Rounding the end up to the next PMD boundary covers the compound page only when "
    "it is PMD-aligned at `address`; a PTE-mapped THP (after mremap or a partial munmap) "
    "straddles the boundary, so part of it stays mapped in the secondary MMU, and for a base "
    "page the range is needlessly wide.  Size it from the page and clamp it to the vma.",
    bad="""end = ALIGN(address + 1, HPAGE_PMD_SIZE);
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, address, end);""",
    good="""end = min(vma->vm_end, address + page_size(page));
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, address, end);""",
)
MIXED_BASES = RuleInfo(
    id="thp-range-mixed-bases",
    family=FAMILY_NAME,
    severity="warning",
    summary="the range start and end are computed from different base addresses",
    reason="A range whose start is the faulting address and whose end is computed from the "
    "PMD-aligned address (or the other way round) covers neither the huge page nor the base "
    "page: part of the mapping is left in the secondary MMU, or the range is inverted.",
    bad="""haddr = address & HPAGE_PMD_MASK;
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm,
                        address, haddr + HPAGE_PMD_SIZE);""",
    good="""haddr = address & HPAGE_PMD_MASK;
mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm,
                        haddr, haddr + HPAGE_PMD_SIZE);""",
)
PAGE_GONE = RuleInfo(
    id="thp-range-invalidate-page-gone",
    family=FAMILY_NAME,
    severity="error",
    summary="mmu_notifier_invalidate_page() / .invalidate_page is used on a kernel that "
    "removed it",
    reason="invalidate_page named one address, so THP mappings were not invalidated, and "
    "its context changed from sleepable (3.10-4.10) to under the page-table lock (4.12); it "
    "was removed in 4.13.  Callers bracket the change with invalidate_range_start/_end over "
    "the whole page; drivers implement the range callbacks.",
    bad="""static const struct mmu_notifier_ops drv_ops = {
        .invalidate_page = drv_invalidate_page,
};""",
    good="""static const struct mmu_notifier_ops drv_ops = {
        .invalidate_range_start = drv_invalidate_range_start,
        .invalidate_range_end = drv_invalidate_range_end,
};""",
)
IGNORES_END = RuleInfo(
    id="thp-range-callback-ignores-end",
    family=FAMILY_NAME,
    severity="warning",
    summary="a range callback reads the start of its range but never its end",
    reason="A callback that only looks at the start treats every invalidation as one page: "
    "for a THP, a zapped vma or an OOM-reaped range the rest of the secondary mapping stays "
    "live and the device keeps reading freed memory.",
    bad="""static int drv_start(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
        drv_unmap_page(drv, range->start);
        return 0;
}""",
    good="""static int drv_start(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
        drv_unmap_range(drv, range->start, range->end);
        return 0;
}""",
)


class _FunctionView:
    """What the function as a whole says about the size of the pages it handles."""

    def __init__(self, walk: Walk) -> None:
        k = walk.knowledge.sections.get("thp", {})
        body = COMMENT.sub(" ", walk.text(walk.unit.body))
        self.body = body
        preds = [re.escape(p) for p in k.get("huge_predicates", [])]
        pred_re = r"\b(?:" + "|".join(preds) + r")\s*\(" if preds else r"(?!)"
        pvmw_re = r"!\s*pvmw(?:\.|->)pte\b|pvmw(?:\.|->)pte\s*==\s*NULL|pvmw(?:\.|->)nr_pages"
        asserted = re.findall(ASSERTS + r"\s*\(([^;]*)", body)
        bails = [m.group(1) for m in re.finditer(
            r"\bif\s*\((.*?)\)\s*(?:\{\s*)?(?:return|goto)\b", body) if "&&" not in m.group(1)]
        small = [p for p in k.get("small_asserts", [])]
        hugetlb = set(k.get("hugetlb_predicates", []))
        size_preds = [p for p in preds if p not in hugetlb]  # hugetlb or not says no size
        size_re = r"\b(?:" + "|".join(size_preds) + r")\s*\(" if size_preds else r"(?!)"
        self.asserts_small = any(
            # BUG_ON(PageTransCompound(page)) says "a base page"; BUG_ON(!pmd_mappable(..))
            # says the opposite, and BUG_ON(folio_test_hugetlb(..)) says nothing of the size.
            # Only an assertion that holds for the whole function counts, not one that holds
            # in the branch after a PMD mapping was dealt with.
            (re.search(size_re, a) and not re.search(r"!\s*" + size_re, a))
            or re.search(pvmw_re, a) for a in _top_level_assertions(walk)
        ) or any(
            re.search(r"(?<!!)\b(?:" + "|".join(preds) + r")\s*\(", b) for b in bails if preds
        ) or any(re.search(r"\b" + re.escape(s) + r"\s*\(", body) for s in small)
        clean = body
        for a in asserted:
            clean = clean.replace(a, " ")
        name = walk.unit.name
        rmap_one = any(
            re.search(r"\.rmap_one\s*=\s*" + re.escape(name) + r"\b", p.parsed.src.decode(
                "utf-8", "replace")) for p in walk.unit.facts.pieces)
        self.huge_evidence = (re.search(pred_re, clean) or re.search(pvmw_re, clean))
        self.may_be_huge = bool(self.huge_evidence) or rmap_one
        self.widens = _widens_every_page(walk, k)
        pmd_re = r"\b(?:" + "|".join(re.escape(c) for c in k.get("pmd_changes", [])) + r")\s*\("
        self.pmd_change = re.search(pmd_re, clean) if k.get("pmd_changes") else None
        if self.huge_evidence is None and self.pmd_change is not None:
            self.huge_evidence = self.pmd_change
        self.may_be_huge = self.may_be_huge or self.pmd_change is not None
        self.brackets = bool(re.search(
            r"\bmmu_notifier_(?:range_init\w*|invalidate_range_start\w*)\s*\(", body))
        self.size_helpers = list(k.get("size_helpers", []))
        self.pmd_rounding = list(k.get("pmd_rounding", []))

    def evidence(self) -> str:
        if self.pmd_change is not None and self.pmd_change is self.huge_evidence:
            return (f"it changes a whole PMD entry with "
                    f"`{self.pmd_change.group(0).rstrip('(').strip()}()`")
        if self.huge_evidence is not None:
            return f"`{self.huge_evidence.group(0).rstrip('(').strip()}`"
        return "its use as an rmap_one walker (it is called for any page, THP included)"


def _top_level_assertions(walk: Walk) -> list[str]:
    """The conditions of assertions that are statements of the function body itself (or the
    condition of an if there), so they hold for the rest of the whole function."""
    body = walk.unit.body
    out = []
    for cs in walk.call_sites():
        if not re.fullmatch(ASSERTS, cs.name) or not cs.args:
            continue
        n = cs.node
        while n.parent is not None and n.parent.type in (
                "parenthesized_expression", "expression_statement", "unary_expression",
                "condition_clause"):
            n = n.parent
        if n.parent is not None and n.parent.type == "if_statement":
            n = n.parent
        if n.parent == body:
            out.append(walk.text(cs.args[0]))
    return out


def _widens_every_page(walk: Walk, k: dict) -> bool:
    """A widening call (hugetlb's shared-PMD adjustment) excuses the function's ranges only
    when it is not confined to a hugetlb-only branch: under `if (folio_test_hugetlb(folio))`
    it widens nothing for a THP, which the same function also handles."""
    names = set(k.get("widening", []))
    if not names:
        return False
    only = set(k.get("hugetlb_predicates", []))
    for cs in walk.call_sites():
        if cs.name not in names:
            continue
        if not _under_condition(walk, cs.node, only):
            return True
    return False


def _under_condition(walk: Walk, node: Node, preds: set[str]) -> bool:
    """`node` sits in the then-branch of an if whose condition calls one of `preds`."""
    n = node
    while n.parent is not None and n.type != "function_definition":
        parent = n.parent
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == n:
            cond = parent.child_by_field_name("condition")
            text = walk.text(cond) if cond is not None else ""
            if any(re.search(r"(?<!!)\b" + re.escape(p) + r"\s*\(", text) for p in preds):
                return True
        n = parent
    return False


def _removed_size(walk: Walk, helpers: list[str], line: int) -> str | None:
    """A line the patch removes right at the invalidation call on `line` (its arguments, or the
    statement that set its end just before) that sized the range from the page (`address +
    HPAGE_PMD_SIZE`, `vma_address_end(&pvmw)`): the range was right before the patch."""
    if not helpers or not walk.removed:
        return None
    size = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in helpers) + r")\b")
    for r in walk.removed:
        if not line - 3 <= r.at <= line + 2:
            continue
        text = COMMENT.sub(" ", r.text)
        if size.search(text) and ("range" in text or "end" in text or "+" in text):
            return " ".join(text.split())
    return None


def _split_plus(value: str) -> tuple[str, str] | None:
    """`a&MASK+SIZE` -> (`a&MASK`, `SIZE`): split a canonical value at its last top-level +."""
    depth = 0
    for i in range(len(value) - 1, 0, -1):
        c = value[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
        elif c == "+" and depth == 0 and value[i - 1] not in "+-" and value[i + 1:i + 2] != "+":
            return value[:i], value[i + 1:]
    return None


def _show(value: str) -> str:
    """A canonical value as a reader would write it: `address&HPAGE_PMD_MASK` spaced out."""
    value = re.sub(r"@L\d+(?:c\d+)?", "", value)
    return re.sub(r"(?<=[\w)])([&|+<>-]{1,2})(?=[\w(~])", r" \1 ", value)


class ThpRangeChecker(FamilyChecker):
    family = FAMILY_NAME
    rules = {r.id: r for r in (SINGLE_PAGE, PMD_ROUNDED, MIXED_BASES, PAGE_GONE, IGNORES_END)}

    def begin(self, walk: Walk) -> None:
        self.view: _FunctionView | None = None
        self.entries: dict[str, dict] = {}
        v = self.options.version
        for e in walk.knowledge.section("invalidation"):
            since = parse_version(e.get("since"))
            removed = parse_version(e.get("removed"))
            if v is not None and since is not None and v < since and removed is None:
                continue
            for n in e.get("names", []):
                self.entries.setdefault(n, e)
        self._callback_checks(walk)

    def _view(self, walk: Walk) -> _FunctionView:
        if self.view is None:
            self.view = _FunctionView(walk)
        return self.view

    # -- callbacks ---------------------------------------------------------------------------
    def _callback_checks(self, walk: Walk) -> None:
        unit = walk.unit
        v = self.options.version
        for op in unit.facts.callbacks_of(unit.name):
            if op.field == "invalidate_page" and op.struct == "mmu_notifier_ops":
                gone = removed_since(walk.knowledge, op.struct, op.field)
                if gone is not None and (v is None or v >= gone):
                    self.report(
                        walk, PAGE_GONE.id, unit.node,
                        f"{unit.name}() is installed as .invalidate_page in {op.table} "
                        f"(line {op.line}), but that callback was removed in "
                        f"{gone[0]}.{gone[1]} ({kernel_words(v)}): it named one address, so "
                        "THP mappings were left in the secondary MMU, and its context moved "
                        "under the page-table lock in 4.12, breaking users that slept. "
                        "Implement .invalidate_range_start/.invalidate_range_end (or an "
                        "interval notifier) over the range instead.",
                        anchor=f"invalidate_page {unit.name}",
                    )
        for role in roles_of(unit.facts, unit.name, v):
            if role.range_kind not in ("struct", "args"):
                continue
            self._reads_end(walk, role.field, role.table, role.range_kind)
            return

    def _reads_end(self, walk: Walk, fld: str, table: str, kind: str) -> None:
        unit = walk.unit
        body = COMMENT.sub(" ", walk.text(unit.body))
        params = unit.param_names()
        if kind == "struct":
            rng = next((n for t, n in unit.params if "mmu_notifier_range" in t), None)
            if rng is None:
                return
            r = re.escape(rng)
            reads_start = re.search(r"\b" + r + r"\s*->\s*start\b", body)
            handed = re.sub(r"\bmmu_notifier_range_blockable\s*\(\s*" + r + r"\s*\)", " ", body)
            reads_end = re.search(r"\b" + r + r"\s*->\s*(?:end|last)\b", body) or re.search(
                r"[(,]\s*" + r + r"\s*[,)]", handed)
            start_name, end_name = f"{rng}->start", f"{rng}->end"
        else:
            if len(params) < 4:
                return
            start_name, end_name = params[2], params[3]
            reads_start = re.search(r"\b" + re.escape(start_name) + r"\b", body)
            reads_end = re.search(r"\b" + re.escape(end_name) + r"\b", body)
        if reads_start and not reads_end:
            self.report(
                walk, IGNORES_END.id, unit.node,
                f"{unit.name}() is the .{fld} callback of {table} but reads only "
                f"{start_name}, never {end_name}: it treats every invalidation as one page. "
                "Ranges span THPs, whole vmas on munmap and the OOM reaper's regions; "
                f"invalidate everything in [{start_name}, {end_name}).",
                anchor=f"ignores-end {unit.name}",
            )

    # -- invalidation calls ------------------------------------------------------------------
    def on_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        e = self.entries.get(call.name)
        if e is None:
            return None
        if "args" in e and len(call.args) != int(e["args"]):
            return None
        args = call.args
        n = len(args)
        si = int(e.get("start", 0))
        if not -n <= si < n:
            return None
        start = args[si]
        if "end" not in e:
            self._single_address(walk, st, call, e)
            return None
        ei = int(e["end"])
        if not -n <= ei < n:
            return None
        end = args[ei]
        view = self._view(walk)
        if view.widens:
            return None
        for end_part in self._end_candidates(walk, st, end):
            split = _split_plus(walk.canon(end_part, st))
            if split is None:
                continue
            if self._single_page(walk, st, call, e, start, split, view):
                return None
            if self._mixed(walk, st, call, start, split):
                return None
        self._pmd_rounded(walk, st, call, start, end, view)
        return None

    def _end_candidates(self, walk: Walk, st: State, end: Node) -> list[Node]:
        end = self._resolve(walk, st, end)
        if end.type == "call_expression" and callee_name(end, walk.text) in MIN_CALLS:
            return [self._resolve(walk, st, a) for a in call_args(end)
                    if a.type != "type_descriptor"]
        return [end]

    def _resolve(self, walk: Walk, st: State, node: Node) -> Node:
        """A variable set by a non-copy assignment (`end = min(...)`): its defining expression."""
        node = strip_parens(node)
        if node.type != "identifier":
            return node
        value = st.env_dict().get(walk.text(node), "")
        m = re.fullmatch(r"(\w+)@L(\d+)(?:c(\d+))?", value)
        if not m:
            return node
        line = int(m.group(2)) - 1
        col = int(m.group(3)) if m.group(3) else None
        stack = [walk.unit.body]
        while stack:
            n = stack.pop()
            if n.start_point[0] > line or n.end_point[0] < line:
                continue
            if col is not None and n.type == "call_expression" and \
                    n.start_point == (line, col):
                return n
            if col is None and n.type in ("assignment_expression", "init_declarator") and \
                    n.start_point[0] == line:
                left = n.child_by_field_name("left") or n.child_by_field_name("declarator")
                right = n.child_by_field_name("right") or n.child_by_field_name("value")
                if left is not None and right is not None and \
                        walk.text(left).strip() == m.group(1):
                    return strip_parens(right)
            stack.extend(n.named_children)
        return node

    def _single_page(self, walk: Walk, st: State, call: CallSite, e: dict, start: Node,
                     split: tuple[str, str], view: _FunctionView) -> bool:
        left, right = split
        if right != "PAGE_SIZE" or left != walk.canon(start, st):
            return False
        if e.get("tlb_only") and view.brackets:
            return True  # per-PTE TLB flush inside a start/end that covers the whole page
        shrunk_from = _removed_size(walk, view.size_helpers, walk.line(call.node))
        if view.asserts_small or not (view.may_be_huge or shrunk_from):
            return True
        s = walk.stmt_text(start)
        if shrunk_from is not None:
            why = (f"the patch shrinks it from what the removed `{shrunk_from}` computed"
                   + (f", and this function handles pages that may be huge ({view.evidence()})"
                      if view.may_be_huge else ""))
        else:
            why = f"this function handles pages that may be huge ({view.evidence()})"
        self.report(
            walk, SINGLE_PAGE.id, call.node,
            f"{call.name}() covers one base page ({s}, {s} + PAGE_SIZE), but {why}. "
            "For a THP the rest of the "
            "huge mapping stays live in the secondary MMUs. Size the range from the page: "
            f"min(vma->vm_end, {s} + (PAGE_SIZE << compound_order(page))) -- page_size(page) "
            "or folio_size(folio) on newer kernels, HPAGE_PMD_SIZE for a PMD mapping -- "
            "clamped to vma->vm_end.",
            st,
        )
        return True

    def _mixed(self, walk: Walk, st: State, call: CallSite, start: Node,
               split: tuple[str, str]) -> bool:
        cl, size = split
        if not re.search(r"SIZE|<<|size\(|nr_pages", size):
            return False
        cs = walk.canon(start, st)
        if cs == cl:
            return False
        mask = re.compile(r"&\s*~?\(?\s*(?:HPAGE_PMD_MASK|PMD_MASK|HPAGE_PUD_MASK|PUD_MASK|"
                          r"PAGE_MASK|huge_page_mask\(\w*\))")
        if not (mask.search(cs) or mask.search(cl)):
            return False  # different variables, but not a rounded/unrounded mix
        self.report(
            walk, MIXED_BASES.id, call.node,
            f"{call.name}() starts the range at {_show(cs)} but computes its end "
            f"from {_show(cl)}: the two are different bases (one rounded to the "
            "huge-page boundary, one not), so the range covers neither the huge page nor the "
            "base page. Compute start and end from the same aligned address.",
            st,
        )
        return True

    def _pmd_rounded(self, walk: Walk, st: State, call: CallSite, start: Node, end: Node,
                     view: _FunctionView) -> None:
        ce = walk.canon(self._resolve(walk, st, end), st)
        cs = walk.canon(self._resolve(walk, st, start), st)
        rounded_up = re.search(
            r"\b(?:ALIGN|round_up|PMD_ALIGN|HPAGE_ALIGN)\((.*),\s*(?:HPAGE_)?PMD_SIZE\)", ce
        ) or re.search(r"\+.*\)\s*&\s*(?:HPAGE_)?PMD_MASK", ce)
        if not rounded_up or re.search(r"(?:HPAGE_)?PMD_MASK", cs):
            return
        if any(h in ce for h in ("compound_order", "page_size", "folio_size")):
            return
        self.report(
            walk, PMD_ROUNDED.id, call.node,
            f"{call.name}() ends the range at {walk.stmt_text(end)}, the next PMD boundary, "
            f"while it starts at {walk.stmt_text(start)}. That covers a compound page only if "
            "it is PMD-aligned there; a PTE-mapped THP straddles the boundary. Size the end "
            f"from the page: min(vma->vm_end, {walk.stmt_text(start)} + page_size(page)) "
            "(PAGE_SIZE << compound_order(page) before 5.4, folio_size(folio) on folios).",
            st,
        )

    def _single_address(self, walk: Walk, st: State, call: CallSite, e: dict) -> None:
        v = self.options.version
        gone = parse_version(e.get("removed"))
        if gone is not None and (v is None or v >= gone):
            self.report(
                walk, PAGE_GONE.id, call.node,
                f"{call.name}() was removed in {gone[0]}.{gone[1]} ({kernel_words(v)}): it "
                "named a single address, so callback implementers assumed the page could "
                "never be a THP, and it ran under the page-table lock from 4.12. Bracket the "
                "change with mmu_notifier_invalidate_range_start()/_end() over the whole "
                "(possibly huge) page, plus mmu_notifier_invalidate_range() under the PTL.",
                st,
            )
            return
        view = self._view(walk)
        if view.may_be_huge and not view.asserts_small:
            self.report(
                walk, SINGLE_PAGE.id, call.node,
                f"{call.name}() names one address, but this function handles pages that may "
                f"be huge ({view.evidence()}); callbacks invalidate one base page and leave "
                "the rest of a THP mapped. Use mmu_notifier_invalidate_range_start()/_end() "
                "over min(vma->vm_end, address + (PAGE_SIZE << compound_order(page))).",
                st,
            )


class ThpRange(RuleFamily):
    family = FAMILY_NAME
    rules = (SINGLE_PAGE, PMD_ROUNDED, MIXED_BASES, PAGE_GONE, IGNORES_END)

    checker_class = ThpRangeChecker


FAMILY = ThpRange()

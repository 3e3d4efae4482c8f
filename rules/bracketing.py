"""Family `bracketing`: every mmu_notifier_invalidate_range_start*() is closed by its _end().

Kernel reason
-------------
`mmu_notifier_invalidate_range_start()` tells every secondary MMU (KVM, GPU drivers through HMM,
IOMMU SVA, RDMA ODP) that the range is about to change; `mmu_notifier_invalidate_range_end()`
tells them it is stable again.  Users count the open invalidations (KVM's
mmu_invalidate_in_progress, the interval tree's invalidate sequence) and refuse to establish new
mappings while one is open, so a start without its end on some path (an early return, a goto to
the wrong label) leaves the device faulting forever; an end without a start, or with a different
range, unbalances the count the other way.  `mmu_notifier_invalidate_range_start_nonblock()` may
fail, and then the core has already ended the range for the notifiers it called: the caller must
not call `_end()` (SEMANTICS.md 1.4, 1.5).

Anti-pattern::

    mmu_notifier_invalidate_range_start(&range);
    if (!pte)
        return -ENOMEM;          /* the range stays open */
    ...
    mmu_notifier_invalidate_range_end(&range);

Best practice::

    mmu_notifier_invalidate_range_start(&range);
    if (!pte) {
        ret = -ENOMEM;
        goto out;
    }
    ...
out:
    mmu_notifier_invalidate_range_end(&range);
    return ret;
"""

from __future__ import annotations

import re

from reviewer.analysis.state import Held, Pending, State
from reviewer.analysis.walker import CallSite, Walk
from reviewer.c.cfg import CfgNode
from reviewer.engine.rule import FamilyChecker, RuleFamily, RuleInfo

GROUP = "mmu_notifier_range"
BEGIN_NAME = re.compile(r"(start|begin|lock|prepare|enter|open)", re.I)
END_NAME = re.compile(r"(end|finish|done|unlock|stop|close|complete|release|teardown)", re.I)

UNBALANCED = RuleInfo(
    id="bracketing-unbalanced",
    family="bracketing",
    severity="error",
    summary="a notifier range started on a path is not ended before the function returns",
    reason=__doc__.split("Anti-pattern::")[0].split("Kernel reason\n-------------\n")[1].strip(),
    bad="""mmu_notifier_invalidate_range_start(&range);
if (!pte)
        return -ENOMEM;
mmu_notifier_invalidate_range_end(&range);""",
    good="""mmu_notifier_invalidate_range_start(&range);
if (!pte) {
        ret = -ENOMEM;
        goto out;
}
out:
mmu_notifier_invalidate_range_end(&range);""",
)
END_WITHOUT_START = RuleInfo(
    id="bracketing-end-without-start",
    family="bracketing",
    severity="error",
    summary="mmu_notifier_invalidate_range_end() on a path where no range was started",
    reason="An end with no start decrements the secondary MMUs' count of open invalidations "
    "below what was raised: KVM and the interval notifiers then let faults map pages that are "
    "still being changed, or warn about an unbalanced invalidate count.",
    bad="""if (is_cow)
        mmu_notifier_invalidate_range_start(&range);
copy_ptes();
mmu_notifier_invalidate_range_end(&range);""",
    good="""if (is_cow)
        mmu_notifier_invalidate_range_start(&range);
copy_ptes();
if (is_cow)
        mmu_notifier_invalidate_range_end(&range);""",
)
END_AFTER_FAILED_NONBLOCK = RuleInfo(
    id="bracketing-end-after-failed-nonblock",
    family="bracketing",
    severity="error",
    summary="_end() called after mmu_notifier_invalidate_range_start_nonblock() failed",
    reason="When mmu_notifier_invalidate_range_start_nonblock() returns an error the core has "
    "already called invalidate_range_end for the notifiers whose start succeeded; the caller "
    "must neither change the page tables of the range nor call _end() (the OOM reaper's idiom).",
    bad="""if (mmu_notifier_invalidate_range_start_nonblock(&range))
        ret = false;
unmap_page_range(&tlb, vma, start, end, NULL);
mmu_notifier_invalidate_range_end(&range);""",
    good="""if (mmu_notifier_invalidate_range_start_nonblock(&range)) {
        ret = false;
        continue;
}
unmap_page_range(&tlb, vma, start, end, NULL);
mmu_notifier_invalidate_range_end(&range);""",
)
RANGE_MISMATCH = RuleInfo(
    id="bracketing-range-mismatch",
    family="bracketing",
    severity="error",
    summary="_end() names a different range than the _start() it closes",
    reason="Notifier users match an end against the start by its range (the interval tree, "
    "KVM's invalidate range); an end with a different start or end address leaves part of the "
    "first range invalidated forever or ends a range nobody started. A loop that advances the "
    "start variable before the end uses it is the usual cause.",
    bad="""mmu_notifier_invalidate_range_start(mm, start, end);
for (; start < end; start += PAGE_SIZE)
        zap_one(mm, start);
mmu_notifier_invalidate_range_end(mm, start, end);""",
    good="""mmu_notifier_invalidate_range_start(mm, start, end);
for (addr = start; addr < end; addr += PAGE_SIZE)
        zap_one(mm, addr);
mmu_notifier_invalidate_range_end(mm, start, end);""",
)


def _describe_range(key: str) -> str:
    return key.replace("@", " as set at ").replace(",", ", ")


class BracketingChecker(FamilyChecker):
    family = "bracketing"
    rules = {r.id: r for r in (UNBALANCED, END_WITHOUT_START, END_AFTER_FAILED_NONBLOCK,
                               RANGE_MISMATCH)}

    def begin(self, walk: Walk) -> None:
        name = walk.unit.name
        self.is_callback = bool(walk.unit.facts.callbacks_of(name))
        self.begin_wrapper = bool(BEGIN_NAME.search(name))
        self.end_wrapper = bool(END_NAME.search(name)) or self.is_callback
        releases = {n for n, r in walk.knowledge.releases.items() if r.group == GROUP}
        self.has_release = any(cs.name in releases for cs in walk.call_sites())

    def on_pending_failed(self, walk: Walk, st: State, pending: Pending) -> State | None:
        if pending.held.group != GROUP:
            return None
        return st.add_tag(("bracketing", "nonblock-failed", pending.held.key, pending.held.line))

    def on_release_unheld(self, walk: Walk, st: State, call: CallSite, group: str, key: str,
                          double: bool) -> None:
        if group != GROUP:
            return
        for tag in st.tags_of("bracketing"):
            if tag[1] == "nonblock-failed" and tag[2] == key:
                self.report(
                    walk, END_AFTER_FAILED_NONBLOCK.id, call.node,
                    f"{call.name}() is reached after "
                    f"mmu_notifier_invalidate_range_start_nonblock() at line {tag[3]} failed. "
                    "On failure the core has already ended the range for the notifiers it "
                    "called, so this end is one too many; skip the range (and its page-table "
                    "changes) on that path instead.",
                    st,
                )
                return
        if double:
            self.report(
                walk, END_WITHOUT_START.id, call.node,
                f"{call.name}() ends a range that was already ended on this path; the second "
                "end unbalances every secondary MMU's count of open invalidations. Drop one "
                "of the two ends, or make the paths exclusive.",
                st,
            )
            return
        if GROUP not in walk.acquired_groups and self.end_wrapper:
            return  # an end helper or callback: its caller started the range
        if GROUP in walk.acquired_groups:
            why = ("no range was started on the path that reaches it, although the function "
                   "starts one on other paths")
            fix = ("Start and end the range under the same unchanged condition, or move the "
                   "end into the branch that started it.")
        else:
            why = "this function never starts a range"
            fix = ("If the start moved to a caller, say so in the name (a *_end helper); "
                   "otherwise add the matching mmu_notifier_invalidate_range_start().")
        self.report(
            walk, END_WITHOUT_START.id, call.node,
            f"{call.name}() is called but {why}. An end with no start lets secondary MMUs "
            f"believe an invalidation finished that never began. {fix}",
            st,
        )

    def on_release_mismatch(self, walk: Walk, st: State, call: CallSite, held: Held,
                            key: str) -> None:
        started = held.key.split(",")
        ended = key.split(",")
        changed = [a for a, b in zip(started, ended, strict=False) if a != b]
        detail = ""
        for c in changed:
            if "@L" in key:
                var = c.split("@")[0]
                sites = [e for e in ended if e.startswith(var + "@L")]
                if sites:
                    line = sites[0].split("@L")[1].split("c")[0]
                    detail = (f" `{var}` is changed at line "
                              f"{int(line) + walk.unit.line_base} between the two calls.")
                    break
        self.report(
            walk, RANGE_MISMATCH.id, call.node,
            f"{call.name}() does not close the range started at line {held.line}: the start "
            f"covered ({_pretty(held.key)}) but this end names ({_pretty(key)}).{detail} "
            "Secondary MMUs match an end to its start by range; keep the range in variables "
            "(or a struct mmu_notifier_range) that nothing changes in between.",
            st,
        )

    def on_exit(self, walk: Walk, st: State, node: CfgNode, returned: str | None) -> None:
        open_ranges = [h for h in st.held_in(GROUP) if h.scope < 0]
        if not open_ranges:
            return
        if (self.begin_wrapper or self.is_callback) and not self.has_release:
            return  # a start helper or a paired callback: the range is ended elsewhere
        for h in open_ranges:
            where = "the return" if node.kind == "return" else "the end of the function"
            self.report(
                walk, UNBALANCED.id, node.ast if node.ast is not None else walk.line(node),
                f"{h.call}() at line {h.line} is not matched by "
                f"mmu_notifier_invalidate_range_end() on this path: {where} at line "
                f"{walk.line(node)} leaves the range open, so secondary MMUs (KVM, HMM mirrors) "
                "keep treating it as under invalidation and never map it again. End the range "
                "before returning, or jump to the label that does.",
                st,
                anchor=f"{h.call} {walk.stmt_text(node.ast) if node.ast is not None else 'end'}",
            )


def _pretty(key: str) -> str:
    out = []
    for part in key.split(","):
        if "@L" in part:
            part = part.split("@L")[0] + "'"
        out.append(part)
    return ", ".join(out)


class Bracketing(RuleFamily):
    family = "bracketing"
    rules = (UNBALANCED, END_WITHOUT_START, END_AFTER_FAILED_NONBLOCK, RANGE_MISMATCH)

    checker_class = BracketingChecker


FAMILY = Bracketing()

"""Family `atomic-sleep`: nothing sleeps under a spinlock, the PTL, or in an atomic callback.

Kernel reason
-------------
A spinlock (and every page-table lock: `pte_offset_map_lock()`, `pmd_lock()`, a successful
`pmd_trans_huge_lock()`, the body of a `page_vma_mapped_walk()` loop), an RCU read-side
section, disabled preemption or interrupts make the context atomic: sleeping there is a
"scheduling while atomic" bug or a deadlock.  Several mmu_notifier callbacks are called in such
a context: `.invalidate_range` and `.arch_invalidate_secondary_tlbs` under the PTL right after the
entry is cleared, `.change_pte` from set_pte_at_notify(), the young callbacks inside the rmap
walk, `.free_notifier` from an SRCU callback, and `.invalidate_page` once the 4.12
page_vma_mapped_walk() conversion moved it under the PTL -- which broke users that slept and led
to its removal in 4.13.  `.invalidate_range_start`/`_end` and the interval `.invalidate` may sleep
only when the range is blockable: the OOM reaper starts non-blocking ranges, and from 5.4 the
core wraps those callbacks in non_block_start().  `mmu_notifier_invalidate_range_start()` itself
must not be called in atomic context, since its callbacks may sleep -- the old truncate path that
zapped under the `i_mmap_lock` spinlock is the classic case (SEMANTICS.md 1.2, 1.4, 2, 7b, 7c).

Anti-pattern::

    static int drv_invalidate_start(struct mmu_notifier *mn,
                                    const struct mmu_notifier_range *range)
    {
            mutex_lock(&drv->lock);          /* the OOM reaper cannot wait here */
            drv_unmap(drv, range->start, range->end);
            mutex_unlock(&drv->lock);
            return 0;
    }

Best practice::

    static int drv_invalidate_start(struct mmu_notifier *mn,
                                    const struct mmu_notifier_range *range)
    {
            if (!mmu_notifier_range_blockable(range))
                    return -EAGAIN;
            mutex_lock(&drv->lock);
            drv_unmap(drv, range->start, range->end);
            mutex_unlock(&drv->lock);
            return 0;
    }
"""

from __future__ import annotations

from reviewer.rules.callback_roles import Role, kernel_words, roles_of
from reviewer.rules.sleep_table import (
    NOTIFIER_START,
    Sleep,
    blockable_alias_names,
    blockable_on_branch,
    blockable_tag,
    call_sleeps,
    with_blockable,
)

from reviewer.analysis.state import Held, State
from reviewer.analysis.walker import CallSite, Walk
from reviewer.engine.rule import FamilyChecker, RuleFamily, RuleInfo

FAMILY_NAME = "atomic-sleep"
_REASON = __doc__.split("Anti-pattern::")[0].split("Kernel reason\n-------------\n")[1].strip()
IGNORED_GROUPS = frozenset({"pagefault"})  # pagefault_disable() does not forbid sleeping
FAULTS_OFF = frozenset({"kmap_atomic", "kmap_local_page_atomic", "pagefault_disable"})

UNDER_LOCK = RuleInfo(
    id="atomic-sleep-under-lock",
    family=FAMILY_NAME,
    severity="error",
    summary="a call that may sleep is made while a spinlock, the page-table lock, RCU, "
    "or disabled preemption/interrupts make the context atomic",
    reason=_REASON,
    bad="""pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
buf = kmalloc(sizeof(*buf), GFP_KERNEL);
pte_unmap_unlock(pte, ptl);""",
    good="""buf = kmalloc(sizeof(*buf), GFP_KERNEL);
pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
pte_unmap_unlock(pte, ptl);""",
)
NOTIFIER_UNDER_LOCK = RuleInfo(
    id="atomic-sleep-notifier-under-lock",
    family=FAMILY_NAME,
    severity="error",
    summary="mmu_notifier_invalidate_range_start() (or a zap/unmap helper that calls it) "
    "is reached in atomic context",
    reason="The callbacks of mmu_notifier_invalidate_range_start() may sleep (GPU drivers "
    "wait for fences, RDMA takes mutexes) and since 5.4 the function calls might_sleep() "
    "itself, even when no notifier is registered.  Zapping under a spinlock such as the old "
    "i_mmap_lock reached it from truncate, which is why sleeping notifiers had to wait for the "
    "rmap locks to become sleeping locks.",
    bad="""spin_lock(&mapping->i_mmap_lock);
zap_page_range(vma, start, size, NULL);
spin_unlock(&mapping->i_mmap_lock);""",
    good="""i_mmap_lock_write(mapping);
zap_page_range(vma, start, size, NULL);
i_mmap_unlock_write(mapping);""",
)
ATOMIC_CALLBACK = RuleInfo(
    id="atomic-sleep-in-atomic-callback",
    family=FAMILY_NAME,
    severity="error",
    summary="a notifier callback that runs in atomic context may sleep",
    reason=_REASON,
    bad="""static void drv_invalidate_range(struct mmu_notifier *mn, struct mm_struct *mm,
                                 unsigned long start, unsigned long end)
{
        mutex_lock(&drv->tlb_lock);
        drv_flush_tlb(drv, start, end);
        mutex_unlock(&drv->tlb_lock);
}""",
    good="""static void drv_invalidate_range(struct mmu_notifier *mn, struct mm_struct *mm,
                                 unsigned long start, unsigned long end)
{
        spin_lock(&drv->tlb_lock);
        drv_flush_tlb(drv, start, end);
        spin_unlock(&drv->tlb_lock);
}""",
)
UNCHECKED_BLOCKABLE = RuleInfo(
    id="atomic-sleep-unchecked-blockable",
    family=FAMILY_NAME,
    severity="error",
    summary="an invalidate_range_start/_end or interval .invalidate callback sleeps without "
    "checking that the range is blockable",
    reason=_REASON,
    bad="""static bool drv_invalidate(struct mmu_interval_notifier *mni,
                           const struct mmu_notifier_range *range, unsigned long seq)
{
        mutex_lock(&drv->lock);
        ...
}""",
    good="""static bool drv_invalidate(struct mmu_interval_notifier *mni,
                           const struct mmu_notifier_range *range, unsigned long seq)
{
        if (mmu_notifier_range_blockable(range))
                mutex_lock(&drv->lock);
        else if (!mutex_trylock(&drv->lock))
                return false;
        ...
}""",
)

_GROUP_WORDS = {
    "spinlock": "the spinlock",
    "rcu": "the RCU read-side section",
    "preempt": "disabled preemption",
    "irq": "disabled interrupts",
}


def describe_held(h: Held) -> str:
    words = _GROUP_WORDS.get(h.group, f"the {h.group} section")
    if h.group == "spinlock":
        if h.call in ("pte_offset_map_lock", "pte_alloc_map_lock", "pmd_lock", "pud_lock",
                      "huge_pte_lock", "pmd_trans_huge_lock", "pud_trans_huge_lock",
                      "page_check_address"):
            words = "the page-table lock"
        key = h.key.split("@")[0]
        if key and "@" not in h.key:
            words += f" `{key}`"
    if h.group == "pvmw":
        return f"the page-table lock that page_vma_mapped_walk() at line {h.line} returned holding"
    how = "guard()" if h.call in ("guard", "scoped_guard") else f"{h.call}()"
    return f"{words} taken by {how} at line {h.line}"


def _what(walk: Walk, call: CallSite, s: Sleep) -> str:
    if s.chain:
        return f"{call.name}() may sleep: {s.shown(walk.unit.name)} (line {s.line}: {s.why})"
    return f"{call.name}() may sleep ({s.why})"


class AtomicSleepChecker(FamilyChecker):
    family = FAMILY_NAME
    rules = {r.id: r for r in (UNDER_LOCK, NOTIFIER_UNDER_LOCK, ATOMIC_CALLBACK,
                               UNCHECKED_BLOCKABLE)}

    def begin(self, walk: Walk) -> None:
        self.roles: list[Role] = [
            r for r in roles_of(walk.unit.facts, walk.unit.name, self.options.version)
            if r.context in ("atomic", "sleep-if-blockable")
        ]
        self.aliases = blockable_alias_names(walk) if self.roles else set()
        self.sleeps: dict[int, Sleep | None] = {}  # per call site: the answer needs no state
        self.atomic_role = next((r for r in self.roles if r.context == "atomic"), None)
        self.blockable_role = next((r for r in self.roles if r.context == "sleep-if-blockable"),
                                   None)

    def on_branch(self, walk: Walk, st: State, node, label: object) -> State | None:
        if not self.roles or label not in (True, False) or node.ast is None:
            return None
        if node.kind != "cond" or node.cond_is_opaque:
            return None
        b = blockable_on_branch(walk, node.ast, bool(label), self.aliases)
        return with_blockable(st, b) if b is not None else None

    def on_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        summ = walk.summaries(call.name)
        if summ is not None:
            for group, _key in summ.releases:
                if group in walk.knowledge.atomic_groups:
                    st = st.add_tag((FAMILY_NAME, "wrapper-release", group))
        if not st.held and not st.pending and not self.roles:
            return st if summ is not None else None  # nothing held, no callback context
        released = {t[2] for t in st.tags_of(FAMILY_NAME) if t[1] == "wrapper-release"}
        held = [h for h in st.atomic_held() if h.group not in IGNORED_GROUPS
                and not (h.group in released and walk.unit.facts.has(h.call))]
        # an atomic acquisition whose result was never tested (an old-style
        # `pte = pte_offset_map_lock(...)` with no NULL check) is taken as held
        held += sorted((p.held for p in st.pending if p.held.atomic and p.success == "ret_nonnull"
                        and p.held.group not in IGNORED_GROUPS), key=lambda h: h.line)
        atomic_role, blockable_role = self.atomic_role, self.blockable_role
        if blockable_role is not None and blockable_tag(st) is True:
            blockable_role = None
        if not held and atomic_role is None and blockable_role is None:
            return st if summ is not None else None
        key = call.node.id
        if key not in self.sleeps:
            self.sleeps[key] = call_sleeps(walk, call)
        s = self.sleeps[key]
        if s is None:
            return st if summ is not None else None
        if s.faults and any(h.group == "pagefault" or h.call in FAULTS_OFF
                            for h in st.atomic_held()):
            return st  # page faults are disabled: the user access fails instead of sleeping
        if held:
            self._under_lock(walk, st, call, s, held[-1])
        elif atomic_role is not None:
            self._atomic_callback(walk, st, call, s, atomic_role)
        elif blockable_role is not None:
            self._unchecked(walk, st, call, s, blockable_role)
        return st

    def _under_lock(self, walk: Walk, st: State, call: CallSite, s: Sleep, h: Held) -> None:
        where = describe_held(h)
        if s.notifier:
            if call.name == NOTIFIER_START:
                msg = (f"{NOTIFIER_START}() is called with {where} still held. Its callbacks "
                       "may sleep (drivers take mutexes and wait for fences), and since 5.4 it "
                       "calls might_sleep() itself. Start the range before taking the lock, or "
                       f"use {s.alternative}.")
            else:
                chain = f" ({s.shown(call.name)}, line {s.line})" if s.chain else ""
                msg = (f"{call.name}(){chain} reaches {NOTIFIER_START}() while {where} is "
                       "still held; the notifier callbacks may sleep. Drop the lock first (or "
                       "use a sleeping lock, as the rmap locks became for this reason).")
            self.report(walk, NOTIFIER_UNDER_LOCK.id, call.node, msg, st)
            return
        alt = s.alternative
        fix = (f"Use {alt}, or move the call out of the section."
               if not alt.startswith("none") else
               f"There is no atomic variant ({alt[6:] if alt.startswith('none:') else alt}).")
        self.report(
            walk, UNDER_LOCK.id, call.node,
            f"{_what(walk, call, s)}, but {where} is still held here: sleeping in atomic "
            f"context is a 'scheduling while atomic' bug or a deadlock. {fix}",
            st,
        )

    def _atomic_callback(self, walk: Walk, st: State, call: CallSite, s: Sleep,
                         role: Role) -> None:
        self.report(
            walk, ATOMIC_CALLBACK.id, call.node,
            f"{walk.unit.name}() is the .{role.field} callback of {role.table} "
            f"(line {role.line}), and {role.why}, so it must not sleep "
            f"({kernel_words(self.options.version)}). {_what(walk, call, s)}. Use {s.alternative}, "
            "or move the sleeping work to invalidate_range_start (blockable ranges only) or "
            "to a work item.",
            st,
        )

    def _unchecked(self, walk: Walk, st: State, call: CallSite, s: Sleep, role: Role) -> None:
        fail = "false" if role.struct == "mmu_interval_notifier_ops" else "-EAGAIN"
        test = ("`blockable`" if role.range_kind == "args" else
                "mmu_notifier_range_blockable(range)")
        self.report(
            walk, UNCHECKED_BLOCKABLE.id, call.node,
            f"{walk.unit.name}() is the .{role.field} callback of {role.table} "
            f"(line {role.line}); {role.why} ({kernel_words(self.options.version)}). "
            f"{_what(walk, call, s)} on a path where {test} was not checked. Test it first and "
            f"return {fail} when the range is not blockable, or use {s.alternative}.",
            st,
        )


class AtomicSleep(RuleFamily):
    family = FAMILY_NAME
    rules = (UNDER_LOCK, NOTIFIER_UNDER_LOCK, ATOMIC_CALLBACK, UNCHECKED_BLOCKABLE)

    checker_class = AtomicSleepChecker


FAMILY = AtomicSleep()

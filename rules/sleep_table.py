"""What may sleep: the `sleep.toml` table, gfp masks read from the call, and same-file helpers.

Flow position: judgement (used by the family `atomic-sleep`).  A call sleeps when the table
lists it (`[[sleeping]]`), when it is an allocator whose gfp argument allows direct reclaim
(`[[gfp_alloc]]`, `[gfp_flags]`), when it reaches mmu_notifier_invalidate_range_start()
(`[[reaches_range_start]]`), or when it is a static function of the same file that may sleep on
some path.  That last answer is a per-file summary: the helper is walked once with a probe that
records the first sleeping call it can reach (following further helpers), giving the chain
`helper() -> inner() -> mutex_lock()`.  Summaries are cached per FileFacts object.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from reviewer.analysis.knowledge import Knowledge, parse_version
from reviewer.analysis.state import State, replace
from reviewer.analysis.symbolic import strip_parens
from reviewer.analysis.walker import CallSite, Checker, Walk
from reviewer.c.facts import FileFacts

NOTIFIER_START = "mmu_notifier_invalidate_range_start"
MAX_CHAIN = 4


@dataclass(frozen=True)
class Sleep:
    """Why a call may sleep."""

    call: str  # the primitive that sleeps
    why: str
    alternative: str
    notifier: bool = False  # starts (or reaches) a notifier range: callbacks may sleep
    chain: tuple[str, ...] = ()  # same-file helpers leading to `call`, outermost first
    line: int = 0  # line of the primitive, when reached through helpers
    requires: tuple[tuple[int, bool], ...] = ()  # (parameter index, truth) the path tested
    faults: bool = False  # a user access: it fails instead of sleeping with faults disabled

    def shown(self, outer: str) -> str:
        names = (outer, *self.chain, self.call) if self.chain else (outer,)
        return " -> ".join(f"{n}()" for n in names)


@dataclass
class SleepTable:
    sleeping: dict[str, dict]
    gfp: dict[str, int]
    blocking: set[str]
    nonblocking: set[str]
    cleared: set[str]
    reaches: set[str]


def _applies(entry: dict, version: tuple[int, int] | None) -> bool:
    since = parse_version(entry.get("since"))
    until = parse_version(entry.get("until"))
    if version is None:
        return True
    return (since is None or version >= since) and (until is None or version <= until)


_TABLES: dict[int, SleepTable] = {}


def table(knowledge: Knowledge) -> SleepTable:
    key = id(knowledge)
    cached = _TABLES.get(key)
    if cached is not None:
        return cached
    v = knowledge.version
    sleeping: dict[str, dict] = {}
    for e in knowledge.section("sleeping"):
        if _applies(e, v):
            for n in e.get("names", []):
                sleeping[n] = e
    gfp: dict[str, int] = {}
    for e in knowledge.section("gfp_alloc"):
        if _applies(e, v):
            for n in e.get("names", []):
                gfp[n] = int(e.get("gfp_arg", 0))
    flags = knowledge.sections.get("gfp_flags", {})
    reaches = {n for e in knowledge.section("reaches_range_start") if _applies(e, v)
               for n in e.get("names", [])}
    t = SleepTable(sleeping, gfp, set(flags.get("blocking", [])),
                   set(flags.get("nonblocking", [])), set(flags.get("cleared", [])), reaches)
    _TABLES[key] = t
    weakref.finalize(knowledge, _TABLES.pop, key, None)
    return t


def gfp_blocks(mask: str, t: SleepTable) -> bool | None:
    """True when the gfp mask allows direct reclaim, False when it does not, None if unknown."""
    words = set(re.findall(r"[A-Za-z_]\w*", mask))
    for c in t.cleared:
        if re.search(r"~\s*\(?\s*" + re.escape(c), mask):
            return False
    if words & t.nonblocking:
        return False
    if words & t.blocking:
        return True
    return None


def direct_sleep(walk: Walk, call: CallSite) -> Sleep | None:
    """Does this call sleep by itself (table, allocator mask, notifier start)?"""
    t = table(walk.knowledge)
    name = call.name
    e = t.sleeping.get(name)
    if e is not None:
        return Sleep(name, e.get("why", "it may sleep"), e.get("alternative", "none"),
                     bool(e.get("notifier", False)), faults=bool(e.get("faults", False)))
    idx = t.gfp.get(name)
    if idx is not None and idx < len(call.args):
        mask = walk.text(strip_parens(call.args[idx]))
        if gfp_blocks(mask, t):
            flag = " ".join(mask.split())
            return Sleep(name, f"with {flag} it may enter direct reclaim",
                         f"the same call with GFP_ATOMIC or GFP_NOWAIT instead of {flag}")
    if name in t.reaches:
        return Sleep(name, f"it calls {NOTIFIER_START}(), whose callbacks may sleep",
                     "defer the unmap until the lock is dropped", notifier=True)
    return None


# -- per-file "may sleep" summaries of the file's own static functions ------------------------

_SUMMARIES: dict[int, dict[str, list[Sleep]]] = {}
_BUSY: set[tuple[int, str]] = set()


def _cache(facts: FileFacts) -> dict[str, list[Sleep]]:
    key = id(facts)
    c = _SUMMARIES.get(key)
    if c is None:
        c = _SUMMARIES[key] = {}
        weakref.finalize(facts, _SUMMARIES.pop, key, None)
    return c


def call_sleeps(walk: Walk, call: CallSite) -> Sleep | None:
    """Direct sleep, or a same-file static helper that may sleep (with the chain)."""
    s = direct_sleep(walk, call)
    if s is not None:
        return s
    sites = helper_sleeps(walk.unit.facts, call.name, walk.knowledge)
    return _compatible(walk, call, sites)


def _compatible(walk: Walk, call: CallSite, sites: list[Sleep]) -> Sleep | None:
    """The first sleeping site of a helper that this call's constant arguments allow:
    `helper(pool, false)` does not reach a sleep guarded by `if (can_sleep)`."""
    for site in sites:
        ok = True
        for idx, truth in site.requires:
            if idx >= len(call.args):
                continue
            arg = walk.text(call.args[idx]).strip()
            if (arg in ("false", "0", "NULL") and truth) or (arg in ("true", "1") and not truth):
                ok = False
        if ok:
            return site
    return None


def helper_sleeps(facts: FileFacts, name: str, knowledge: Knowledge,
                  depth: int = 0) -> list[Sleep]:
    """Where a static function of the file may sleep (empty if nowhere, or if it drops a lock
    its caller holds: such lock-juggling helpers are judged in their own walk)."""
    entry = facts.defs.get(name)
    if entry is None or not entry[0].is_static or depth >= MAX_CHAIN:
        return []
    cache = _cache(facts)
    if name in cache:
        return cache[name]
    busy = (id(facts), name)
    if busy in _BUSY:
        return []
    unit = facts.unit(name)
    if unit is None:
        return []
    _BUSY.add(busy)
    try:
        probe = _Probe(depth)
        Walk(unit, knowledge, [probe], summaries=facts.summary).run()
        found = [] if probe.juggles else probe.found
    finally:
        _BUSY.discard(busy)
    cache[name] = found
    return found


def blockable_alias_names(walk: Walk) -> set[str]:
    """Variables that hold mmu_notifier_range_blockable(range), and the 4.19 `blockable` arg."""
    names = {"blockable"}
    body = walk.text(walk.unit.body)
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*=\s*mmu_notifier_range_blockable\s*\(", body):
        names.add(m.group(1))
    return names


def blockable_on_branch(walk: Walk, cond, label: bool, aliases: set[str]) -> bool | None:
    """On the branch `label` of condition `cond`, is the notifier range known (non)blockable?"""
    node = strip_parens(cond)
    t = node.type
    if t == "unary_expression" and walk.text(node).lstrip().startswith("!"):
        arg = node.child_by_field_name("argument")
        return blockable_on_branch(walk, arg, not label, aliases) if arg is not None else None
    if t == "binary_expression":
        op = node.child_by_field_name("operator")
        optext = walk.text(op) if op is not None else ""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return None
        if (optext == "&&" and label) or (optext == "||" and not label):
            a = blockable_on_branch(walk, left, label, aliases)
            return a if a is not None else blockable_on_branch(walk, right, label, aliases)
        if optext == "&" and "MMU_NOTIFIER_RANGE_BLOCKABLE" in walk.text(node):
            return label
        if optext in ("==", "!=") and walk.text(right).strip() in ("0", "false"):
            inner = blockable_on_branch(walk, left, label, aliases)
            return inner if inner is None or optext == "!=" else not inner
        return None
    if t == "call_expression":
        fn = node.child_by_field_name("function")
        name = walk.text(fn).strip() if fn is not None else ""
        if name == "mmu_notifier_range_blockable":
            return label
        if name in ("likely", "unlikely", "WARN_ON", "WARN_ON_ONCE"):
            args = node.child_by_field_name("arguments")
            inner = args.named_children[0] if args is not None and args.named_children else None
            return blockable_on_branch(walk, inner, label, aliases) if inner else None
        return None
    if t == "field_expression":
        fld = node.child_by_field_name("field")
        if fld is not None and walk.text(fld) == "blockable":
            return label
        return None
    if t == "identifier" and walk.text(node) in aliases:
        return label
    return None


TAG = "atomic-sleep"


def blockable_tag(st: State) -> bool | None:
    for tag in st.tags_of(TAG):
        if tag[1] == "blockable":
            return bool(tag[2])
    return None


def with_blockable(st: State, value: bool) -> State:
    tags = frozenset(t for t in st.tags if not (t and t[0] == TAG and t[1] == "blockable"))
    return replace(st, tags=tags | {(TAG, "blockable", value)})


class _Probe(Checker):
    """Finds the calls a helper can reach that sleep, outside what it knows is blockable, and
    notes whether it drops a lock its caller holds."""

    family = "atomic-sleep-probe"

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.found: list[Sleep] = []
        self.juggles = False

    def begin(self, walk: Walk) -> None:
        self.aliases = blockable_alias_names(walk)
        self.params = walk.unit.param_names()

    def on_branch(self, walk: Walk, st: State, node, label: object) -> State | None:
        if label in (True, False) and node.kind == "cond" and node.ast is not None:
            b = blockable_on_branch(walk, node.ast, bool(label), self.aliases)
            if b is not None:
                return with_blockable(st, b)
        return None

    def _drops_caller_lock(self, walk: Walk, st: State, call: CallSite) -> bool:
        k = walk.knowledge
        rel = k.releases.get(call.name)
        if rel is not None:
            return rel.group in k.atomic_groups and \
                st.find_held(rel.group, walk._key(rel.key, call, st)) is None
        summ = walk.summaries(call.name)
        return summ is not None and any(g in k.atomic_groups for g, _ in summ.releases)

    def on_call(self, walk: Walk, st: State, call: CallSite) -> State | None:
        if self._drops_caller_lock(walk, st, call):
            self.juggles = True
            return None
        if len(self.found) >= 4 or blockable_tag(st) is True:
            return None
        requires = tuple(sorted((self.params.index(c), v) for c, v in st.facts
                                if c in self.params))
        s = direct_sleep(walk, call)
        if s is not None:
            self.found.append(Sleep(s.call, s.why, s.alternative, s.notifier, (walk.unit.name,),
                                    call.line + walk.unit.line_base, requires))
            return None
        inner = _compatible(walk, call, helper_sleeps(walk.unit.facts, call.name,
                                                      walk.knowledge, self.depth + 1))
        if inner is not None:
            self.found.append(Sleep(inner.call, inner.why, inner.alternative, inner.notifier,
                                    (walk.unit.name, *inner.chain), inner.line, requires))
        return None

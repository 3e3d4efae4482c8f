"""The abstract state carried along one path of a function.

Flow position: understanding (path walker).  A state holds: the symbolic environment (variable ->
value), branch facts already taken (so `if (cow)` twice is one consistent path), resources held
(locks, references, open notifier ranges) keyed by symbolic value, acquisitions still pending on a
return value (`ret = ..._nonblock(); if (ret) ...`), resources released on the path (double put),
free-form tags rule families add, and loop iteration counts.  The path itself (the lines that
matter) travels with the state but is not part of its identity, so equal states met by different
paths are explored once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Held:
    group: str
    kind: str
    key: str
    line: int
    call: str  # the acquiring function, for messages
    scope: int = -1  # guard(): byte offset of the enclosing block, released at its end
    atomic: bool = False


@dataclass(frozen=True)
class Pending:
    symbol: str  # the value whose test decides success
    held: Held
    success: str


@dataclass(frozen=True)
class Step:
    line: int
    note: str


@dataclass(frozen=True)
class State:
    env: tuple[tuple[str, str], ...] = ()
    facts: frozenset[tuple[str, bool]] = frozenset()
    held: frozenset[Held] = frozenset()
    pending: frozenset[Pending] = frozenset()
    released: frozenset[tuple[str, str, int]] = frozenset()  # (group, key, line)
    tags: frozenset[tuple] = frozenset()
    loops: tuple[tuple[int, int], ...] = ()
    path: tuple[Step, ...] = field(default=(), compare=False, hash=False)

    def __hash__(self) -> int:
        """Cached: the walker hashes every state it meets against every state seen there."""
        h = self.__dict__.get("_h")
        if h is None:
            h = hash((self.env, self.facts, self.held, self.pending, self.released, self.tags,
                      self.loops))
            _set(self, "_h", h)
        return h

    # -- environment -------------------------------------------------------------------------
    def env_dict(self) -> dict[str, str]:
        """A fresh, mutable copy of the environment."""
        return dict(self.env)

    def env_map(self) -> dict[str, str]:
        """The environment as a mapping to read (cached; do not modify it)."""
        m = self.__dict__.get("_e")
        if m is None:
            m = dict(self.env)
            _set(self, "_e", m)
        return m

    def with_env(self, env: dict[str, str]) -> State:
        return replace(self, env=tuple(sorted(env.items())))

    # -- facts ---------------------------------------------------------------------------------
    def fact(self, cond: str) -> bool | None:
        if (cond, True) in self.facts:
            return True
        if (cond, False) in self.facts:
            return False
        return None

    def with_facts(self, facts: list[tuple[str, bool]]) -> State:
        return replace(self, facts=self.facts | frozenset(facts))

    # -- resources -----------------------------------------------------------------------------
    def add_held(self, h: Held) -> State:
        return replace(self, held=self.held | {h})

    def drop_held(self, h: Held) -> State:
        return replace(self, held=self.held - {h})

    def find_held(self, group: str, key: str) -> Held | None:
        for h in self.held:
            if h.group == group and h.key == key:
                return h
        return None

    def held_in(self, group: str) -> list[Held]:
        return [h for h in self.held if h.group == group]

    def atomic_held(self) -> list[Held]:
        return sorted((h for h in self.held if h.atomic), key=lambda h: h.line)

    def add_tag(self, tag: tuple) -> State:
        return replace(self, tags=self.tags | {tag})

    def has_tag(self, tag: tuple) -> bool:
        return tag in self.tags

    def tags_of(self, family: str) -> list[tuple]:
        return [t for t in self.tags if t and t[0] == family]

    # -- path ----------------------------------------------------------------------------------
    def step(self, line: int, note: str, limit: int = 40) -> State:
        path = self.path + (Step(line, note),)
        if len(path) > limit:
            path = path[:8] + path[-(limit - 8) :]
        return replace(self, path=path)

    def loop_count(self, head: int) -> int:
        for h, n in self.loops:
            if h == head:
                return n
        return 0

    def with_loop(self, head: int, n: int) -> State:
        loops = tuple((h, c) for h, c in self.loops if h != head) + ((head, n),)
        return replace(self, loops=tuple(sorted(loops)))

    def widened(self, keep: set[str]) -> State:
        """Forget what does not matter to resources, to stop state growth at a busy node."""
        keys = [h.key for h in self.held] + [p.symbol for p in self.pending]
        env = tuple((k, v) for k, v in self.env
                    if k in keep or _root(k) in keep or any(v in key for key in keys))
        values = {v for _, v in env}
        facts = frozenset(f for f in self.facts if f[0] in values or any(s in f[0] for s in keep))
        return replace(self, env=env, facts=facts)

    def signature(self) -> tuple:
        """What path-sensitivity is kept for: resources, tags and loop counts."""
        return (self.held, self.pending, self.released, self.tags, self.loops)

    def join(self, other: State) -> State | None:
        """The least precise common view of two states with the same signature: values that
        differ become one join symbol per variable, facts not known on both are forgotten.
        Repeated joins only ever lose information, so a busy node sees few of them.  Variables
        whose value names a resource held or pending are not joined: when they differ, there is
        no join (None) and the states stay apart."""
        mine = dict(self.env)
        theirs = dict(other.env)
        keys = [h.key for h in self.held] + [p.symbol for p in self.pending]
        keys += [p.held.key for p in self.pending]
        env = []
        facts = set(self.facts & other.facts)
        for k, v in mine.items():
            w = theirs.get(k)
            if w is None:
                continue
            if v == w:
                env.append((k, v))
                continue
            if any(v in key or w in key for key in keys):
                return None
            joined = v if v.endswith("@join") else f"{k}@join"
            env.append((k, joined))
            # what both paths knew of the variable's value still holds of the joined value
            for truth in (True, False):
                if (v, truth) in self.facts and (w, truth) in other.facts:
                    facts.add((joined, truth))
        return replace(self, env=tuple(sorted(env)), facts=frozenset(facts))


_new = object.__new__
_set = object.__setattr__


def replace(st: State, **changes: object) -> State:
    """`dataclasses.replace` for State, without re-running __init__ (the walker's hot path)."""
    out = _new(State)
    d = dict(st.__dict__)
    d.pop("_h", None)
    if "env" in changes:
        d.pop("_e", None)
    d.update(changes)
    _set(out, "__dict__", d)
    return out


def _root(key: str) -> str:
    for sep in ("->", ".", "["):
        pos = key.find(sep)
        if pos > 0:
            key = key[:pos]
    return key

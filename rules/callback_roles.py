"""Which notifier callback a function implements, and the context it runs in on a kernel version.

Flow position: judgement (shared by the families `atomic-sleep` and `thp-range`).  The ops
tables a file fills (`FileFacts.ops`: `.invalidate_range = my_cb` in a `struct mmu_notifier_ops`)
say which role a function plays; the `[[callback]]` entries of `callbacks.toml` (SEMANTICS.md
table 7c) say, per kernel version, whether that role may sleep.  With an unknown version the
strictest context any SRCU-era kernel (3.10 on) gave the role is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.analysis.knowledge import Knowledge, parse_version, version_text
from reviewer.c.facts import FileFacts

STRICTNESS = {"sleep-ok": 0, "sleep-if-blockable": 1, "atomic": 2}
SRCU_ERA = (3, 10)
NOTIFIER_STRUCTS = frozenset({"mmu_notifier_ops", "mmu_interval_notifier_ops"})


@dataclass(frozen=True)
class Role:
    struct: str
    field: str
    table: str
    line: int  # where the ops table is
    context: str  # atomic | sleep-if-blockable | sleep-ok | removed
    why: str
    range_kind: str  # struct | args | address | ""
    since: tuple[int, int] | None
    until: tuple[int, int] | None


def _entries(knowledge: Knowledge, struct: str, fld: str) -> list[dict]:
    return [e for e in knowledge.section("callback")
            if isinstance(e, dict) and e.get("struct") == struct and fld in e.get("fields", [])]


def _pick(entries: list[dict], version: tuple[int, int] | None) -> dict | None:
    if version is not None:
        for e in entries:
            since = parse_version(e.get("since"))
            until = parse_version(e.get("until"))
            if (since is None or version >= since) and (until is None or version <= until):
                return e
        return None
    live = [e for e in entries
            if parse_version(e.get("until")) is None
            or parse_version(e.get("until")) >= SRCU_ERA]  # type: ignore[operator]
    ranked = [e for e in live if e.get("context") in STRICTNESS]
    if ranked:
        return max(ranked, key=lambda e: (STRICTNESS[e["context"]],
                                          parse_version(e.get("since")) or (0, 0)))
    return live[0] if live else None


def roles_of(facts: FileFacts, function: str, version: tuple[int, int] | None) -> list[Role]:
    """The notifier callback roles `function` plays in this file, on `version`."""
    out: list[Role] = []
    for op in facts.callbacks_of(function):
        if op.struct not in NOTIFIER_STRUCTS:
            continue
        e = _pick(_entries(facts.knowledge, op.struct, op.field), version)
        if e is None:
            continue
        out.append(Role(op.struct, op.field, op.table, op.line, e.get("context", "sleep-ok"),
                        e.get("why", ""), e.get("range", ""), parse_version(e.get("since")),
                        parse_version(e.get("until"))))
    return out


def removed_since(knowledge: Knowledge, struct: str, fld: str) -> tuple[int, int] | None:
    """The first version in which a callback field no longer exists, if the table says so."""
    for e in _entries(knowledge, struct, fld):
        if e.get("context") == "removed":
            return parse_version(e.get("since"))
    return None


def kernel_words(version: tuple[int, int] | None) -> str:
    """How a message names the kernel version its verdict assumed."""
    if version is None:
        return "kernel version unknown, so the strictest reading"
    return f"kernel {version_text(version)}"

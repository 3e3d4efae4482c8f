"""Slices a whole C file down to what the review of a few of its functions needs.

Flow position: C understanding, before parsing.  A patch touches a handful of functions of a
file that may hold hundreds (mm/hugetlb.c, mm/memory.c); normalising and parsing all of them
costs more than the whole analysis of the touched ones.  `slice_for(src, lines)` keeps:

- the functions holding one of `lines` (the lines the patch changes),
- the functions of the file they call, transitively (their summaries: wrappers that start a
  range or take a lock, helpers that may sleep, gets and puts),
- the name-paired partner of each kept function (`x_get` and `x_put`: the pair check),
- functions that clear a field the kept functions read (`p->mm = NULL`: the liveness check
  asks under which lock the file clears it),
- the initialiser tables that name a kept function (callback roles: `.invalidate_range_start`),
- and everything that is not a function body or a table: declarations, types, macros, every
  preprocessor line (so `#if`/`#endif` stay balanced).

Everything else is dropped except its newlines, so every kept line keeps its number (and its
columns, since a dropped item ends with its own closing brace): findings point at the user's
lines and every later stage is unchanged, while normalising and parsing see a fraction of the
bytes.  The outline comes from a brace scan over the file with comments, literals and
preprocessor lines masked; when the braces do not balance (`#if` alternatives that open a block
twice), None is returned and the caller parses the whole file as before.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from reviewer.c.normalize import _mask

_BRACE_RE = re.compile(rb"[{};]")
_CALL_RE = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
_TEST_LINE_RE = re.compile(rb"\b(?:if|while|return)\b|[!=]=|!|\?")
_FIELD_READ_RE = re.compile(rb"->\s*([A-Za-z_]\w*)")
_FIELD_CLEAR_RE = re.compile(rb"->\s*([A-Za-z_]\w*)\s*=\s*(?:NULL|0|false|true|1)\s*;")
_DIRECTIVE_LINE_RE = re.compile(rb"^[ \t]*#(?:[^\n\\]|\\.|\\\n)*", re.MULTILINE | re.DOTALL)
_TYPE_HEAD_RE = re.compile(rb"\b(?:struct|union|enum)\s+\w*\s*$")
# get/put name pairs, both ways: (regex on a name, templates of its partners)
_PARTNERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^(\w+)_get$"), ("{}_put", "{}_release")),
    (re.compile(r"^(\w+)_put$"), ("{}_get",)),
    (re.compile(r"^(\w+)_release$"), ("{}_get", "{}_hold")),
    (re.compile(r"^get_(\w+)$"), ("put_{}",)),
    (re.compile(r"^put_(\w+)$"), ("get_{}",)),
    (re.compile(r"^(\w+)_grab$"), ("{}_drop",)),
    (re.compile(r"^(\w+)_drop$"), ("{}_grab",)),
    (re.compile(r"^(\w+)_ref$"), ("{}_unref",)),
    (re.compile(r"^(\w+)_unref$"), ("{}_ref",)),
    (re.compile(r"^(\w+)_hold$"), ("{}_release", "{}_unhold")),
    (re.compile(r"^(\w+)_unhold$"), ("{}_hold",)),
)
MAX_KEPT = 400  # functions; beyond that the slice saves little and the whole file is parsed


@dataclass(frozen=True)
class TopItem:
    """A braced item at file scope: a function definition, an initialised table or a type."""

    start: int  # just past the previous item's end: its head, with comments and blank lines
    open: int  # its '{'
    end: int  # just past its closing '}'
    kind: str  # "function", "initializer" or "type"
    name: str  # the function's name, the initialised variable's, or ""


def outline(src: bytes) -> tuple[list[TopItem], bytes] | None:
    """The file's top-level braced items and its masked text, or None when braces do not
    balance at file scope."""
    masked = bytes(_mask(src)[0])
    items: list[TopItem] = []
    depth = 0
    item_start = 0
    open_at = -1
    for m in _BRACE_RE.finditer(masked):
        c = masked[m.start()]
        if c == 0x7B:  # {
            if depth == 0:
                open_at = m.start()
            depth += 1
        elif c == 0x7D:  # }
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                end = m.end()
                items.append(_item(masked, item_start, open_at, end))
                item_start = end
        elif depth == 0:  # ; at file scope ends a declaration
            item_start = m.end()
    if depth != 0:
        return None
    return items, masked


def _item(masked: bytes, start: int, open_at: int, end: int) -> TopItem:
    head = masked[start:open_at].rstrip()
    if head.endswith(b"="):
        m = re.search(rb"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=$", head)
        return TopItem(start, open_at, end, "initializer", m.group(1).decode() if m else "")
    while head.endswith(b")") and not _TYPE_HEAD_RE.search(head):
        depth = 0
        for i in range(len(head) - 1, -1, -1):  # the '(' that closes at the end of the head
            ch = head[i]
            if ch == 0x29:
                depth += 1
            elif ch == 0x28:
                depth -= 1
                if depth == 0:
                    break
        else:
            break
        m = re.search(rb"([A-Za-z_]\w*)\s*$", head[:i])
        name = m.group(1).decode() if m else ""
        before = head[:m.start()].rstrip() if m else b""
        if name.startswith("__") and before.endswith(b")"):
            head = before  # a trailing annotation: `f(void) __releases(lock)`
            continue
        return TopItem(start, open_at, end, "function", name)
    return TopItem(start, open_at, end, "type", "")


def _partners(name: str) -> list[str]:
    out = []
    for pat, templates in _PARTNERS:
        m = pat.match(name)
        if m is not None:
            out += [t.format(m.group(1)) for t in templates]
    return out


def slice_for(src: bytes, lines: set[int]) -> bytes | None:
    """`src` without the function bodies and tables the review of `lines` does not need (every
    kept line at its number), or None when the file should be parsed whole."""
    found = outline(src)
    if found is None or not lines:
        return None
    items, masked = found
    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", src)]

    def line_of(offset: int) -> int:
        return bisect.bisect_right(line_starts, offset)

    by_name: dict[str, list[TopItem]] = {}
    for it in items:
        if it.kind == "function" and it.name:
            by_name.setdefault(it.name, []).append(it)
    keep: set[TopItem] = set()
    for it in items:
        lo, hi = line_of(it.start), line_of(max(it.end - 1, it.start))
        if any(lo <= ln <= hi for ln in lines):
            keep.add(it)
    touched = [it for it in keep if it.kind == "function"]
    # fields the touched functions test, and the functions that clear one of them
    fields = {f for it in touched for ln in masked[it.open:it.end].split(b"\n")
              if _TEST_LINE_RE.search(ln) for f in _FIELD_READ_RE.findall(ln)}
    work = list(touched)
    for defs in by_name.values():
        for it in defs:
            if it not in keep and any(f in fields for f in
                                      _FIELD_CLEAR_RE.findall(masked, it.open, it.end)):
                keep.add(it)
                work.append(it)
    for it in touched:
        for partner in _partners(it.name):
            for p in by_name.get(partner, ()):
                if p not in keep:
                    keep.add(p)
                    work.append(p)
    # callees of the file, transitively
    while work:
        it = work.pop()
        for callee in {c.decode() for c in _CALL_RE.findall(masked, it.open, it.end)}:
            for d in by_name.get(callee, ()):
                if d not in keep:
                    keep.add(d)
                    work.append(d)
        if len(keep) > MAX_KEPT:
            return None
    names = {it.name for it in keep if it.kind == "function"}
    name_re = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names))
                         + rb")\b") if names else None
    parts: list[bytes] = []
    pos = 0
    for it in items:
        if it in keep or it.kind == "type":
            continue
        if it.kind == "initializer" and name_re is not None and \
                name_re.search(masked, it.open, it.end):
            continue  # a table naming a kept function: its callback roles
        parts.append(src[pos:it.start])
        parts += _newlines_and_directives(src, it.start, it.end)
        pos = it.end
    parts.append(src[pos:])
    return b"".join(parts)


def _newlines_and_directives(src: bytes, start: int, end: int) -> list[bytes]:
    """What is left of src[start:end] when it is dropped: its newlines (so every later line
    keeps its number) and its preprocessor lines (so conditionals stay balanced)."""
    out: list[bytes] = []
    pos = start
    for m in _DIRECTIVE_LINE_RE.finditer(src, start, end):
        out.append(b"\n" * src.count(b"\n", pos, m.start()))
        out.append(src[m.start():m.end()])
        pos = m.end()
    out.append(b"\n" * src.count(b"\n", pos, end))
    return out

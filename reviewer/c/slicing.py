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
bytes.  The outline comes from one scan of the file for braces, skipping comments, literals
and preprocessor lines; when the braces do not balance (`#if` alternatives that open a block
twice), None is returned and the caller parses the whole file as before.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_TOKEN_RE = re.compile(
    rb"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|\\\n|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?"""
    rb"|\#(?:[^\n\\]|\\.|\\\n)*|[{};]",  # outside comments and literals, '#' is a directive
    re.DOTALL)
# one match per brace outside comments, literals and directives: what precedes it is consumed
# (possessively) in the same match, so the scan yields braces only
_BRACE_RE = re.compile(
    rb"""(?:[^{}/"'#]++|//[^\n]*+|/\*.*?(?:\*/|\Z)|"(?:\\.|\\\n|[^"\\\n])*+"?"""
    rb"""|'(?:\\.|[^'\\\n])*+'?|\#(?:[^\n\\]|\\.|\\\n)*+|/)*+([{}])""",
    re.DOTALL)
_INIT_NAME_RE = re.compile(rb"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=$")
_NAME_END_RE = re.compile(rb"([A-Za-z_]\w*)$")
TAIL_BYTES = 200  # the end of a head that says what the item is (regexes anchored at `$`)
HEAD_BYTES = 2000  # how far back from its '{' an item's head is read
_CALL_RE = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
_WORD_RE = re.compile(rb"[A-Za-z_]\w*")
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

    start: int  # just past the previous item's end (declarations between them included)
    open: int  # its '{'
    end: int  # just past its closing '}'
    kind: str  # "function", "initializer" or "type"
    name: str  # the function's name, the initialised variable's, or ""
    first_line: int  # the line of `start`
    last_line: int  # the line of the closing brace


def outline(src: bytes) -> list[TopItem] | None:
    """The file's top-level braced items, or None when braces do not balance at file scope.
    One scan finds the braces, skipping comments, literals and preprocessor lines inside the
    same match; an item's `start` is the end of the item before it (see `_head_start`)."""
    items: list[TopItem] = []
    depth = 0
    item_start = 0
    open_at = -1
    line = 1
    counted = 0
    first = 1
    for m in _BRACE_RE.finditer(src):
        pos = m.start(1)
        if src[pos] == 0x7B:  # {
            if depth == 0:
                open_at = pos
                line += src.count(b"\n", counted, item_start)
                counted = item_start
                first = line
            depth += 1
        else:  # }
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                end = pos + 1
                if src[end:end + 1] == b";":
                    end += 1
                line += src.count(b"\n", counted, end)
                counted = end
                items.append(_item(src, item_start, open_at, end, first, line))
                item_start = end
    if depth != 0:
        return None
    return items


def _head_start(src: bytes, lo: int, hi: int) -> int:
    """Where the item whose head lies in src[lo:hi] begins: past the last declaration that
    ends there (its `;` outside comments and literals), else at `lo`."""
    start = lo
    for m in _TOKEN_RE.finditer(src, lo, hi):
        if m.end() - m.start() == 1 and src[m.start()] == 0x3B:  # ;
            start = m.end()
    return start


def _item(src: bytes, start: int, open_at: int, end: int, first: int, last: int) -> TopItem:
    head = src[max(start, open_at - HEAD_BYTES):open_at].rstrip()
    while head.endswith(b"*/"):  # a comment after the signature (`f(void) /* locked */`)
        cut = head.rfind(b"/*")
        if cut < 0:
            break
        head = head[:cut].rstrip()
    if head.endswith(b"="):
        m = _INIT_NAME_RE.search(head[-TAIL_BYTES:])
        return TopItem(start, open_at, end, "initializer", m.group(1).decode() if m else "",
                       first, last)
    while head.endswith(b")") and not _TYPE_HEAD_RE.search(head[-TAIL_BYTES:]):
        i = _opening_paren(head)  # of the ')' that ends the head
        if i < 0:
            break
        prefix = head[:i].rstrip()
        m = _NAME_END_RE.search(prefix[-TAIL_BYTES:])
        name = m.group(1).decode() if m else ""
        before = prefix[:len(prefix) - len(name)].rstrip() if m else b""
        if name.startswith("__") and before.endswith(b")"):
            head = before  # a trailing annotation: `f(void) __releases(lock)`
            continue
        return TopItem(start, open_at, end, "function", name, first, last)
    return TopItem(start, open_at, end, "type", "", first, last)  # kept whatever it is


def _opening_paren(head: bytes) -> int:
    """Offset of the '(' matching the ')' that ends `head`, or -1."""
    depth = 0
    i = len(head)
    while True:
        i = max(head.rfind(b"(", 0, i), head.rfind(b")", 0, i))
        if i < 0:
            return -1
        depth += 1 if head[i] == 0x29 else -1
        if depth == 0:
            return i


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
    items = outline(src)
    if items is None or not lines:
        return None
    by_name: dict[str, list[TopItem]] = {}
    for it in items:
        if it.kind == "function" and it.name:
            by_name.setdefault(it.name, []).append(it)
    keep: set[TopItem] = set()
    for it in items:
        if any(it.first_line <= ln <= it.last_line for ln in lines):
            keep.add(it)
    for it in [k for k in keep if k.kind == "initializer"]:
        # a table entry the patch changes: the function it installs is reviewed too
        line = it.first_line
        for text in src[it.start:it.end].split(b"\n"):
            if line in lines:
                for word in _WORD_RE.findall(text):
                    keep.update(by_name.get(word.decode(), ()))
            line += 1
    touched = [it for it in keep if it.kind == "function"]
    # fields the touched functions test, and the functions that clear one of them
    fields = {f for it in touched for ln in src[it.open:it.end].split(b"\n")
              if _TEST_LINE_RE.search(ln) for f in _FIELD_READ_RE.findall(ln)}
    work = list(touched)
    if fields:  # one pass over the file for the clears, each placed in its function
        opens = [it.open for it in items]
        for m in _FIELD_CLEAR_RE.finditer(src):
            if m.group(1) not in fields:
                continue
            at = bisect.bisect_right(opens, m.start()) - 1
            it = items[at] if at >= 0 else None
            if it is not None and it.kind == "function" and m.start() < it.end \
                    and it not in keep:
                keep.add(it)
                work.append(it)
    for it in touched:
        for partner in _partners(it.name):
            for p in by_name.get(partner, ()):
                if p not in keep:
                    keep.add(p)
                    work.append(p)
    # callees of the file, transitively (read from the raw text: a name in a comment only
    # keeps one function more)
    while work:
        it = work.pop()
        for callee in {c.decode() for c in _CALL_RE.findall(src, it.open, it.end)}:
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
    prev: TopItem | None = None
    for it in items:
        before, prev = prev, it
        if it in keep or it.kind == "type":
            continue
        if it.kind == "initializer" and name_re is not None and \
                name_re.search(src, it.open, it.end):
            continue  # a table naming a kept function: its callback roles
        start = _head_start(src, it.start, it.open)
        if start == it.start and before is not None and before.kind == "type" and \
                src[before.end - 1] == 0x7D:
            continue  # `struct { ... } table = { ... };`: one declaration, kept whole
        parts.append(src[pos:start])
        parts += _newlines_and_directives(src, start, it.end)
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

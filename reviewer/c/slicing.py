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

import re
from dataclasses import dataclass

_TOKEN_RE = re.compile(
    rb"""//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|\\\n|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?"""
    rb"|\#(?:[^\n\\]|\\.|\\\n)*|[{};]",  # outside comments and literals, '#' is a directive
    re.DOTALL)
_COMMENT_RE = re.compile(rb"/\*.*?(?:\*/|\Z)|//[^\n]*", re.DOTALL)
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

    start: int  # just past the previous item's end: its head, with comments and blank lines
    open: int  # its '{'
    end: int  # just past its closing '}'
    kind: str  # "function", "initializer" or "type"
    name: str  # the function's name, the initialised variable's, or ""
    first_line: int  # the line of `start`
    last_line: int  # the line of the closing brace


def outline(src: bytes) -> list[TopItem] | None:
    """The file's top-level braced items, or None when braces do not balance at file scope.
    One scan: comments, literals and preprocessor lines are matched (and so skipped) by the
    same expression that finds the braces and semicolons."""
    items: list[TopItem] = []
    depth = 0
    item_start = 0
    open_at = -1
    line = 1
    counted = 0
    first = 1
    for m in _TOKEN_RE.finditer(src):
        pos = m.start()
        c = src[pos]
        if m.end() - pos != 1 or c not in b"{};":
            continue  # a comment, a literal or a directive
        if c == 0x7B:  # {
            if depth == 0:
                open_at = pos
                line += src.count(b"\n", counted, item_start)
                counted = item_start
                first = line
            depth += 1
        elif c == 0x7D:  # }
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                end = m.end()
                line += src.count(b"\n", counted, end)
                counted = end
                items.append(_item(src, item_start, open_at, end, first, line))
                item_start = end
        elif depth == 0:  # ; at file scope ends a declaration
            item_start = m.end()
    if depth != 0:
        return None
    return items


def _item(src: bytes, start: int, open_at: int, end: int, first: int, last: int) -> TopItem:
    head = src[max(start, open_at - HEAD_BYTES):open_at]
    if b"/" in head:  # comments around the signature (`f(void) /* caller locks */`)
        head = _COMMENT_RE.sub(b" ", head)
    head = head.rstrip()
    if head.endswith(b"="):
        m = re.search(rb"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=$", head)
        return TopItem(start, open_at, end, "initializer", m.group(1).decode() if m else "",
                       first, last)
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
        return TopItem(start, open_at, end, "function", name, first, last)
    return TopItem(start, open_at, end, "type", "", first, last)


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
    for defs in by_name.values():
        for it in defs:
            if it not in keep and any(f in fields for f in
                                      _FIELD_CLEAR_RE.findall(src, it.open, it.end)):
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
    for it in items:
        if it in keep or it.kind == "type":
            continue
        if it.kind == "initializer" and name_re is not None and \
                name_re.search(src, it.open, it.end):
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

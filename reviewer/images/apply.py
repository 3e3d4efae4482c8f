"""Applies one file's hunks to its text in memory, the way `patch` does without fuzz.

Flow position: images (used by treeapply.py).  Each hunk's old lines (context and removed) must
match the file exactly, first at the line the header states (shifted by the offset earlier hunks
needed), then at the nearest offsets above and below.  No fuzz: a hunk whose context does not
match anywhere makes the whole file fail.  Only carriage returns at line ends are ignored.
"""

from __future__ import annotations

from reviewer.images.fragment import to_bytes
from reviewer.model import Hunk


class HunkDoesNotApply(Exception):
    def __init__(self, number: int, hunk: Hunk) -> None:
        super().__init__(f"hunk #{number} (@@ -{hunk.old_start},{hunk.old_len} @@) does not apply")
        self.number = number


def _matches(lines: list[str], pos: int, old: list[str]) -> bool:
    return all(lines[pos + k].rstrip("\r") == text.rstrip("\r") for k, text in enumerate(old))


def _locate(lines: list[str], old: list[str], want: int, floor: int) -> int | None:
    last = len(lines) - len(old)
    if not old:
        return want if floor <= want <= len(lines) else None
    for delta in range(max(want - floor, last - want, 0) + 1):
        for pos in (want - delta, want + delta) if delta else (want,):
            if floor <= pos <= last and _matches(lines, pos, old):
                return pos
    return None


def apply_hunks(lines: list[str], hunks: list[Hunk]) -> list[str]:
    """The lines after the hunks; raises HunkDoesNotApply."""
    out: list[str] = []
    consumed = 0
    offset = 0
    for number, hunk in enumerate(hunks, 1):
        old = [ln.text for ln in hunk.lines if ln.kind in (" ", "-")]
        stated = hunk.old_start - 1 if hunk.old_len else hunk.old_start
        pos = _locate(lines, old, stated + offset, consumed)
        if pos is None:
            raise HunkDoesNotApply(number, hunk)
        out.extend(lines[consumed:pos])
        i = pos
        for ln in hunk.lines:
            if ln.kind == " ":
                out.append(lines[i])
                i += 1
            elif ln.kind == "-":
                i += 1
            else:
                out.append(ln.text)
        consumed = pos + len(old)
        offset = pos - stated
    out.extend(lines[consumed:])
    return out


def split_text(data: bytes) -> tuple[list[str], bool]:
    """Lines (without newlines) of a file and whether it ends with a newline."""
    text = data.decode("utf-8", "surrogateescape")
    if not text:
        return [], True
    final = text.endswith("\n")
    lines = text.split("\n")
    if final:
        lines.pop()
    return lines, final


def join_text(lines: list[str], final_newline: bool) -> bytes:
    return to_bytes("\n".join(lines) + ("\n" if final_newline and lines else ""))

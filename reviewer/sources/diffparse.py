"""Turns diff text into the model's FileChange / Hunk / HunkLine, with `unidiff` doing the parsing.

Flow position: sources -> model.  Every source (patch files, mails, git ranges, the staged index)
ends here, so a hunk looks the same whatever the user gave us.  Paths lose their `a/` `b/` (or
`-p1`) prefix, `/dev/null` becomes None, blob ids come from the `index abc..def` line (all-zero ids,
meaning "no such file", become None), and a hunk's section text loses the padding some web
archives add after `@@`.
"""

from __future__ import annotations

import re

from unidiff import PatchSet, UnidiffParseError
from unidiff.patch import PatchedFile

from reviewer.errors import InputError
from reviewer.model import FileChange, Hunk, HunkLine

_INDEX = re.compile(r"^index ([0-9a-f]+)\.\.([0-9a-f]+)")
_GIT_PREFIX = re.compile(r"^[abciow12]/")


def _blob(ident: str) -> str | None:
    return None if set(ident) == {"0"} else ident


def _path(raw: str, git: bool) -> str | None:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    if raw == "/dev/null" or not raw:
        return None
    if git:
        return _GIT_PREFIX.sub("", raw, count=1)
    # A plain `diff -u` pair such as linux.orig/mm/x.c: strip one component, as `patch -p1`.
    return raw.split("/", 1)[1] if "/" in raw else raw


def _file_change(pf: PatchedFile) -> FileChange:
    info = list(pf.patch_info or [])
    git = any(line.startswith("diff --git ") for line in info) or bool(
        _GIT_PREFIX.match(pf.source_file or "") and _GIT_PREFIX.match(pf.target_file or "")
    )
    old_blob = new_blob = None
    for line in info:
        m = _INDEX.match(line)
        if m:
            old_blob, new_blob = _blob(m.group(1)), _blob(m.group(2))
    change = FileChange(
        old_path=_path(pf.source_file, git),
        new_path=_path(pf.target_file, git),
        old_blob=old_blob,
        new_blob=new_blob,
        is_binary=pf.is_binary_file,
    )
    for h in pf:
        hunk = Hunk(h.source_start, h.source_length, h.target_start, h.target_length,
                    (h.section_header or "").strip())
        for line in h:
            if line.line_type not in (" ", "+", "-"):
                continue
            hunk.lines.append(HunkLine(line.line_type, line.value.rstrip("\r\n"),
                                       line.source_line_no, line.target_line_no))
        change.hunks.append(hunk)
    return change


def parse_diff(text: str, source: str) -> list[FileChange]:
    """Parse a diff (only the diff: see diffscan.find_patch for text with prose around it)."""
    if not text.endswith("\n"):
        text += "\n"
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(source, f"malformed diff: {exc}") from None
    return [_file_change(pf) for pf in patch_set]

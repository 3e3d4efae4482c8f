"""Finds the patch inside a text: a bare diff, a mail body, or a web page with prose around it.

Flow position: sources.  Before the diff is parsed (diffparse.py) we need to know where it is.
The text is scanned for *runs*: consecutive file sections (`diff --git` headers or `---`/`+++`
pairs followed by hunks whose line counts are checked against their `@@` headers), separated at
most by blank lines.  Lines quoted in replies (`> ...`) never start a section, and a pasted diff
whose headers are broken up by blank lines is not a section either, so prose and quoted review
comments are skipped.  When several runs are found, the patch is the last one (a patch copied from
a web archive ends with the patch itself; a mail ends with its diff).  A run whose hunks do not
match their headers is reported as malformed rather than silently cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_EXTENDED = re.compile(
    r"^(old mode|new mode|deleted file mode|new file mode|similarity index|dissimilarity index"
    r"|rename from|rename to|copy from|copy to|index )"
)
_BINARY_DATA = re.compile(r"^((literal|delta) \d+|[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]+)$")


@dataclass
class DiffRun:
    """Lines [start, end) of the scanned text that form one diff; `error` when malformed."""

    start: int
    end: int
    error: str | None = None


def _is_file_start(lines: list[str], i: int) -> bool:
    line = lines[i]
    if line.startswith("diff --git "):
        return True
    return line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _is_signature(line: str) -> bool:
    return line.rstrip() == "--"


def _hunks(lines: list[str], j: int) -> tuple[int, int, str | None]:
    """Consume the hunks starting at `j`; return (end, hunk count, error)."""
    n = len(lines)
    count = 0
    while j < n:
        m = HUNK_HEADER.match(lines[j])
        if not m:
            break
        header = lines[j]
        count += 1
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        new_len = int(m.group(4)) if m.group(4) is not None else 1
        j += 1
        old = new = 0
        while old < old_len or new < new_len:
            if j >= n:
                return j, count, f"hunk '{header}' is shorter than its header says"
            line = lines[j]
            kind = line[0] if line else " "
            if _is_signature(line) and old >= old_len:  # the mail signature, not a removal
                return j, count, f"hunk '{header}' is shorter than its header says"
            if kind == " ":
                old += 1
                new += 1
            elif kind == "-":
                old += 1
            elif kind == "+":
                new += 1
            elif kind != "\\":
                return j, count, f"hunk '{header}' is shorter than its header says"
            if old > old_len or new > new_len:
                return j, count, f"hunk '{header}' does not match its line counts"
            j += 1
        while j < n and lines[j].startswith("\\"):
            j += 1
        # Lines that still look like hunk lines after the counts are used up: a hunk longer
        # than its header says (a hand-edited patch).
        if (
            j < n
            and lines[j][:1] in ("+", "-")
            and not _is_signature(lines[j])
            and not _is_file_start(lines, j)
            and not HUNK_HEADER.match(lines[j])
        ):
            while j < n and lines[j][:1] in ("+", "-", " ") and not _is_file_start(lines, j):
                j += 1
            return j, count, f"hunk '{header}' is longer than its header says"
    return j, count, None


def _section(lines: list[str], i: int) -> tuple[int, str | None] | None:
    """One file section starting at `i`: (end, error), or None when it is not a real section."""
    n = len(lines)
    j = i
    meaningful = False
    if lines[i].startswith("diff --git "):
        j += 1
        while j < n and _EXTENDED.match(lines[j]):
            meaningful = meaningful or not lines[j].startswith("index ")
            j += 1
        if j < n and lines[j].startswith("Binary files "):
            return j + 1, None
        if j < n and lines[j].rstrip() == "GIT binary patch":
            j += 1
            while j < n and (not lines[j].strip() or _BINARY_DATA.match(lines[j])):
                if not lines[j].strip() and (j + 1 >= n or not _BINARY_DATA.match(lines[j + 1])):
                    break
                j += 1
            return j, None
        if not (j + 1 < n and lines[j].startswith("--- ") and lines[j + 1].startswith("+++ ")):
            return (j, None) if meaningful else None
    j += 2
    end, count, error = _hunks(lines, j)
    if count == 0:
        return (end, None) if meaningful else None
    return end, error


def _run(lines: list[str], i: int) -> DiffRun | None:
    n = len(lines)
    first = _section(lines, i)
    if first is None:
        return None
    end, error = first
    while True:
        k = end
        while k < n and not lines[k].strip():
            k += 1
        if k >= n or not _is_file_start(lines, k):
            break
        nxt = _section(lines, k)
        if nxt is None:
            break
        end, err = nxt
        error = error or err
    return DiffRun(i, end, error)


def find_runs(lines: list[str]) -> list[DiffRun]:
    """Every diff run in `lines`, in order."""
    runs: list[DiffRun] = []
    i = 0
    while i < len(lines):
        if _is_file_start(lines, i):
            run = _run(lines, i)
            if run is not None:
                runs.append(run)
                i = max(run.end, i + 1)
                continue
        i += 1
    return runs


def find_patch(lines: list[str]) -> DiffRun | None:
    """The run that is the patch (the last one), or None when the text holds no diff."""
    runs = find_runs(lines)
    return runs[-1] if runs else None

"""Chooses what a review reply quotes: the commit message's opening and the lines at each finding.

Flow position: voices (used by the mailing-list reply).  Given a Patch and the findings on it,
this builds a list of segments in the order of the diff: quoted lines (file header, hunk header,
the few lines around a finding), cut marks where lines of the patch were left out, and the
findings' comments placed right under the line they are about.  Findings in one hunk share one
quote; a long hunk is never quoted whole, only windows around the findings and the path lines
near them.  Nothing here wraps text or knows about templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.engine.findings import Finding
from reviewer.model import FileChange, Hunk, Patch

CONTEXT = 3  # lines quoted above the first line that matters
REACH = 8  # path steps at most this many lines above a finding are quoted with it
SMALL_GAP = 2  # a cut that would leave out this many lines or fewer is quoted instead
MAX_CONTINUATION = 2  # lines quoted below a finding to finish its statement
FUNCTION_REACH = 10  # a function's first line this close above a window starts the window
COMMIT_LINES = 6  # lines of the commit message quoted at most


@dataclass
class Segment:
    """`quote` (lines of the patch, without the `> `), `cut`, or `comment` (one finding)."""

    kind: str
    lines: list[str] = field(default_factory=list)
    finding: Finding | None = None


@dataclass
class CommitQuote:
    lines: list[str]
    cut: bool


def commit_quote(body: str, limit: int = COMMIT_LINES) -> CommitQuote:
    """The first paragraph of the commit message (at most `limit` lines); `cut` if more follows."""
    lines = [ln.rstrip() for ln in body.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    end = next((k for k, ln in enumerate(lines) if not ln), len(lines))
    end = min(end, limit)
    return CommitQuote(lines[:end], cut=end < len(lines))


def hunk_header(h: Hunk) -> str:
    def span(start: int, length: int) -> str:
        return f"{start}" if length == 1 else f"{start},{length}"

    head = f"@@ -{span(h.old_start, h.old_len)} +{span(h.new_start, h.new_len)} @@"
    return f"{head} {h.section}" if h.section else head


def file_header(change: FileChange) -> list[str]:
    old = f"a/{change.old_path}" if change.old_path else "/dev/null"
    new = f"b/{change.new_path}" if change.new_path else "/dev/null"
    return [f"--- {old}", f"+++ {new}"]


def _change_for(patch: Patch, path: str) -> FileChange | None:
    for change in patch.files:
        if path in (change.new_path, change.old_path):
            return change
    return None


def _index_of(hunk: Hunk, line: int) -> int | None:
    for k, ln in enumerate(hunk.lines):
        if ln.new_lineno == line:
            return k
    return None


def _statement_end(hunk: Hunk, k: int) -> int:
    """`k`, or a line or two below when the statement at `k` goes on (an `if (x)` and its body)."""
    end = k
    for _ in range(MAX_CONTINUATION):
        text = hunk.lines[end].text.strip()
        if (not text or text.endswith((";", "{", "}", ":")) or text.startswith(("#", "/*", "*"))
                or end + 1 >= len(hunk.lines) or hunk.lines[end + 1].kind == "-"):
            break
        end += 1
    return end


def _function_head(hunk: Hunk, k: int) -> int | None:
    """The line a function definition starts on, when one is shortly above line `k`."""
    for j in range(k, max(-1, k - FUNCTION_REACH - 1), -1):
        ln = hunk.lines[j]
        text = ln.text
        if ln.kind == "-" or not text or text[0] in " \t}#/*{":
            continue
        if "(" in text and not text.rstrip().endswith(";"):
            return j
    return None


@dataclass
class _Placed:
    finding: Finding
    index: int  # of the finding's line in the hunk
    end: int  # last quoted line of its statement
    start: int  # first line its window quotes


def _place(hunk: Hunk, f: Finding, k: int) -> _Placed:
    firsts = [k]
    for step in f.path:
        if step.file != f.file:
            continue
        j = _index_of(hunk, step.line)
        if j is not None and 0 <= k - j <= REACH:
            firsts.append(j)
    start = max(0, min(firsts) - CONTEXT)
    head = _function_head(hunk, start)
    if head is not None:
        start = head
    if start <= SMALL_GAP:
        start = 0
    return _Placed(f, k, _statement_end(hunk, k), start)


def _hunk_segments(hunk: Hunk, placed: list[_Placed]) -> tuple[list[Segment], bool]:
    """Segments for one hunk (starting with its `@@` line); True when the quote reaches its end."""
    placed.sort(key=lambda p: (p.index, p.finding.rule))
    windows: list[list[int]] = []  # [start, end] pairs, merged
    for p in placed:
        if windows and p.start <= windows[-1][1] + SMALL_GAP + 1:
            windows[-1][1] = max(windows[-1][1], p.end)
        else:
            windows.append([p.start, p.end])
    last = len(hunk.lines) - 1
    if windows and last - windows[-1][1] <= SMALL_GAP:
        windows[-1][1] = last
    segments: list[Segment] = [Segment("quote", [hunk_header(hunk)])]
    previous_end = -1
    for start, end in windows:
        if start > previous_end + 1:
            segments.append(Segment("cut"))
        quoted: list[str] = []
        for k in range(start, end + 1):
            ln = hunk.lines[k]
            quoted.append(ln.kind + ln.text)
            here = [p for p in placed if p.end == k]
            if here:
                segments.append(Segment("quote", quoted))
                quoted = []
                segments += [Segment("comment", finding=p.finding) for p in here]
        if quoted:
            segments.append(Segment("quote", quoted))
        previous_end = end
    return segments, previous_end >= last


def quote_findings(patch: Patch, findings: list[Finding]) -> list[Segment]:
    """The diff part of a reply: quotes in diff order, cut marks, comments under their lines.

    Findings whose line is in no hunk of the patch come last, as comments without a quote.
    """
    by_hunk: dict[tuple[int, int], list[_Placed]] = {}
    unplaced: list[Finding] = []
    for f in findings:
        change = _change_for(patch, f.file)
        hunk = change.hunk_for_new_line(f.line) if change else None
        k = _index_of(hunk, f.line) if hunk else None
        if change is None or hunk is None or k is None:
            unplaced.append(f)
            continue
        key = (patch.files.index(change), change.hunks.index(hunk))
        by_hunk.setdefault(key, []).append(_place(hunk, f, k))
    segments: list[Segment] = []
    previous: tuple[int, int] | None = None  # (file, hunk) last quoted to its end
    for fi, hi in sorted(by_hunk):
        change = patch.files[fi]
        hunk = change.hunks[hi]
        new_file = previous is None or previous[0] != fi
        adjacent = previous is not None and previous == (fi, hi - 1)
        if new_file:
            if previous is not None:
                segments.append(Segment("cut"))
            segments.append(Segment("quote", file_header(change)))
            if hi > 0:
                segments.append(Segment("cut"))
        elif not adjacent:
            segments.append(Segment("cut"))
        hunk_segments, reached_end = _hunk_segments(hunk, by_hunk[(fi, hi)])
        segments += hunk_segments
        previous = (fi, hi) if reached_end else (fi, -2)
    if segments:
        last_file, last_hunk = sorted(by_hunk)[-1]
        at_end = (previous == (last_file, len(patch.files[last_file].hunks) - 1)
                  and last_file == len(patch.files) - 1)
        if not at_end:
            segments.append(Segment("cut"))
    segments += [Segment("comment", finding=f) for f in unplaced]
    return _merge_quotes(segments)


def _merge_quotes(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if out and seg.kind == "quote" and out[-1].kind == "quote":
            out[-1].lines += seg.lines
        elif out and seg.kind == "cut" and out[-1].kind == "cut":
            continue
        else:
            out.append(seg)
    return out

"""Reviews a series (or scans files): images, parse, facts, rules, what the patch introduces.

Flow position: judgement.  For each patch and each touched C file, the post image and the pre
image are parsed (cached by blob id, so patch N's post image is parsed once and reused as patch
N+1's pre image), the functions the hunks touch are analysed on both sides, and only findings
whose fingerprint is new in the post image, and that point at a line of the patch, are kept.
Whole-file images are first sliced to the touched functions and what their review needs
(`reviewer.c.slicing`).  The pre image is parsed only when it can matter: the post image has
findings (then only their families walk it), or an earlier patch of the series left findings in
that file (all families: a later patch that removes one is noted).
Across the series, a finding that a later patch removes is marked with that patch.  `-j N`
spreads patches (and scanned files) over N processes (`reviewer.engine.parallel`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from reviewer.analysis.walker import RemovedLine
from reviewer.c.facts import FileFacts, Piece
from reviewer.c.parse import comment_nodes, parse_cached
from reviewer.c.slicing import slice_for
from reviewer.engine.analyse import FileAnalysis, analyse_functions
from reviewer.engine.findings import Finding
from reviewer.engine.parallel import jobs_wanted, map_ordered, preload
from reviewer.engine.registry import families
from reviewer.engine.rule import RunOptions
from reviewer.errors import InputError
from reviewer.images.base import FileImages, Image, ImageProvider
from reviewer.model import FileChange, Patch, Series


@dataclass
class PatchResult:
    patch: Patch
    findings: list[Finding] = field(default_factory=list)
    analysed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bounded: list[str] = field(default_factory=list)
    removed: dict[str, set[str]] = field(default_factory=dict)  # file -> fingerprints it removes


@dataclass
class Report:
    mode: str  # tree, fragment or scan
    kernel: str  # the kernel version the rules assumed, or "unknown (strictest reading)"
    series: Series | None = None
    results: list[PatchResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_scanned: int = 0
    functions_analysed: int = 0
    functions_skipped: list[str] = field(default_factory=list)
    functions_bounded: list[str] = field(default_factory=list)


def _facts(path: str, pieces: list[Image], options: RunOptions, fragment: bool) -> FileFacts:
    parsed = [Piece(parse_cached(img.ident, img.text), img.first_line - 1) for img in pieces]
    return FileFacts(path, parsed, options.knowledge, fragment=fragment)


def _sliced(images: FileImages, side: list[Image], lines: set[int]) -> list[Image]:
    """A whole-file image cut down to the functions the review of `lines` needs (same length
    and lines, the rest blanked: reviewer.c.slicing); hunk pieces and files whose outline is
    unclear are left whole."""
    if images.fragment or len(side) != 1 or side[0].first_line != 1:
        return side
    text = slice_for(side[0].text, lines)
    if text is None:
        return side
    return [Image(text, f"{side[0].ident}:slice:{hashlib.sha1(text).hexdigest()[:20]}")]


def _changed_lines(change: FileChange, side: str) -> tuple[set[int], set[int]]:
    """On one side ("new" or "old"): (lines the patch adds or removes there, lines next to a
    change made on the other side).  A function is touched when either set meets it."""
    own, other = ("+", "-") if side == "new" else ("-", "+")
    attr = "new_lineno" if side == "new" else "old_lineno"
    changed: set[int] = set()
    near: set[int] = set()
    for h in change.hunks:
        last = (h.new_start if side == "new" else h.old_start) - 1
        for ln in h.lines:
            lineno = getattr(ln, attr)
            if ln.kind == own and lineno:
                changed.add(lineno)
            if lineno:
                last = lineno
            if ln.kind == other:
                near.update({last, last + 1})
    return changed, near


def _removed_by_function(change: FileChange, facts: FileFacts) -> dict[str, list[RemovedLine]]:
    """The lines the patch removes, grouped by the post-image function they were removed from
    (the function holding the next surviving line, or the previous one at a function's end)."""
    spans = {name: (fd.start_line + p.line_base, fd.end_line + p.line_base)
             for name, (fd, p) in facts.defs.items()}
    out: dict[str, list[RemovedLine]] = {}
    for h in change.hunks:
        last = h.new_start - 1
        for ln in h.lines:
            if ln.new_lineno:
                last = ln.new_lineno
            if ln.kind != "-" or not ln.old_lineno:
                continue
            for name, (lo, hi) in spans.items():
                if lo < last + 1 <= hi or lo <= last < hi:
                    out.setdefault(name, []).append(RemovedLine(last + 1, ln.old_lineno, ln.text))
                    break
    return out


def _touched(facts: FileFacts, lines: set[int]) -> list[str]:
    names = []
    for name, (fd, piece) in facts.defs.items():
        lo = fd.start_line + piece.line_base
        hi = fd.end_line + piece.line_base
        if any(lo <= ln <= hi for ln in lines):
            names.append(name)
    return names


def _only_comments_changed(facts: FileFacts, name: str, added: set[int],
                           near_removed: set[int]) -> bool:
    """True when the patch only adds comments or blank lines inside the function: its code is
    the same before and after, so it cannot gain a finding and is not walked again."""
    fd, piece = facts.defs[name]
    lo, hi = fd.start_line + piece.line_base, fd.end_line + piece.line_base
    if any(lo <= ln <= hi for ln in near_removed):
        return False
    mine = sorted(ln for ln in added if lo <= ln <= hi)
    if not mine:
        return False
    src = piece.parsed.src
    code = bytearray(src[fd.node.start_byte:fd.node.end_byte])
    for node in comment_nodes(fd.node):  # blank out every comment of the function
        a, b = node.start_byte - fd.node.start_byte, node.end_byte - fd.node.start_byte
        code[a:b] = re.sub(rb"[^\n]", b" ", bytes(code[a:b]))
    lines = bytes(code).split(b"\n")
    first = fd.node.start_point[0] + 1 + piece.line_base
    return all(not lines[ln - first].strip() for ln in mine if 0 <= ln - first < len(lines))


def _partial_hunks(change: FileChange, facts: FileFacts, changed: set[int]) -> list[str]:
    """Fragment mode: hunks whose changes fall in no function shown whole."""
    spans = [(fd.start_line + p.line_base, fd.end_line + p.line_base)
             for fd, p in facts.defs.values()]
    out = []
    for h in change.hunks:
        lines = [ln for ln in changed if ln in h.new_range() or ln == h.new_start + h.new_len]
        if lines and not any(lo <= ln <= hi for ln in lines for lo, hi in spans):
            m = re.search(r"([A-Za-z_]\w*)\s*\(", h.section)
            name = m.group(1) if m else f"hunk at line {h.new_start}"
            out.append(f"{change.path}:{name} (the hunk at line {h.new_start} shows part of it)")
    return out


def _only_families(options: RunOptions, keep: set[str]) -> RunOptions:
    others = {f.family for f in families()} - keep
    return replace(options, disabled=options.disabled | others)


def _anchor_to_patch(f: Finding, hunk_lines: set[int], added: set[int]) -> Finding | None:
    if f.line in added or f.line in hunk_lines:
        return f
    for step in reversed(f.path):
        if step.line in added and step.file == f.file:
            f.line = step.line
            return f
    return None


def review_patch(
    patch: Patch, provider: ImageProvider, options: RunOptions, show_all: bool = False,
    removed_for: Callable[[str], bool] | None = None,
) -> PatchResult:
    """Findings the patch introduces.  `removed_for(path)` says whether the findings the patch
    removes from that file are wanted (None: always); without findings in the post image the
    pre image is then not parsed at all."""
    result = PatchResult(patch)
    for change in patch.files:
        if not change.reviewable:
            continue  # not C, binary, or only comments added: the code is the same
        images: FileImages = provider.images(patch, change)
        if not images.post:
            continue  # file deleted
        added, near_removed = _changed_lines(change, "new")
        post = _facts(images.path, _sliced(images, images.post, added | near_removed), options,
                      images.fragment)
        names = [n for n in _touched(post, added | near_removed)
                 if not _only_comments_changed(post, n, added, near_removed)]
        # a callback installed (or moved) by the patch: its role changed, so it is reviewed
        installed = {op.function: op.line for op in post.ops
                     if op.line in added and post.has(op.function) and op.function not in names}
        names += list(installed)
        if images.fragment:
            result.skipped += _partial_hunks(change, post, added | near_removed)
        if not names:
            continue
        post_run: FileAnalysis = analyse_functions(
            post, names, options, removed=_removed_by_function(change, post),
            added=frozenset(added))
        pre_fps: set[str] = set()
        every = removed_for is None or removed_for(images.path)
        if images.pre and (every or post_run.findings):
            old_lines = set().union(*_changed_lines(change, "old"))
            pre = _facts(images.old_path or images.path, _sliced(images, images.pre, old_lines),
                         options, images.fragment)
            pre_names = [n for n in names if pre.has(n)]
            pre_names += [n for n in _touched(pre, old_lines) if n not in names]
            # only the families that found something matter, unless what the patch removes
            # is wanted too: fewer checkers, fewer distinct states, a shorter walk
            pre_options = options if every else _only_families(
                options, {f.family for f in post_run.findings})
            pre_run = analyse_functions(pre, pre_names, pre_options)
            pre_fps = {f.fingerprint for f in pre_run.findings}
            if every:
                result.removed[images.path] = pre_fps - {f.fingerprint for f in post_run.findings}
        hunk_lines = change.touched_new_lines()
        for f in post_run.findings:
            if f.fingerprint in pre_fps and not show_all:
                continue
            f.patch = patch.index
            kept = _anchor_to_patch(f, hunk_lines, added)
            if kept is None and f.function in installed:
                f.line = installed[f.function]  # said where the patch installs the callback
                kept = f
            if kept is not None:
                result.findings.append(kept)
        result.analysed += [f"{images.path}:{n}" for n in post_run.analysed]
        result.skipped += [f"{images.path}:{n}" for n in post_run.skipped]
        result.bounded += [f"{images.path}:{n}" for n in post_run.bounded]
    result.findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return result


def review_series(
    series: Series, provider: ImageProvider, options: RunOptions, show_all: bool = False,
    progress: Callable[[str], None] | None = None, jobs: int = 1,
) -> Report:
    report = Report(mode=provider.mode, kernel=_kernel_text(options), series=series)
    report.notes += series.notes
    report.results = _review_all(series.patches, provider, options, show_all, jobs, progress)
    # a finding that a later patch of the series removes
    for i, res in enumerate(report.results):
        for f in res.findings:
            for later in report.results[i + 1 :]:
                if f.fingerprint in later.removed.get(f.file, set()):
                    f.fixed_by = later.patch.index
                    break
        report.findings += res.findings
        report.functions_analysed += len(res.analysed)
        report.functions_skipped += res.skipped
        report.functions_bounded += res.bounded
    report.notes += list(getattr(provider, "notes", []))
    return report


def _review_all(
    patches: list[Patch], provider: ImageProvider, options: RunOptions, show_all: bool,
    jobs: int, progress: Callable[[str], None] | None,
) -> list[PatchResult]:
    """review_patch for every patch, in order; the pre images are parsed only where the post
    image has findings or an earlier patch left findings in the file (`flagged`)."""
    out: list[PatchResult] = []
    flagged: set[str] = set()
    if jobs_wanted(jobs) <= 1 or len(patches) <= 1:
        for patch in patches:
            if progress is not None:
                progress(patch.clean_subject or patch.subject)
            res = review_patch(patch, provider, options, show_all, flagged.__contains__)
            flagged.update(f.file for f in res.findings)
            out.append(res)
        return out
    loaded = preload(patches, provider, lambda change: change.reviewable)

    def one(i: int) -> PatchResult:
        return review_patch(patches[i], loaded, options, show_all, lambda path: False)

    for i, res in enumerate(map_ordered(one, range(len(patches)), jobs)):
        patch = patches[i]
        if progress is not None:
            progress(patch.clean_subject or patch.subject)
        if any(c.path in flagged and c.path not in res.removed for c in patch.files):
            # what it removes from a file with earlier findings matters: as with -j 1
            res = review_patch(patch, loaded, options, show_all, flagged.__contains__)
        res.patch = patch
        flagged.update(f.file for f in res.findings)
        out.append(res)
    return out


def _kernel_text(options: RunOptions) -> str:
    if options.version is None:
        return "unknown (strictest reading)"
    return f"{options.version[0]}.{options.version[1]}"


def iter_c_files(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".c")]
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise InputError(p, "no such file or directory")
    return out


def scan_file(path: str, options: RunOptions, display: str | None = None) -> FileAnalysis:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if b"\0" in data[:8192]:
        raise InputError(path, "binary file, not C source")
    facts = _facts(display or path, [Image.of(data)], options, fragment=False)
    if not facts.defs and facts.pieces[0].parsed.root.has_error and data.strip():
        raise InputError(path, "tree-sitter cannot make sense of this as C (no function parses)")
    return analyse_functions(facts, list(facts.defs), options)


def scan_paths(
    paths: list[str], options: RunOptions, progress: Callable[[str], None] | None = None,
    select: Callable[[str], bool] | None = None, jobs: int = 1,
) -> Report:
    report = Report(mode="scan", kernel=_kernel_text(options))
    explicit = {p for p in paths if os.path.isfile(p)}
    files = [p for p in iter_c_files(paths) if select is None or select(p)]

    def one(path: str) -> FileAnalysis | tuple[str, str]:
        try:
            return scan_file(path, options)
        except InputError as exc:  # as plain values: they may come back from another process
            return exc.subject, exc.message

    sizes = [os.path.getsize(f) if os.path.isfile(f) else 0 for f in files]
    for path, res in zip(files, map_ordered(one, files, jobs, weights=sizes), strict=True):
        if progress is not None:
            progress(path)
        if isinstance(res, tuple):
            if path in explicit:
                raise InputError(*res)
            report.notes.append(InputError(*res).one_line())
            continue
        report.files_scanned += 1
        report.findings += res.findings
        report.functions_analysed += len(res.analysed)
        report.functions_skipped += [f"{path}:{n}" for n in res.skipped]
        report.functions_bounded += [f"{path}:{n}" for n in res.bounded]
    report.findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return report

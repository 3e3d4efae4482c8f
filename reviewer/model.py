"""The patch model: what every source produces and every later stage reads.

Flow position: sources -> **model** -> images -> C understanding -> rules -> voices.
A `Series` holds `Patch`es in posting order; a patch holds its mail headers, its commit
message and, per touched file, a `FileChange` made of `Hunk`s.  Nothing here knows about git,
email parsing or C; it is plain data shared by all stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HunkLine:
    """One line of a hunk: `kind` is ' ' (context), '+' (added) or '-' (removed)."""

    kind: str
    text: str
    old_lineno: int | None
    new_lineno: int | None


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str = ""
    lines: list[HunkLine] = field(default_factory=list)

    def added_lines(self) -> set[int]:
        return {ln.new_lineno for ln in self.lines if ln.kind == "+" and ln.new_lineno}

    def removed_lines(self) -> set[int]:
        return {ln.old_lineno for ln in self.lines if ln.kind == "-" and ln.old_lineno}

    def new_range(self) -> range:
        return range(self.new_start, self.new_start + self.new_len)

    def old_range(self) -> range:
        return range(self.old_start, self.old_start + self.old_len)


@dataclass
class FileChange:
    """The diff of one file inside one patch."""

    old_path: str | None  # None when the file is created
    new_path: str | None  # None when the file is deleted
    old_blob: str | None = None  # abbreviated blob ids from the `index a..b` line
    new_blob: str | None = None
    hunks: list[Hunk] = field(default_factory=list)
    is_binary: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def is_c(self) -> bool:
        return self.path.endswith((".c", ".h"))

    @property
    def reviewable(self) -> bool:
        """C code whose code (not only its comments) the patch changes."""
        return (self.is_c and not self.is_binary and bool(self.hunks)
                and not self.adds_only_comments())

    def added_lines(self) -> set[int]:
        out: set[int] = set()
        for h in self.hunks:
            out |= h.added_lines()
        return out

    def removed_lines(self) -> set[int]:
        out: set[int] = set()
        for h in self.hunks:
            out |= h.removed_lines()
        return out

    def touched_new_lines(self) -> set[int]:
        """Post-image lines inside a hunk (context and added)."""
        out: set[int] = set()
        for h in self.hunks:
            out.update(ln.new_lineno for ln in h.lines if ln.new_lineno)
        return out

    def adds_only_comments(self) -> bool:
        """Every line the patch changes in the file is an added blank line or a whole comment (a
        `/* ... */` or `//` line, or every line of a new block comment): the code is the same
        before and after, so nothing can be found and the file need not even be parsed."""
        in_block = saw = False
        for h in self.hunks:
            for ln in h.lines:
                if ln.kind == "-":
                    return False
                if ln.kind != "+":
                    if in_block:
                        return False  # a block comment must be added whole
                    continue
                saw = True
                t = ln.text.strip()
                if in_block:
                    if "*/" in t:
                        if not t.endswith("*/") or t.count("*/") != 1:
                            return False
                        in_block = False
                elif not t or t.startswith("//"):
                    continue
                elif t.startswith("/*") and "*/" not in t[2:]:
                    in_block = True
                elif not (t.startswith("/*") and t.endswith("*/") and t.count("*/") == 1
                          and len(t) >= 4):
                    return False
        return saw and not in_block

    def hunk_for_new_line(self, line: int) -> Hunk | None:
        for h in self.hunks:
            if line in h.new_range():
                return h
        return None


@dataclass
class Patch:
    """One patch of a series (or one commit of a git range)."""

    subject: str
    files: list[FileChange] = field(default_factory=list)
    index: int | None = None  # n of [PATCH n/m]
    total: int | None = None  # m of [PATCH n/m]
    version: int = 1
    author: str = ""  # "Name <email>" as in From:
    date: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    base_commit: str | None = None
    commit: str | None = None  # git commit id in range/staged mode
    body: str = ""  # commit message without the subject line
    diff: str = ""  # raw diff text
    source: str = ""  # where it came from (file name, revision), for messages
    is_cover: bool = False

    @property
    def clean_subject(self) -> str:
        """Subject without the `[PATCH ...]` prefix."""
        s = self.subject.strip()
        while s.startswith("["):
            end = s.find("]")
            if end < 0:
                break
            s = s[end + 1 :].strip()
        return s

    @property
    def label(self) -> str:
        if self.index is not None and self.total:
            return f"{self.index}/{self.total}"
        return self.commit[:12] if self.commit else (self.source or "patch")


@dataclass
class Series:
    """What the sources hand on: the patches, oldest first, and an optional cover letter."""

    patches: list[Patch] = field(default_factory=list)
    cover: Patch | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "skipped merge commit abc123"
    origin: str = ""  # "range", "files", "staged", "scan"

    @property
    def version(self) -> int:
        if self.patches:
            return self.patches[0].version
        return 1

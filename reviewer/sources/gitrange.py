"""Commits of a git range, or the staged index, as a Series with git-blob images.

Flow position: **sources** -> model (and images: the provider comes with the series).
- `series_from_range(repo_dir, "A..B")`: one Patch per non-merge commit of the range, oldest
  first; merges are skipped with a note.  Range syntax follows git: `A..B`, `A..` (= A..HEAD),
  `..B`, `A...B`; a bare revision `A` means the single commit A (A^..A, like `git show A`).
  No range means `@{upstream}..HEAD`.
- `series_from_staged(repo_dir)`: the index against HEAD (or against nothing in a repository
  without commits), as one Patch; its post images are the index blobs, not the work tree.
Diff text comes from git itself and goes through the same parser as patch files, so hunks look
the same in every mode.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from email.utils import format_datetime

from reviewer.errors import InputError
from reviewer.images.base import ImageProvider
from reviewer.images.catfile import find_git_dir
from reviewer.images.gitblob import BlobIndexProvider, GitBlobProvider
from reviewer.model import Patch, Series
from reviewer.sources.diffparse import parse_diff

_DIFF_OPTS = ("-M", "--no-color", "--no-ext-diff", "--no-textconv",
              "--src-prefix=a/", "--dst-prefix=b/")
# one commit of `git log`: \x01 id \0 parents \0 author \0 email \0 date \0 message \x02 diff
_LOG_FORMAT = "--format=%x01%H%x00%P%x00%an%x00%ae%x00%ad%x00%B%x02"


class _GitFailed(Exception):
    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr


def _git(repo_dir: str, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in `repo_dir` (read-only commands only) and return its standard output."""
    proc = subprocess.run(["git", "-C", repo_dir, "-c", "core.quotepath=false", *args],
                          input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        raise _GitFailed(proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def _repo_dir(repo_dir: str | None) -> str:
    found = find_git_dir(repo_dir)
    if found is None:
        raise InputError(repo_dir or ".", "not a git repository")
    return found


def _branch_name(repo_dir: str) -> str:
    try:
        return _git(repo_dir, "symbolic-ref", "--short", "-q", "HEAD").decode().strip()
    except _GitFailed:
        return "HEAD (detached)"


def _default_range(repo_dir: str) -> str:
    try:
        _git(repo_dir, "rev-parse", "--verify", "--quiet", "@{upstream}")
    except _GitFailed:
        raise InputError(
            "@{upstream}",
            f"no upstream configured for branch {_branch_name(repo_dir)}; "
            "give a range such as origin/master..",
        ) from None
    return "@{upstream}..HEAD"


def _commits(repo_dir: str, rev_range: str) -> list[str]:
    """Commit ids of the range, oldest first, merges included."""
    if rev_range.startswith("-"):
        raise InputError(rev_range, "bad revision range")
    try:
        if ".." not in rev_range:  # a bare revision: that one commit, as `git show` would
            return _git(repo_dir, "rev-parse", "--verify", "--quiet",
                        f"{rev_range}^{{commit}}").decode().split()
        return _git(repo_dir, "rev-list", "--reverse", "--topo-order", rev_range,
                    "--").decode().split()
    except _GitFailed as exc:
        detail = exc.stderr.strip().splitlines()
        reason = detail[0].strip() if detail else ""
        why = f" ({reason})" if reason else ""
        raise InputError(rev_range, f"bad revision range{why}") from None


def _message_parts(message: str | bytes) -> tuple[str, str]:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    paragraphs = message.strip("\n").split("\n\n", 1)
    subject = " ".join(paragraphs[0].split())
    body = paragraphs[1].strip("\n") + "\n" if len(paragraphs) > 1 else ""
    return subject, body


def _logged(repo_dir: str, shas: list[str]) -> list[tuple[list[str], str, str, str, str, str]]:
    """(parents, id, author, date, message, diff) of each commit, in the order given: one
    `git log` for the whole series rather than a `git show` per commit."""
    out = _git(repo_dir, "log", "--no-walk=unsorted", "--stdin", "-p", *_DIFF_OPTS,
               "--date=iso-strict", _LOG_FORMAT, stdin="".join(f"{s}\n" for s in shas).encode())
    commits = []
    for chunk in out.split(b"\x01")[1:]:
        head, _, diff = chunk.partition(b"\x02")
        sha, parents, name, email, date, message = head.decode("utf-8", "replace").split(
            "\0", 5)
        when = format_datetime(datetime.fromisoformat(date)) if date else ""
        commits.append((parents.split(), sha, f"{name} <{email}>", when, message,
                        diff.decode("utf-8", "replace").lstrip("\n")))
    return commits


def series_from_range(repo_dir: str, rev_range: str | None) -> tuple[Series, ImageProvider]:
    """One Patch per non-merge commit of `rev_range` (default `@{upstream}..HEAD`).

    git itself makes the diffs (one `git log` for the series) and `git cat-file --batch` reads
    the blobs their `index` lines name, so a whole range costs two git processes beyond the
    range's resolution, and gitpython is not imported."""
    top = _repo_dir(repo_dir)
    rev_range = rev_range or _default_range(top)
    series = Series(origin="range")
    provider = BlobIndexProvider(top)
    shas = _commits(top, rev_range)
    for parents, sha, author, date, message, diff in (_logged(top, shas) if shas else []):
        subject, body = _message_parts(message)
        if len(parents) > 1:
            series.notes.append(f"skipped merge commit {sha[:12]} ({subject})")
            continue
        series.patches.append(Patch(
            subject=subject,
            files=parse_diff(diff, f"{rev_range} ({sha[:12]})") if diff.strip() else [],
            author=author,
            date=date,
            commit=sha,
            body=body,
            diff=diff,
            source=rev_range,
        ))
    total = len(series.patches)
    for i, patch in enumerate(series.patches, 1):
        patch.index, patch.total = i, total
    if not total:
        series.notes.append(f"no commits to review in {rev_range}")
    else:
        provider.holds_all(series)  # every blob of the series in one cat-file run
    return series, provider


def series_from_staged(repo_dir: str) -> tuple[Series, ImageProvider]:
    """The staged changes (index against HEAD) as a one-patch Series (the index is read with
    gitpython)."""
    from reviewer.images.gitobjects import CommitSide, EmptySide, IndexSide, open_repo

    repo = open_repo(repo_dir)
    if repo is None:
        raise InputError(repo_dir or ".", "not a git repository")
    top = repo.working_tree_dir or repo.git_dir
    diff = _git(top, "diff", "--cached", *_DIFF_OPTS, "--").decode("utf-8", "replace")
    patch = Patch(subject="staged changes", diff=diff, source="staged", index=1, total=1)
    patch.files = parse_diff(diff, "staged changes") if diff.strip() else []
    has_head = repo.head.is_valid()
    provider = GitBlobProvider()
    provider.add(patch, CommitSide(repo.head.commit) if has_head else EmptySide(), IndexSide(repo))
    series = Series(patches=[patch], origin="staged")
    if not patch.files:
        series.notes.append("nothing staged")
    return series, provider

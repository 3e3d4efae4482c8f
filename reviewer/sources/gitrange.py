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

from email.utils import format_datetime

import git

from reviewer.errors import InputError
from reviewer.images.base import ImageProvider
from reviewer.images.gitblob import GitBlobProvider
from reviewer.images.gitobjects import CommitSide, EmptySide, IndexSide, open_repo
from reviewer.model import Patch, Series
from reviewer.sources.diffparse import parse_diff

_DIFF_OPTS = ("-M", "--no-color", "--no-ext-diff", "--no-textconv",
              "--src-prefix=a/", "--dst-prefix=b/")


def _run_git(repo: git.Repo, *args: str) -> str:
    out = repo.git.execute(["git", "-c", "core.quotepath=false", *args],
                           stdout_as_string=False, strip_newline_in_stdout=False)
    assert isinstance(out, bytes)
    return out.decode("utf-8", "replace")


def _repo(repo_dir: str | None) -> git.Repo:
    repo = open_repo(repo_dir)
    if repo is None:
        raise InputError(repo_dir or ".", "not a git repository")
    return repo


def _branch_name(repo: git.Repo) -> str:
    try:
        return repo.active_branch.name
    except TypeError:
        return "HEAD (detached)"


def _default_range(repo: git.Repo) -> str:
    try:
        repo.git.rev_parse("--verify", "--quiet", "@{upstream}")
    except git.GitCommandError:
        raise InputError(
            "@{upstream}",
            f"no upstream configured for branch {_branch_name(repo)}; "
            "give a range such as origin/master..",
        ) from None
    return "@{upstream}..HEAD"


def _commits(repo: git.Repo, rev_range: str) -> list[str]:
    """Commit ids of the range, oldest first, merges included."""
    if rev_range.startswith("-"):
        raise InputError(rev_range, "bad revision range")
    try:
        if ".." not in rev_range:  # a bare revision: that one commit, as `git show` would
            return [repo.git.rev_parse("--verify", "--quiet", f"{rev_range}^{{commit}}")]
        return repo.git.rev_list("--reverse", "--topo-order", rev_range, "--").split()
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        reason = detail[0].strip().removeprefix("stderr: '").removesuffix("'") if detail else ""
        why = f" ({reason})" if reason else ""
        raise InputError(rev_range, f"bad revision range{why}") from None


def _message_parts(message: str | bytes) -> tuple[str, str]:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    paragraphs = message.strip("\n").split("\n\n", 1)
    subject = " ".join(paragraphs[0].split())
    body = paragraphs[1].strip("\n") + "\n" if len(paragraphs) > 1 else ""
    return subject, body


def _commit_patch(repo: git.Repo, commit: git.Commit, source: str) -> Patch:
    subject, body = _message_parts(commit.message)
    diff = _run_git(repo, "show", "--format=", "-p", *_DIFF_OPTS, commit.hexsha, "--")
    return Patch(
        subject=subject,
        files=parse_diff(diff, f"{source} ({commit.hexsha[:12]})") if diff.strip() else [],
        author=f"{commit.author.name} <{commit.author.email}>",
        date=format_datetime(commit.authored_datetime),
        commit=commit.hexsha,
        body=body,
        diff=diff,
        source=source,
    )


def series_from_range(repo_dir: str, rev_range: str | None) -> tuple[Series, ImageProvider]:
    """One Patch per non-merge commit of `rev_range` (default `@{upstream}..HEAD`)."""
    repo = _repo(repo_dir)
    rev_range = rev_range or _default_range(repo)
    series = Series(origin="range")
    provider = GitBlobProvider()
    for sha in _commits(repo, rev_range):
        commit = repo.commit(sha)
        if len(commit.parents) > 1:
            series.notes.append(f"skipped merge commit {sha[:12]} ({commit.summary})")
            continue
        patch = _commit_patch(repo, commit, rev_range)
        pre = CommitSide(commit.parents[0]) if commit.parents else EmptySide()
        provider.add(patch, pre, CommitSide(commit))
        series.patches.append(patch)
    total = len(series.patches)
    for i, patch in enumerate(series.patches, 1):
        patch.index, patch.total = i, total
    if not total:
        series.notes.append(f"no commits to review in {rev_range}")
    return series, provider


def series_from_staged(repo_dir: str) -> tuple[Series, ImageProvider]:
    """The staged changes (index against HEAD) as a one-patch Series."""
    repo = _repo(repo_dir)
    diff = _run_git(repo, "diff", "--cached", *_DIFF_OPTS, "--")
    patch = Patch(subject="staged changes", diff=diff, source="staged", index=1, total=1)
    patch.files = parse_diff(diff, "staged changes") if diff.strip() else []
    has_head = repo.head.is_valid()
    provider = GitBlobProvider()
    provider.add(patch, CommitSide(repo.head.commit) if has_head else EmptySide(), IndexSide(repo))
    series = Series(patches=[patch], origin="staged")
    if not patch.files:
        series.notes.append("nothing staged")
    return series, provider

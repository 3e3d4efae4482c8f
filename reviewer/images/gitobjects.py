"""Reading file contents out of git: a commit's tree, the index, or a blob named by an id.

Flow position: images.  The git-backed providers (gitblob.py, treeapply.py) and the git sources
read objects only through here, with gitpython; nothing here ever writes to a repository.
A *side* is one state of the tree (before or after a patch) that answers `read(path)` with the
file's bytes and blob id, or None when the file does not exist on that side.
"""

from __future__ import annotations

from typing import Protocol

import git
from gitdb.exc import BadName, BadObject


class Side(Protocol):
    def read(self, path: str) -> tuple[bytes, str] | None: ...


def open_repo(path: str | None) -> git.Repo | None:
    """The repository at or above `path` (the current directory when None), or None."""
    try:
        return git.Repo(path or ".", search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


class EmptySide:
    """No files at all: the pre side of a root commit or of a first commit."""

    def read(self, path: str) -> tuple[bytes, str] | None:
        return None


class CommitSide:
    """The files of one commit's tree."""

    def __init__(self, commit: git.Commit) -> None:
        self.commit = commit

    def read(self, path: str) -> tuple[bytes, str] | None:
        try:
            obj = self.commit.tree / path
        except KeyError:
            return None
        if obj.type != "blob":
            return None
        return obj.data_stream.read(), obj.hexsha


class IndexSide:
    """The files staged in the index (stage 0), not the work tree."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self.entries = repo.index.entries

    def read(self, path: str) -> tuple[bytes, str] | None:
        entry = self.entries.get((path, 0))
        if entry is None:
            return None
        return self.repo.odb.stream(entry.binsha).read(), entry.hexsha


def read_blob(repo: git.Repo, ident: str) -> tuple[bytes, str] | None:
    """The blob named by a (possibly abbreviated) id, or None when the repo lacks it."""
    try:
        obj = repo.rev_parse(ident)
    except (BadName, BadObject, ValueError, git.GitCommandError):
        return None
    if obj.type != "blob":
        return None
    return obj.data_stream.read(), obj.hexsha

"""Real images for patch files: the series applied in memory to a kernel checkout (`--tree DIR`).

Flow position: images.  The starting point is the series' `base-commit:` when the checkout's
repository has that commit, else HEAD; when DIR is not a git repository its files are read as
they are.  Patches are applied in order, in memory only (the checkout is never written): the post
image of a file in patch N is its pre image in patch N+1.  When a file's hunks do not apply, that
file falls back to fragment images for that patch (and for later patches touching it), and a
note says so.
"""

from __future__ import annotations

import os

import git

from reviewer.images.apply import HunkDoesNotApply, apply_hunks, join_text, split_text
from reviewer.images.base import FileImages, Image
from reviewer.images.fragment import fragment_images
from reviewer.images.gitobjects import CommitSide, open_repo
from reviewer.model import FileChange, Patch, Series

_UNKNOWN = object()  # a file whose content we lost (a hunk did not apply, a binary change)

Content = tuple[bytes, str] | None


class _DirSide:
    """Files read from a plain directory, refusing paths that leave it."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def read(self, path: str) -> Content:
        full = os.path.realpath(os.path.join(self.root, path))
        if not full.startswith(self.root + os.sep) or not os.path.isfile(full):
            return None
        try:
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        return data, Image.of(data).ident


def _base_commit(series: Series) -> str | None:
    for patch in series.patches:
        if patch.base_commit:
            return patch.base_commit
    return series.cover.base_commit if series.cover else None


class TreeApplyProvider:
    """Images from applying the series, in memory, to the tree at `tree_dir`."""

    mode = "tree"

    def __init__(self, series: Series, tree_dir: str) -> None:
        self.notes: list[str] = []
        self._state: dict[str, object] = {}
        self._images: dict[tuple[int, int], FileImages] = {}
        self._series = series  # keeps the ids used as keys alive
        self._base = self._open(series, tree_dir)
        for patch in series.patches:
            for change in patch.files:
                self._images[(id(patch), id(change))] = self._apply(patch, change)

    def _open(self, series: Series, tree_dir: str) -> CommitSide | _DirSide:
        repo = open_repo(tree_dir)
        if repo is None or not repo.head.is_valid():
            self.notes.append(f"{tree_dir} is not a git repository with commits: "
                              "files read from the directory")
            return _DirSide(tree_dir)
        base = _base_commit(series)
        if base:
            try:
                commit = repo.commit(base)
                self.notes.append(f"series applied to base-commit {commit.hexsha[:12]}")
                return CommitSide(commit)
            except (git.BadName, ValueError, git.GitCommandError):
                self.notes.append(f"base-commit {base[:12]} is not in {tree_dir}; "
                                  "series applied to HEAD")
        head = repo.head.commit
        if not base:
            self.notes.append(f"no base-commit given; series applied to HEAD {head.hexsha[:12]}")
        return CommitSide(head)

    def _current(self, path: str) -> object:
        if path not in self._state:
            self._state[path] = self._base.read(path)
        return self._state[path]

    def _fallback(self, patch: Patch, change: FileChange, why: str) -> FileImages:
        self.notes.append(f"patch {patch.label}: {change.path}: {why}; using fragment images")
        if change.new_path is not None:
            self._state[change.new_path] = _UNKNOWN
        return fragment_images(change)

    def _apply(self, patch: Patch, change: FileChange) -> FileImages:
        if change.is_binary:
            if change.new_path is not None:
                self._state[change.new_path] = _UNKNOWN
            return FileImages(change.path, change.old_path, fragment=True)
        pre: Content = None
        if change.old_path is not None:
            current = self._current(change.old_path)
            if current is _UNKNOWN:
                return self._fallback(patch, change, "an earlier change to it did not apply")
            if current is None:
                return self._fallback(patch, change, f"{change.old_path} not found in the tree")
            pre = current  # type: ignore[assignment]
        lines, final = split_text(pre[0]) if pre else ([], True)
        try:
            after = apply_hunks(lines, change.hunks)
        except HunkDoesNotApply as exc:
            return self._fallback(patch, change, str(exc))
        out = FileImages(change.path, change.old_path)
        if pre is not None:
            out.pre = [Image(pre[0], pre[1], 1)]
        if change.new_path is not None:
            data = join_text(after, final)
            same = pre is not None and data == pre[0]
            post = (data, pre[1]) if same and pre else (data, Image.of(data).ident)
            self._state[change.new_path] = post
            out.post = [Image(post[0], post[1], 1)]
        else:
            self._state[change.old_path or ""] = None
        return out

    def images(self, patch: Patch, change: FileChange) -> FileImages:
        found = self._images.get((id(patch), id(change)))
        return found if found is not None else fragment_images(change)

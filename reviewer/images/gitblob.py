"""Whole-file images from git blobs (`tree` mode).

Flow position: images.  Two providers:
- `GitBlobProvider` serves git ranges and the staged index: each patch is registered with the
  side before it (parent commit, HEAD, or nothing) and the side after it (the commit, or the
  index), and a file's images are its blobs on those sides.
- `BlobIndexProvider` serves patch files whose `index abc..def` lines name blobs that a local
  repository already holds (a series that is committed, as under `b4 prep`).  It reads them with
  one `git cat-file --batch` (`catfile.py`), so a per-patch check never imports gitpython.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reviewer.images.base import FileImages, Image
from reviewer.images.catfile import read_blobs
from reviewer.model import FileChange, Patch, Series

if TYPE_CHECKING:
    import git

    from reviewer.images.gitobjects import Side

Found = tuple[bytes, str] | None


def _image(found: Found) -> list[Image]:
    if found is None:
        return []
    data, ident = found
    return [Image(data, ident, 1)]


def _file_images(change: FileChange, pre: Callable[[], Found], post: Callable[[], Found],
                 ) -> FileImages:
    out = FileImages(change.path, change.old_path)
    if change.old_path is not None:
        out.pre = _image(pre())
    if change.new_path is not None:
        out.post = _image(post())
    return out


class GitBlobProvider:
    """Images read from the sides each patch was registered with."""

    mode = "tree"

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._sides: list[tuple[Patch, Side, Side]] = []

    def add(self, patch: Patch, pre: Side, post: Side) -> None:
        self._sides.append((patch, pre, post))

    def images(self, patch: Patch, change: FileChange) -> FileImages:
        sides = next(((pre, post) for known, pre, post in self._sides if known is patch), None)
        if sides is None:
            raise KeyError(f"patch {patch.label} was not registered with this provider")
        pre, post = sides
        return _file_images(change, lambda: pre.read(change.old_path or ""),
                            lambda: post.read(change.new_path or ""))


def _needed(change: FileChange) -> list[str | None]:
    """The blob ids a change needs (None where one is needed but the patch does not name it)."""
    if change.is_binary or not change.hunks:
        return []
    out: list[str | None] = []
    if change.old_path is not None:
        out.append(change.old_blob)
    if change.new_path is not None:
        out.append(change.new_blob)
    return out


class BlobIndexProvider:
    """Images from the blobs named on the patches' `index` lines."""

    mode = "tree"

    def __init__(self, repo: git.Repo | str) -> None:
        """`repo`: a gitpython Repo or the path of a directory inside the repository."""
        self.repo_dir = repo if isinstance(repo, str) else (repo.working_tree_dir or
                                                             repo.git_dir)
        self.notes: list[str] = []
        self._cache: dict[str, Found] = {}

    def _read(self, ident: str | None) -> Found:
        if ident is None:
            return None
        if ident not in self._cache:
            self._cache.update(read_blobs(self.repo_dir, [ident]))
        return self._cache.get(ident)

    def holds_all(self, series: Series) -> bool:
        """True when every blob the series' hunks need is in the repository."""
        needed = [i for p in series.patches for c in p.files for i in _needed(c)]
        if not needed or None in needed:
            return False
        self._cache.update(read_blobs(self.repo_dir, [i for i in needed
                                                      if i and i not in self._cache]))
        return all(self._read(ident) is not None for ident in needed)

    def images(self, patch: Patch, change: FileChange) -> FileImages:
        return _file_images(change, lambda: self._read(change.old_blob),
                            lambda: self._read(change.new_blob))

"""Chooses the image provider for a series read from patch files.

Flow position: images.  In order of preference: `--tree DIR` (apply the series to that checkout),
a git repository (the current directory or `-C DIR`) that already holds every blob named on the
patches' `index` lines, and last the hunks themselves (`fragment` mode).
"""

from __future__ import annotations

import os

from reviewer.errors import InputError
from reviewer.images.base import ImageProvider
from reviewer.images.catfile import find_git_dir
from reviewer.images.fragment import FragmentProvider
from reviewer.images.gitblob import BlobIndexProvider
from reviewer.model import Series


def provider_for_files(series: Series, tree: str | None, repo_dir: str | None) -> ImageProvider:
    if tree is not None:
        if not os.path.isdir(tree):
            raise InputError(tree, "--tree: no such directory")
        from reviewer.images.treeapply import TreeApplyProvider  # gitpython: only here

        return TreeApplyProvider(series, tree)
    repo = find_git_dir(repo_dir)
    if repo is not None:
        blobs = BlobIndexProvider(repo)
        if blobs.holds_all(series):
            return blobs
    return FragmentProvider()

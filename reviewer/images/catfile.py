"""Blobs named by id, read with one `git cat-file --batch` process; no gitpython.

Flow position: images.  Patch files reviewed inside a repository that holds their blobs (a
series under `b4 prep`, a per-patch check run by b4) need only a handful of objects named on the
`index abc..def` lines.  Importing gitpython for that costs more than the rest of such a check,
so `BlobIndexProvider` reads them here: one git process for all ids, never writing anything.
`find_git_dir` tells, without starting git, whether a directory is inside a repository at all.
"""

from __future__ import annotations

import os
import subprocess

Found = tuple[bytes, str] | None  # (content, full blob id)


def find_git_dir(path: str | None) -> str | None:
    """The work tree (or bare directory) at or above `path` holding `.git`, or None."""
    if os.environ.get("GIT_DIR"):
        return os.path.abspath(path or ".")
    d = os.path.abspath(path or ".")
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def read_blobs(repo_dir: str, idents: list[str]) -> dict[str, Found]:
    """Each id (full or abbreviated) -> its blob's bytes and full id; None when the repository
    lacks it, when it is ambiguous or when it names something other than a blob."""
    wanted = list(dict.fromkeys(i for i in idents if i and "\n" not in i and " " not in i))
    out: dict[str, Found] = dict.fromkeys(wanted)
    if not wanted:
        return out
    try:
        proc = subprocess.run(
            ["git", "-C", repo_dir, "cat-file", "--batch"], input="".join(
                f"{i}\n" for i in wanted).encode(), capture_output=True, check=False)
    except OSError:
        return out
    if proc.returncode != 0:
        return out
    data, pos = proc.stdout, 0
    for ident in wanted:
        eol = data.find(b"\n", pos)
        if eol < 0:
            break
        header = data[pos:eol].split()
        pos = eol + 1
        if len(header) != 3:  # "<id> missing" / "<id> ambiguous"
            continue
        sha, kind, size = header[0].decode(), header[1], int(header[2])
        body = data[pos:pos + size]
        pos += size + 1  # the content is followed by a newline
        if kind == b"blob":
            out[ident] = (body, sha)
    return out

"""Images rebuilt from the hunks alone, for when no tree holds the files (`fragment` mode).

Flow position: images.  Each hunk gives one piece per side: the post piece is its context and
added lines starting at `new_start`, the pre piece its context and removed lines starting at
`old_start`.  A function is then analysable only where a hunk shows it whole; the pieces keep
the real line numbers so findings still point at the user's lines.
"""

from __future__ import annotations

from reviewer.images.base import FileImages, Image
from reviewer.model import FileChange, Patch


def to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _piece(lines: list[str]) -> bytes:
    return to_bytes("".join(line + "\n" for line in lines))


def fragment_images(change: FileChange) -> FileImages:
    out = FileImages(change.path, change.old_path, fragment=True)
    if change.is_binary:
        return out
    for hunk in change.hunks:
        pre = [ln.text for ln in hunk.lines if ln.kind in (" ", "-")]
        post = [ln.text for ln in hunk.lines if ln.kind in (" ", "+")]
        if pre and change.old_path is not None:
            out.pre.append(Image.of(_piece(pre), hunk.old_start))
        if post and change.new_path is not None:
            out.post.append(Image.of(_piece(post), hunk.new_start))
    return out


class FragmentProvider:
    """Images from the hunks, one piece per hunk per side."""

    mode = "fragment"

    def __init__(self) -> None:
        self.notes: list[str] = []

    def images(self, patch: Patch, change: FileChange) -> FileImages:
        return fragment_images(change)

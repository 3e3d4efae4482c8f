"""The image types every provider returns and the provider protocol.

Flow position: images.  An `Image` is the bytes of one file (tree mode) or of one hunk's side
(fragment mode) with the real line number of its first line, so that findings point at the
user's lines whatever the source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from reviewer.model import FileChange, Patch


@dataclass(frozen=True)
class Image:
    text: bytes
    ident: str  # blob id or content hash: the parse cache key
    first_line: int = 1  # real line number of the first line of `text`

    @staticmethod
    def of(text: bytes, first_line: int = 1) -> Image:
        return Image(text, "sha1:" + hashlib.sha1(text).hexdigest(), first_line)


@dataclass
class FileImages:
    path: str
    old_path: str | None
    pre: list[Image] = field(default_factory=list)  # empty when the file is new
    post: list[Image] = field(default_factory=list)  # empty when the file is deleted
    fragment: bool = False  # True: pieces rebuilt from hunks, not whole files


class ImageProvider(Protocol):
    mode: str  # "tree" or "fragment"

    def images(self, patch: Patch, change: FileChange) -> FileImages: ...

"""Reads the `[PATCH vN n/m]` prefix of a subject line.

Flow position: sources.  The numbering in the leading bracket groups orders a series given as
files or as an mbox, finds the cover letter (n = 0) and the series version.  Any bracket group
counts (`[RFC PATCH v2 3/7]`, `[PATCH net-next v3 01/10]`, a web archive's bare `[01/10]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(r"^\s*(?:(?:re|aw|fwd?)\s*:\s*)*((?:\[[^\]]*\]\s*)+)", re.IGNORECASE)
_GROUP = re.compile(r"\[([^\]]*)\]")
_VERSION = re.compile(r"^v(\d+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^(\d+)/(\d+)$")
_REPLY = re.compile(r"^\s*(re|aw)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Numbering:
    version: int = 1
    index: int | None = None
    total: int | None = None


def numbering(subject: str) -> Numbering:
    m = _PREFIX.match(subject)
    if not m:
        return Numbering()
    version, index, total = 1, None, None
    for group in _GROUP.findall(m.group(1)):
        for token in re.split(r"[\s,]+", group.strip()):
            v = _VERSION.match(token)
            if v:
                version = int(v.group(1))
                continue
            n = _NUMBER.match(token)
            if n and index is None:
                index, total = int(n.group(1)), int(n.group(2))
    return Numbering(version, index, total)


def is_reply(subject: str) -> bool:
    return bool(_REPLY.match(subject))

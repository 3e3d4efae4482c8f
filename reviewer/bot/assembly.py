"""Series assembly: which series a patch joins, when a series is ready, and its earlier version.

Flow position: bot message -> **assembly** -> review.  A series is identified by its thread (the
first Message-ID its messages reference: the cover letter for `git send-email` threads), its
version, its size and its author, so that a v2 posted in reply to v1's thread is still its own
series, and a single patch is a series of one.  Patches may arrive in any order and across polls:
a series waits until patches 1..m (and the cover letter the patches point at) are in, or until
`--wait` seconds have passed since its first message, after which it is reviewed as far as it
goes and the missing numbers are kept for the reply.  A later version is linked to the earlier one
by thread (v2 posted in reply to v1) or by topic: the normalised subject of the cover letter (or of
patch 1) and the author's address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewer.bot.message import Incoming, read_message
from reviewer.bot.state import SeriesRow, State
from reviewer.model import Patch, Series

_NOISE = re.compile(r"[^a-z0-9]+")


def series_id(inc: Incoming) -> str:
    assert inc.patch is not None
    p = inc.patch
    total = p.total or 1
    root = inc.msgid if (total == 1 and inc.kind == "patch" and not inc.references) else inc.root
    return f"{root}|v{p.version}|{total}|{inc.author}"


def series_row(inc: Incoming, now: float) -> tuple:
    """The row a series gets when its first message arrives (topic is set at review time)."""
    assert inc.patch is not None
    p = inc.patch
    return (series_id(inc), inc.root, p.version, p.total or 1, inc.author, "",
            p.subject, now, "[]")


def topic(subject: str, author: str) -> str:
    """What stays the same from v1 to v2: the subject without its prefix, and the author."""
    s = subject.strip()
    while s.lower().startswith(("re:", "fwd:")):
        s = s.split(":", 1)[1].strip()
    while s.startswith("["):
        end = s.find("]")
        if end < 0:
            break
        s = s[end + 1:].strip()
    words = _NOISE.sub(" ", s.lower()).split()
    return " ".join(words) + "|" + author


@dataclass
class Assembled:
    """A series ready for review (complete, or given up waiting for)."""

    row: SeriesRow
    series: Series
    messages: dict[int, str]  # patch number -> Message-ID (0: the cover letter)
    missing: list[int] = field(default_factory=list)
    topic: str = ""
    previous: SeriesRow | None = None
    lists: list[str] = field(default_factory=list)


def assemble(state: State, row: SeriesRow, now: float, wait: float,
             own: set[str]) -> Assembled | None:
    """The series when it is ready, else None (still waiting)."""
    patches: dict[int, Incoming] = {}
    cover: Incoming | None = None
    for stored in state.series_messages(row.id):
        inc = read_message(stored.raw, stored.source, own)
        if inc.patch is None:
            continue
        if inc.kind == "cover":
            cover = cover or inc
        elif inc.patch.index is not None and inc.patch.index not in patches:
            patches[inc.patch.index] = inc
    missing = [i for i in range(1, row.total + 1) if i not in patches]
    needs_cover = (row.total > 1 and cover is None
                   and row.root not in {i.msgid for i in patches.values()}
                   and not state.has_message(row.root))
    expired = now - row.first_seen >= wait
    if (missing or needs_cover) and not expired:
        return None
    series = Series(origin="bot")
    series.patches = [patches[i].patch for i in sorted(patches)]  # type: ignore[misc]
    series.cover = cover.patch if cover else None
    if missing:
        series.notes.append("patch(es) " + ", ".join(f"{i}/{row.total}" for i in missing)
                            + " did not arrive in time; reviewed as far as the series goes")
    messages = {i: inc.msgid for i, inc in patches.items()}
    if cover:
        messages[0] = cover.msgid
    head: Patch | None = series.cover or (series.patches[0] if series.patches else None)
    found = Assembled(row, series, messages, missing, lists=row.lists)
    found.topic = topic(head.subject if head else row.subject, row.author)
    found.previous = _previous(state, row, found.topic)
    return found


def _previous(state: State, row: SeriesRow, topic_key: str) -> SeriesRow | None:
    """The earlier version: the series whose thread this one was posted into, else by topic."""
    owner = state.series_of_message(row.root)
    if owner and owner != row.id:
        earlier = state.series(owner)
        if earlier and earlier.version < row.version and earlier.status == "reviewed":
            return earlier
    return state.previous_version(topic_key, row.version)

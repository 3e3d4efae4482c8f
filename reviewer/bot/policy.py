"""When the bot may speak: only on series with something to say, only on allowed lists, never to
itself, never faster than the rate limit, never twice on one patch of one series version.

Flow position: bot compose -> **policy** -> delivery.  The decisions are small and kept together so
they can be read (and changed) in one place; the state answers the questions that need memory
(replies already sent in the last hour, a slot already used).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from reviewer.bot.compose import Comparison, Reply
from reviewer.bot.state import State

HOUR = 3600.0


@dataclass
class Policy:
    lists: set[str] = field(default_factory=set)  # allowed list addresses; empty: every list
    own: set[str] = field(default_factory=set)  # the bot's own addresses
    rate: int = 30  # replies per hour at most; 0: no limit

    def listed(self, addresses: list[str]) -> bool:
        """A series is followed when any of its messages names an allowed list (To, Cc, List-Id)."""
        if not self.lists:
            return True
        return any(a.lower() in self.lists for a in addresses)

    def worth_replying(self, findings: int, comparison: Comparison | None) -> bool:
        """Findings now, or findings of the previous version to report on (gone or still there)."""
        if findings:
            return True
        return comparison is not None and bool(comparison.gone or comparison.remain)

    def unused(self, state: State, replies: list[Reply]) -> list[Reply]:
        """Drop replies whose slot (one patch of one series version) was already answered."""
        return [r for r in replies if not state.slot_taken(r.slot)]

    def room_for(self, state: State, count: int, now: float | None = None) -> bool:
        if self.rate <= 0 or count == 0:
            return True
        now = time.time() if now is None else now
        return state.replies_since(now - HOUR) + count <= self.rate

"""What one incoming mail is to the bot: a patch, a cover letter, something else, or unreadable.

Flow position: bot sources -> **message** -> assembly.  The headers the bot needs for threading and
policy (Message-ID, In-Reply-To, References, List-Id, To, Cc, the bot's own marker) are read with
the stdlib `email` parser; the patch itself is read by the project's sources
(`reviewer.sources.patchfile.patch_from_message`), the same parsing `check` uses on files.
Nothing here raises: a message that cannot be used comes back with kind `broken` and a reason.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field

from reviewer.errors import ReviewError
from reviewer.model import Patch
from reviewer.sources.patchfile import patch_from_message
from reviewer.sources.subject import is_reply

BOT_HEADER = "X-Notifier-Review-Bot"
_MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass
class Incoming:
    msgid: str
    kind: str  # patch, cover, other, broken, own
    raw: bytes
    subject: str = ""
    author: str = ""  # the address only, lower case
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)  # List-Id, To and Cc addresses, lower case
    patch: Patch | None = None
    reason: str = ""  # why broken / other

    @property
    def root(self) -> str:
        """The thread's first message as this one names it."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.msgid


def _text(value: object) -> str:
    try:
        text = str(value)
    except Exception:
        text = str(getattr(value, "_raw", "") or "")
    return " ".join(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").split())


def _ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def _addresses(values: list[str]) -> list[str]:
    return [addr.lower() for _, addr in email.utils.getaddresses(values) if "@" in addr]


def read_message(raw: bytes, source: str, own_addresses: set[str]) -> Incoming:
    """Classify one message's bytes; never raises."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # the parser is lenient; this is the very last resort
        return Incoming(_hash_id(raw), "broken", raw, reason=f"unparsable: {exc}")
    header = {k: _text(msg.get(k, "")) for k in ("Message-ID", "In-Reply-To", "References",
                                                   "Subject", "From", "List-Id")}
    ids = _ids(header["Message-ID"])
    msgid = ids[0] if ids else _hash_id(raw)
    refs = _ids(header["References"])
    irt = _ids(header["In-Reply-To"])
    author = _addresses([header["From"]])
    lists = _addresses([_text(v) for k in ("To", "Cc") for v in msg.get_all(k, [])])
    list_id = _ids(header["List-Id"])
    lists += [lid.lower() for lid in list_id]
    found = Incoming(msgid, "other", raw, subject=header["Subject"],
                     author=author[0] if author else "", in_reply_to=irt[0] if irt else None,
                     references=refs, lists=sorted(set(lists)))
    if irt and irt[0] not in refs:
        found.references = refs + irt
    if msg.get(BOT_HEADER) is not None or found.author in own_addresses:
        found.kind = "own"
        return found
    if not ids:
        found.kind, found.reason = "broken", "no Message-ID"
        return found
    if is_reply(found.subject):
        found.reason = "a reply"
        return found
    try:
        patch = patch_from_message(raw, f"{source}:<{msgid}>")
    except ReviewError as exc:
        found.kind, found.reason = "broken", exc.one_line()
        return found
    except Exception as exc:  # defensive: one bad mail must not stop the bot
        found.kind, found.reason = "broken", f"{type(exc).__name__}: {exc}"
        return found
    if patch is None:
        found.reason = "no diff"
        return found
    if _undecodable(patch):
        found.kind, found.reason = "broken", "undecodable text in the patch"
        return found
    found.patch = patch
    found.kind = "cover" if patch.is_cover else "patch"
    if patch.index is None:
        patch.index, patch.total = 1, 1
    return found


def _undecodable(patch: Patch) -> bool:
    """A diff holding replacement characters was mangled in transit: reviewing it would lie."""
    return "\ufffd" in patch.diff


def _hash_id(raw: bytes) -> str:
    return "sha1-" + hashlib.sha1(raw).hexdigest() + "@notifier-review.invalid"

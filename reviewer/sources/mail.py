"""Reads mail: splits an mbox into messages and turns one message into headers and body text.

Flow position: sources.  patchfile.py asks this module what a file holds.  Messages are parsed
with the stdlib `email` package; the mbox is split here (not with `mailbox.mbox`) because the
input may come from standard input, and because only a real `From_` line (`From <id> <date>`
after a blank line) starts a message, so a body line beginning with "From " does not.
Undecodable bytes are replaced, never fatal.

Headers are read as `email.policy.default` reads them (its `HeaderRegistry`, on the raw value with
line breaks removed: RFC 2047 words decoded, addresses and dates in their canonical form), but the
message is parsed with the stdlib's compat32 default: importing `email.policy` (and its content
manager) costs more start-up time than a per-patch check should, and nothing here needs it.  A
plain message (the usual format-patch mail) is read by `plainmail` with the same result and
without importing `email` at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from reviewer.sources.plainmail import read_plain

if TYPE_CHECKING:
    from email.headerregistry import HeaderRegistry
    from email.message import Message

_FROM_LINE = re.compile(rb"^From \S+ +\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}")
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*:")
_KEPT = ("Subject", "From", "Date", "Message-ID", "In-Reply-To", "References", "To", "Cc")
_LINE_BREAK = re.compile(r"\n|\r")  # what email.policy.default drops from a raw header value


@cache
def _registry() -> HeaderRegistry:
    """The header factory of email.policy.default (imported only when a mail needs it)."""
    from email.headerregistry import HeaderRegistry

    return HeaderRegistry()


@dataclass
class Mail:
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def is_mbox(data: bytes) -> bool:
    return bool(_FROM_LINE.match(data.lstrip(b"\r\n")))


def is_mail(data: bytes) -> bool:
    """True when `data` starts with an RFC 2822 header block naming a Subject or a From."""
    head = data.lstrip(b"\r\n").split(b"\n\n", 1)[0].replace(b"\r", b"")
    lines = head.split(b"\n")
    if not lines or not _HEADER_LINE.match(lines[0]):
        return False
    names = set()
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            continue
        if not _HEADER_LINE.match(line):
            return False
        names.add(line.split(b":", 1)[0].lower())
    return bool(names & {b"subject", b"from"})


def split_mbox(data: bytes) -> list[bytes]:
    """The messages of an mbox, each without its From_ line."""
    messages: list[bytes] = []
    current: list[bytes] | None = None
    previous_blank = True
    for line in data.splitlines(keepends=True):
        if previous_blank and _FROM_LINE.match(line):
            if current is not None:
                messages.append(b"".join(current))
            current = []
        elif current is not None:
            current.append(line)
        previous_blank = not line.strip()
    if current is not None:
        messages.append(b"".join(current))
    return messages


def _clean(text: str) -> str:
    """Unfold, and turn any undecodable leftovers into replacement characters."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(text.split())


def header_values(msg: Message, name: str) -> list:
    """What `msg.get_all(name)` gives under email.policy.default (header objects, str-like)."""
    registry = _registry()
    return [registry(k, "".join(_LINE_BREAK.split(v)))
            for k, v in msg.raw_items() if k.lower() == name.lower()]


def _header(msg: Message, name: str) -> str:
    try:
        values = header_values(msg, name)
    except Exception:  # a header the registry cannot parse: fall back to the raw text
        values = [v for k, v in msg.raw_items() if k.lower() == name.lower()]
    if not values:
        return ""
    out = []
    for value in values:
        try:
            out.append(_clean(str(value)))
        except Exception:
            out.append(_clean(getattr(value, "_raw", "") or ""))
    return ", ".join(out) if name in ("To", "Cc") else out[0]


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def parse_mail(data: bytes) -> Mail:
    plain = read_plain(data, _KEPT)
    if plain is not None:
        return Mail(*plain)
    return parse_with_email(data)


def parse_with_email(data: bytes) -> Mail:
    """The reference reading, with the stdlib `email` package (imported only here: start-up
    time counts in a per-patch process)."""
    import email

    msg = email.message_from_bytes(data)
    mail = Mail({name: _header(msg, name) for name in _KEPT})
    texts = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_subtype() == "html":
            continue
        texts.append(_decode_part(part))
    mail.body = "\n".join(texts).replace("\r\n", "\n")
    return mail

"""Headers of a review reply: sender, recipients, subject and threading, built safely.

Flow position: voices (used by the mailing-list reply).  Every value that came from a patch or
the command line is first made one line (CR, LF and other control characters become spaces), so
nothing can start a new header; addresses are parsed with `email.utils` and set as
`email.headerregistry.Address` objects, so the stdlib encodes non-ASCII names (RFC 2047) and
refuses malformed addresses.  `REPLY_POLICY` is the stdlib default policy except for
In-Reply-To and References: the default treats them as free text and turns a message id too
long for one line into RFC 2047 encoded words, which no mail client matches against a
Message-ID, so the reply would fall out of its thread.  Here they are written as the ids they
are, folded between ids when there are several.  Nothing here renders a body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import policy as email_policy
from email.errors import HeaderParseError
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from reviewer.errors import UsageError
from reviewer.model import Patch

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_REPLY_PREFIX = re.compile(r"^\s*re\s*:", re.I)
_ANGLE = re.compile(r"(.*?)\s*<([^<>]*)>\s*")


class MessageIdsHeader:
    """In-Reply-To / References: message ids, never encoded, folded only between ids."""

    max_count = 1

    @classmethod
    def parse(cls, value: str, kwds: dict) -> None:
        kwds["decoded"] = " ".join(str(value).split())
        kwds["parse_tree"] = UnstructuredHeader.value_parser(kwds["decoded"])
        kwds["defects"] = []

    def fold(self, *, policy: email_policy.Policy) -> str:
        ids = str(self).split()
        lines = [f"{self.name}: {ids[0]}" if ids else f"{self.name}:"]  # type: ignore[attr-defined]
        width = policy.max_line_length or 78
        for msgid in ids[1:]:
            if len(lines[-1]) + 1 + len(msgid) <= width:
                lines[-1] += " " + msgid
            else:
                lines.append(" " + msgid)
        return policy.linesep.join(lines) + policy.linesep


def _reply_policy() -> email_policy.EmailPolicy:
    registry = HeaderRegistry()
    registry.map_to_type("in-reply-to", MessageIdsHeader)
    registry.map_to_type("references", MessageIdsHeader)
    return email_policy.default.clone(header_factory=registry)


REPLY_POLICY = _reply_policy()


def one_line(value: str) -> str:
    """`value` with control characters (CR and LF among them) turned to spaces, runs collapsed."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _address(name: str, addr: str) -> Address | None:
    name, addr = one_line(name), one_line(addr)
    if "@" not in addr or " " in addr:
        return None
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError, HeaderParseError):
        return None


def addresses(values: Iterable[str]) -> list[Address]:
    """Every usable address in `values` (each may hold several, comma separated), in order."""
    out: list[Address] = []
    seen: set[str] = set()
    cleaned = [one_line(v) for v in values if v]
    for name, addr in getaddresses(cleaned):
        a = _address(name, addr)
        if a is None or a.addr_spec.lower() in seen:
            continue
        seen.add(a.addr_spec.lower())
        out.append(a)
    return out


def mailbox(value: str) -> Address | None:
    """One address, `Name <addr>` or `addr (Name)`; the angle brackets win over anything else.

    `email.utils.parseaddr` would pick an address out of a display name holding one
    (`Eve Bcc: x@y <eve@z>` gives x@y), so the `<addr>` form is split here first.
    """
    value = one_line(value)
    m = _ANGLE.fullmatch(value)
    if m:
        name = m.group(1).strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"')
        return _address(name, m.group(2).strip())
    return _address(*parseaddr(value))


def sender(value: str, what: str = "--from") -> Address:
    """The From address, from `--from` or the git identity; UsageError when it is not one."""
    a = mailbox(value)
    if a is None:
        raise UsageError(what, f"not a mail address: {one_line(value)!r}")
    return a


def recipients(patch: Patch, me: Address, no_cc: bool) -> tuple[list[Address], list[Address]]:
    """(To, Cc): the patch author; the original To and Cc unless `no_cc`; never the sender.

    A patch without a usable author is answered to its original recipients instead.
    """
    mine = me.addr_spec.lower()
    author = mailbox(patch.author) if patch.author else None
    to = [author] if author is not None and author.addr_spec.lower() != mine else []
    others = addresses(list(patch.to) + list(patch.cc))
    if not to:
        to, others = others[:1], others[1:]
        to = [a for a in to if a.addr_spec.lower() != mine]
    if no_cc:
        return to, []
    taken = {a.addr_spec.lower() for a in to} | {mine}
    return to, [a for a in others if a.addr_spec.lower() not in taken]


def reply_subject(patch: Patch) -> str:
    subject = one_line(patch.subject) or one_line(patch.label)
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def bracketed(msgid: str) -> str:
    msgid = one_line(msgid).strip("<>").replace(" ", "")
    return f"<{msgid}>"


def reply_message(patch: Patch, me: Address, *, no_cc: bool, fallback: str | None,
                  date: str | None = None, msgid: str | None = None) -> EmailMessage:
    """A reply to `patch` with its addressing, subject and threading set (the list voice and
    the bot both start from here); `date` and `msgid` when the caller sets them itself."""
    msg = EmailMessage(policy=REPLY_POLICY)
    to, cc = recipients(patch, me, no_cc)
    msg["From"] = me
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = reply_subject(patch)
    if date is not None:
        msg["Date"] = date
    if msgid is not None:
        msg["Message-ID"] = msgid
    parent, refs = thread_headers(patch, fallback)
    if parent:
        msg["In-Reply-To"] = parent
        msg["References"] = " ".join(refs)
    return msg


def thread_headers(patch: Patch, fallback: str | None) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a reply to `patch`; `fallback` when it has no Message-ID."""
    if patch.message_id:
        parent = bracketed(patch.message_id)
        refs = [bracketed(r) for r in patch.references if r]
        if not refs and patch.in_reply_to:
            refs = [bracketed(patch.in_reply_to)]
        refs = [r for r in refs if r != parent] + [parent]
        return parent, refs
    if fallback:
        return fallback, [fallback]
    return None, []

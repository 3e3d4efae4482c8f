"""Reads a plain patch mail without the stdlib `email` package, when that gives the same answer.

Flow position: sources.  `mail.parse_mail` asks this module first.  b4 starts one `b4-check`
process per patch, and importing `email` (with `email.utils`: socket, datetime, urllib.parse,
random) costs about 13 ms of each.  Most patch mails are plain, as git format-patch and b4 write
them: an ASCII header block without encoded words, one text/plain part in 7bit or 8bit.  For a
message of that shape this module returns exactly the headers and body that the `email` route
of `mail.py` returns (`tests/test_plainmail.py` compares the two on every message it accepts):

- unstructured headers (Subject, In-Reply-To, References) are their unfolded text;
- Message-ID is accepted as one `<dot-atom@dot-atom>`;
- From, To and Cc are accepted as lists of `addr@domain` or `Display Name <addr@domain>` whose
  names hold no RFC 5322 specials, and rendered as `HeaderRegistry` renders them (one space
  between the words of a name);
- Date is accepted in RFC 5322 form (`Tue, 3 Jan 2023 10:00:00 -0800`) and rendered as
  `email.utils.format_datetime` renders it (two-digit day, weekday of the date itself).

Anything else (encoded words, 8-bit header bytes, other MIME types or encodings, a header block
the stdlib would repair, a name with a dot) gets None, and `mail.py` uses `email`.
"""

from __future__ import annotations

import re

_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")  # what email.feedparser takes for one
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_MSG_ID = re.compile(rf"\s*<{_DOT_ATOM}@{_DOT_ATOM}>\s*")
_ADDR = re.compile(rf"\s*(?:((?:{_ATEXT}+\s+)*{_ATEXT}+)\s*<({_DOT_ATOM}@{_DOT_ATOM})>"
                   rf"|({_DOT_ATOM}@{_DOT_ATOM}))\s*")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = re.compile(r"\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) "
                   r"(\d\d):(\d\d):(\d\d) ([+-](?:[01]\d|2[0-3])[0-5]\d)\s*")
_ENCODED = ("quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue")
_PARAM_TEXT = r";\s*([A-Za-z0-9_-]+)=(?:\"([^\"\\]*)\"|([^\s;\"]+))"  # `; name=value`
_PARAM = re.compile(_PARAM_TEXT)
_CONTENT_TYPE = re.compile(rf"\s*text/plain\s*((?:{_PARAM_TEXT}\s*)*)", re.IGNORECASE)
_ADDRESS_HEADERS = frozenset({"from", "to", "cc"})
_UNSTRUCTURED_HEADERS = frozenset({"subject", "in-reply-to", "references"})


def read_plain(data: bytes, kept: tuple[str, ...]) -> tuple[dict[str, str], str] | None:
    """(the `kept` headers, the body text) as mail.py's `email` route reads them, or None
    when the message is not plain enough to be sure."""
    raw = _header_block(data)
    if raw is None:
        return None
    fields, body = raw
    headers: dict[str, str] = {}
    for name in kept:
        values = [v for k, v in fields if k.lower() == name.lower()]
        rendered = [_render(name, v) for v in values]
        if any(r is None for r in rendered):
            return None
        texts = [" ".join(r.split()) for r in rendered if r is not None]
        if not texts:
            headers[name] = ""
        else:
            headers[name] = ", ".join(texts) if name in ("To", "Cc") else texts[0]
    text = _body_text(fields, body)
    if text is None:
        return None
    return headers, text.replace("\r\n", "\n")


def _header_block(data: bytes) -> tuple[list[tuple[str, str]], bytes] | None:
    """The header fields (name, unfolded value) and the body bytes, or None unless every line
    before the first empty one is an ASCII header line or its continuation."""
    end = data.find(b"\n\n")
    if end < 0:
        return None
    block, body = data[:end + 1], data[end + 2:]
    if b"\r" in block or b"=?" in block or not block.isascii() or block.startswith(b"From "):
        return None
    fields: list[tuple[str, list[str]]] = []
    for line in block.decode("ascii").split("\n")[:-1]:
        if line[:1] in (" ", "\t"):
            if not fields:
                return None
            fields[-1][1].append(line)
            continue
        if not _HEADER_LINE.match(line.encode("ascii")):
            return None
        name, value = line.split(":", 1)
        fields.append((name, [value.lstrip(" \t")]))
    return [(name, "".join(parts)) for name, parts in fields], body


def _render(name: str, value: str) -> str | None:
    """The header value as `email.headerregistry` gives it, when that is certain."""
    key = name.lower()
    if key in _UNSTRUCTURED_HEADERS or (
            not value.strip() and key in _ADDRESS_HEADERS | {"message-id"}):
        return value
    if key == "message-id":
        return value if _MSG_ID.fullmatch(value) else None
    if key in _ADDRESS_HEADERS:
        return _addresses(value)
    if key == "date":
        return _date(value)
    return None


def _addresses(value: str) -> str | None:
    out = []
    for item in value.split(","):
        m = _ADDR.fullmatch(item)
        if m is None:
            return None
        name, addr, bare = m.groups()
        out.append(f"{' '.join(name.split())} <{addr}>" if name else bare)
    return ", ".join(out)


def _date(value: str) -> str | None:
    m = _DATE.fullmatch(value)
    if m is None or m.group(2) not in _MONTHS:
        return None
    day, year = int(m.group(1)), int(m.group(3))
    month = _MONTHS.index(m.group(2)) + 1
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if not 1 <= day <= _days_in(year, month) or hour > 23 or minute > 59 or second > 59:
        return None
    return (f"{_DAYS[_weekday(year, month, day)]}, {day:02d} {m.group(2)} {year:04d} "
            f"{m.group(4)}:{m.group(5)}:{m.group(6)} {m.group(7)}")


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _weekday(year: int, month: int, day: int) -> int:
    """Monday 0 (as datetime's weekday()), by Sakamoto's method."""
    offsets = (0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4)
    y = year - (month < 3)
    sunday_first = (y + y // 4 - y // 100 + y // 400 + offsets[month - 1] + day) % 7
    return (sunday_first + 6) % 7


def _body_text(fields: list[tuple[str, str]], body: bytes) -> str | None:
    """The body as one text/plain part in 7bit/8bit decodes, or None for anything else."""
    first = {}
    for name, value in fields:
        first.setdefault(name.lower(), value)
    charset = "utf-8"
    ctype = first.get("content-type")
    if ctype is not None:
        m = _CONTENT_TYPE.fullmatch(ctype)
        if m is None:
            return None
        params: dict[str, str] = {}
        for k, quoted, token in _PARAM.findall(m.group(1)):
            params.setdefault(k.lower(), quoted if quoted else token)  # the first one counts
        charset = params.get("charset", "").lower() or "utf-8"
    if first.get("content-transfer-encoding", "").lower() in _ENCODED:
        return None
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")

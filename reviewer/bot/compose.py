"""The bot's replies: one per patch with findings, a cover reply comparing with the last version.

Flow position: bot review -> **compose** -> policy -> delivery.  Replies to patches are rendered
by the mailing-list voice (`reviewer.voices.email_reply.render_replies`, without its cover
summary), the same replies `check --format email` writes; replies the bot writes itself are
addressed and threaded with the same header helpers (`reviewer.voices.mailheaders`).  The bot
adds what only it knows, from the template `bot_cover.txt.j2`: which findings of the previous
version are gone, which remain and which are new (by fingerprint), and which patches never
arrived.  That text goes into a reply to the cover letter, or, when the series has none, into the
reply to patch 1 (a patch never gets two replies).  Every reply gets a Message-ID derived from
its slot (topic, version, patch number) and the bot's marker header, so the bot can recognise its
own mail when the list sends it back.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import jinja2

from reviewer._layout import templates_dir
from reviewer.bot.assembly import Assembled
from reviewer.bot.message import BOT_HEADER
from reviewer.engine.findings import Finding
from reviewer.engine.review import Report
from reviewer.model import Patch
from reviewer.voices import mailheaders as hdr
from reviewer.voices.email_reply import ReplySettings, attribution, render_replies


@dataclass
class ComposeSettings:
    sender: str  # "Name <address>" the replies come from
    cc_original: bool = True
    templates: str | None = None  # a user's directory of templates, else the shipped ones


@dataclass
class Reply:
    slot: str  # topic|vN|patch number: at most one reply per patch per series version
    target: str  # the Message-ID replied to
    message: EmailMessage


@dataclass
class Comparison:
    previous_version: int
    previous_msgid: str | None
    gone: list[dict] = field(default_factory=list)
    remain: list[dict] = field(default_factory=list)
    new: list[dict] = field(default_factory=list)


def finding_record(f: Finding, total: int | None, version: int) -> dict:
    """What the state keeps of a finding so a later version can be compared with it."""
    return {"fingerprint": f.fingerprint, "rule": f.rule, "function": f.function, "file": f.file,
            "line": f.line, "patch": f.patch, "total": total, "version": version,
            "fixed_by": f.fixed_by,
            "message": f.message.split("\n", 1)[0]}


def compare(previous: list[dict], current: list[dict], version: int,
            msgid: str | None) -> Comparison:
    before = {f["fingerprint"]: f for f in previous if f.get("fixed_by") is None}
    now = {f["fingerprint"]: f for f in current if f.get("fixed_by") is None}
    return Comparison(version, msgid,
                      gone=[before[k] for k in before if k not in now],
                      remain=[now[k] for k in now if k in before],
                      new=[now[k] for k in now if k not in before])


def message_id(slot: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "notifier-review.invalid"
    return f"notifier-review-bot.{hashlib.sha1(slot.encode()).hexdigest()[:24]}@{domain}"


def _environment(settings: ComposeSettings) -> jinja2.Environment:
    paths = ([settings.templates] if settings.templates else []) + [str(templates_dir())]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(paths), keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["wrap"] = lambda s, indent="": textwrap.fill(
        s, 72, initial_indent=indent, subsequent_indent=indent + ("  " if indent else ""),
        break_long_words=False, break_on_hyphens=False)
    return env


def _reply_to(target: Patch, body: str, settings: ComposeSettings) -> EmailMessage:
    """A reply the bot writes itself, addressed and threaded as the email voice does it."""
    me = hdr.sender(settings.sender)
    msg = hdr.reply_message(target, me, no_cc=not settings.cc_original, fallback=None)
    msg.set_content(f"{attribution(target)}\n> {hdr.one_line(target.subject)}\n\n{body}\n",
                    charset="utf-8")
    return msg


def _finish(msg: EmailMessage, slot: str, settings: ComposeSettings) -> EmailMessage:
    for name in ("Message-ID", BOT_HEADER, "Date"):
        del msg[name]
    msg["Message-ID"] = f"<{message_id(slot, settings.sender)}>"
    msg["Date"] = format_datetime(_now())
    msg[BOT_HEADER] = "yes"
    if not msg.get("From"):
        msg["From"] = settings.sender
    return msg


def _now():
    from datetime import datetime

    return datetime.now(UTC)


def _prepend(msg: EmailMessage, text: str) -> None:
    body = msg.get_content() if not msg.is_multipart() else ""
    msg.set_content(text.rstrip("\n") + "\n\n" + body)


def patch_replies(report: Report, assembled: Assembled,
                  settings: ComposeSettings) -> dict[str, EmailMessage]:
    """Message-ID of a patch -> the email voice's reply to it, for every patch with findings."""
    voice = ReplySettings(from_addr=settings.sender, cover=False,
                          no_cc=not settings.cc_original, templates_dir=settings.templates)
    found: dict[str, EmailMessage] = {}
    wanted = {mid for n, mid in assembled.messages.items() if n}
    for msg in render_replies(report, voice):
        target = str(msg.get("In-Reply-To") or "").strip().strip("<>")
        if target in wanted and target not in found:
            found[target] = msg
    return found


def cover_text(assembled: Assembled, comparison: Comparison | None, report: Report,
               settings: ComposeSettings) -> str:
    env = _environment(settings)
    total = assembled.row.total
    return env.get_template("bot_cover.txt.j2").render(
        version=assembled.row.version, total=total, comparison=comparison,
        missing=[f"{i}/{total}" for i in assembled.missing], mode=report.mode,
        kernel=report.kernel, patches=len(report.results),
        findings=[f for f in report.findings if not f.suppressed]).strip("\n")


def compose(report: Report, assembled: Assembled, comparison: Comparison | None,
            settings: ComposeSettings) -> list[Reply]:
    """Every reply the series gets, by slot; empty when there is nothing to say."""
    total = assembled.row.total
    version = assembled.row.version
    slot_of = {mid: f"{assembled.topic}|v{version}|{n}" for n, mid in assembled.messages.items()}
    by_target = patch_replies(report, assembled, settings)
    say_cover = comparison is not None and bool(comparison.gone or comparison.remain
                                                or comparison.new)
    replies: list[Reply] = []
    order = {mid: n for n, mid in assembled.messages.items()}
    if say_cover:
        notes = cover_text(assembled, comparison, report, settings)
        cover_id = assembled.messages.get(0)
        first_id = assembled.messages.get(min((n for n in assembled.messages if n), default=1))
        target_id = cover_id or first_id
        target_patch = assembled.series.cover if cover_id else (
            assembled.series.patches[0] if assembled.series.patches else None)
        if target_id and target_id in by_target:
            _prepend(by_target[target_id], notes)
        elif target_id and target_patch is not None:
            by_target[target_id] = _reply_to(target_patch, notes, settings)
    elif assembled.missing and by_target:
        first = min(by_target, key=lambda mid: order.get(mid, total + 1))
        _prepend(by_target[first], cover_text(assembled, None, report, settings))
    for target_id, msg in by_target.items():
        slot = slot_of.get(target_id, f"{assembled.topic}|v{version}|{target_id}")
        replies.append(Reply(slot, target_id, _finish(msg, slot, settings)))
    replies.sort(key=lambda r: order.get(r.target, total + 1))
    return replies

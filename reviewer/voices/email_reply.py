"""The mailing-list voice: findings as threaded replies to the patches they are about.

Flow position: the last stage.  `render_replies(report, settings)` returns one
`email.message.EmailMessage` per patch with findings (every patch with `ack_clean`), plus with
`cover` a summary reply to the cover letter, or to patch 1 when the series has none.  Bodies come
from the jinja2 templates `reply.txt.j2` and `cover.txt.j2` (see mailtext.py), the quotes from
quoting.py, the headers from mailheaders.py.  `write_mbox` turns the messages into an mbox for
`git send-email`, mutt or b4.  No trailer (Reviewed-by, Acked-by, ...) is ever written: a tool's
reading is not a review tag.  The bot calls `render_replies` directly with its own settings.
"""

from __future__ import annotations

import email.policy
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from os import PathLike

from reviewer.engine.findings import Finding
from reviewer.engine.review import PatchResult, Report
from reviewer.errors import UsageError
from reviewer.model import Patch
from reviewer.voices import mailheaders as hdr
from reviewer.voices.mailtext import environment, render
from reviewer.voices.quoting import commit_quote, quote_findings


def _now() -> datetime:
    return datetime.now(UTC).astimezone()


@dataclass
class ReplySettings:
    """What the replies need besides the report; usable without argparse (the bot builds one)."""

    from_addr: str
    cover: bool = False
    no_cc: bool = False
    ack_clean: bool = False
    templates_dir: str | PathLike[str] | None = None
    date_factory: Callable[[], datetime] = _now
    msgid_factory: Callable[[], str] | None = None  # returns "<id@domain>"; default make_msgid
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Step:
    where: str
    note: str


@dataclass
class _Comment:
    message: str
    rule: str
    severity: str
    steps: list[_Step]
    fixed_by: str | None


@dataclass
class _Seg:
    kind: str
    lines: list[str]
    comment: _Comment | None


def _shown(res: PatchResult) -> list[Finding]:
    return [f for f in res.findings if not f.suppressed]


def _label(index: int | None, total: int) -> str | None:
    return None if index is None else f"{index}/{total}"


def _comment(f: Finding, total: int) -> _Comment:
    steps = [_Step(f"line {s.line}" if s.file == f.file else f"{s.file}:{s.line}", s.note)
             for s in f.path]
    return _Comment(f.message, f.rule, f.severity, steps, _label(f.fixed_by, total))


def attribution(patch: Patch) -> str:
    found = hdr.mailbox(patch.author) if patch.author else None
    who = (found.display_name or found.addr_spec) if found else hdr.one_line(patch.author)
    date = hdr.one_line(patch.date)
    if who and date:
        return f"On {date}, {who} wrote:"
    if who:
        return f"{who} wrote:"
    return f"On {date}, the patch read:" if date else "The patch read:"


def _total(report: Report) -> int:
    first = report.results[0].patch if report.results else None
    return (first.total if first and first.total else None) or len(report.results)


def reply_context(res: PatchResult, report: Report, generated: str | None) -> dict:
    total = _total(report)
    findings = _shown(res)
    segments = [
        _Seg(s.kind, s.lines, _comment(s.finding, total) if s.finding is not None else None)
        for s in quote_findings(res.patch, findings)
    ]
    return {
        "attribution": attribution(res.patch),
        "commit": commit_quote(res.patch.body),
        "segments": segments,
        "comments": len(findings),
        "clean": not findings,
        "mode": report.mode,
        "analysed": len(res.analysed),
        "generated_thread": generated,
        "origin": report.series.origin if report.series else "",
        "patch": res.patch,
    }


def _summary(rule: str) -> str:
    from reviewer.engine.registry import find_rule

    info = find_rule(rule)
    return info.summary if info else rule


def cover_context(report: Report, target: Patch, generated: str | None) -> dict:
    total = _total(report)
    patches = [{"label": res.patch.label, "subject": res.patch.clean_subject or res.patch.subject,
                "comments": len(_shown(res))} for res in report.results]
    fixed_later = [
        {"patch": _label(f.patch, total) or "?", "fixer": _label(f.fixed_by, total),
         "where": f"{f.function}() ({f.file}:{f.line})", "summary": _summary(f.rule),
         "rule": f.rule}
        for res in report.results for f in _shown(res) if f.fixed_by is not None
    ]
    return {
        "attribution": attribution(target),
        "commit": commit_quote(target.body),
        "patches": patches,
        "total": sum(p["comments"] for p in patches),
        "fixed_later": fixed_later,
        "mode": report.mode,
        "kernel": report.kernel,
        "skipped": report.functions_skipped,
        "generated_thread": generated,
        "origin": report.series.origin if report.series else "",
        "notes": report.notes,
        "target": target,
    }


def _message(patch: Patch, body: str, me: Address, settings: ReplySettings, msgid: str,
             fallback: str | None) -> EmailMessage:
    msg = hdr.reply_message(patch, me, no_cc=settings.no_cc, fallback=fallback,
                            date=format_datetime(settings.date_factory()), msgid=msgid)
    for name, value in settings.extra_headers.items():
        msg[hdr.one_line(name)] = hdr.one_line(value)
    plain = body.isascii() and max((len(ln) for ln in body.splitlines()), default=0) <= 78
    msg.set_content(body, charset="utf-8", cte="7bit" if plain else "8bit")
    return msg


def render_replies(report: Report, settings: ReplySettings) -> list[EmailMessage]:
    """The replies for `report`: the cover summary first (with `cover`), then one per patch."""
    if report.series is None or not report.results:
        raise UsageError("--format email", "replies answer patches; this run reviewed none")
    me = hdr.sender(settings.from_addr)
    env = environment(settings.templates_dir)
    new_id = settings.msgid_factory or (
        lambda: make_msgid(idstring="notifier-review", domain=me.domain))
    answered = [res for res in report.results if _shown(res) or settings.ack_clean]
    target = report.series.cover or report.results[0].patch
    asked = ([target] if settings.cover else []) + [res.patch for res in answered]
    generated = hdr.bracketed(new_id()) if any(not p.message_id for p in asked) else None
    messages: list[EmailMessage] = []
    if settings.cover:
        is_root = generated is not None and not target.message_id
        body = render(env, "cover.txt.j2", cover_context(report, target, generated))
        msgid = generated if is_root and generated else hdr.bracketed(new_id())
        messages.append(_message(target, body, me, settings, msgid,
                                 None if is_root else generated))
    for res in answered:
        note = generated if (generated and not res.patch.message_id and not settings.cover) \
            else None
        body = render(env, "reply.txt.j2", reply_context(res, report, note))
        messages.append(_message(res.patch, body, me, settings, hdr.bracketed(new_id()),
                                 generated))
    return messages


def write_mbox(messages: list[EmailMessage]) -> str:
    """An mbox holding `messages` (From_ lines, `>From ` escaping, LF line ends)."""
    out = io.BytesIO()
    for msg in messages:
        try:
            when = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC)
            stamp = time.asctime(when.timetuple())
        except (TypeError, ValueError):
            stamp = time.asctime(time.gmtime(0))
        out.write(f"From notifier-review {stamp}\n".encode("ascii"))
        policy = (msg.policy if isinstance(msg.policy, email.policy.EmailPolicy)
                  else email.policy.default).clone(linesep="\n")
        BytesGenerator(out, mangle_from_=True, policy=policy).flatten(msg)
        out.write(b"\n")
    return out.getvalue().decode("utf-8", "replace")

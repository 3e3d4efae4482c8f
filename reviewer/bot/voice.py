"""The bot's link to the mailing-list voice: per-patch replies for a reviewed series.

Flow position: bot review -> compose -> **voice**.  The replies are those of
`reviewer.voices.email_reply` (`render_replies(report, settings)`), the voice `check --format
email` uses, called without a cover summary (the bot writes its own cover note).  Until that
voice is installed, a plain reply is built here: the attribution, the patch subject quoted, and
each finding in the text voice's words.
"""

from __future__ import annotations

import importlib
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from reviewer.engine.review import Report
from reviewer.voices.text import finding_lines


def _email_voice() -> Any | None:
    try:
        return importlib.import_module("reviewer.voices.email_reply")
    except ImportError:
        return None


def render_patch_replies(report: Report, settings: Any) -> list[EmailMessage]:
    voice = _email_voice()
    if voice is not None and hasattr(voice, "render_replies"):
        return list(voice.render_replies(report, _voice_settings(voice, settings)))
    return _plain_replies(report, settings)


def _voice_settings(voice: Any, settings: Any) -> Any:
    """The email voice's settings from the bot's: sender, no cover, Cc as configured."""
    cls = next((getattr(voice, n) for n in ("ReplySettings", "EmailSettings", "Settings")
                if hasattr(voice, n)), None)
    if cls is None:
        return settings
    wanted = {"sender": settings.sender, "from_addr": settings.sender,
              "from_": settings.sender, "cover": False, "cc": settings.cc_original,
              "no_cc": not settings.cc_original, "ack_clean": False,
              "templates_dir": settings.templates, "templates": settings.templates}
    fields = getattr(cls, "__dataclass_fields__", {})
    return cls(**{k: v for k, v in wanted.items() if k in fields})


def _plain_replies(report: Report, settings: Any) -> list[EmailMessage]:
    out: list[EmailMessage] = []
    total = len(report.results)
    for res in report.results:
        shown = [f for f in res.findings if not f.suppressed]
        p = res.patch
        if not shown or not p.message_id:
            continue
        msg = EmailMessage()
        msg["Subject"] = p.subject if p.subject.lower().startswith("re:") else f"Re: {p.subject}"
        msg["From"] = settings.sender
        if p.author:
            msg["To"] = p.author
        author = parseaddr(p.author)[1].lower()
        cc = [a for _, a in getaddresses(p.to + p.cc) if a and a.lower() != author]
        if cc and settings.cc_original:
            msg["Cc"] = ", ".join(cc)
        msg["In-Reply-To"] = f"<{p.message_id}>"
        msg["References"] = " ".join(f"<{r}>" for r in
                                     [r for r in p.references if r != p.message_id]
                                     + [p.message_id])
        lines = [f"On {p.date}, {p.author} wrote:" if p.date else f"{p.author} wrote:",
                 f"> {p.subject}", ""]
        for f in shown:
            lines += finding_lines(f, total=total) + [""]
        lines.append(f"(mode {report.mode}, kernel {report.kernel})")
        msg.set_content("\n".join(lines) + "\n")
        out.append(msg)
    return out

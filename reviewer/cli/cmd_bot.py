"""`notifier-review bot`: follow Maildirs, mboxes or public-inbox archives; reply to patch series.

Flow position: command line -> reviewer.bot.  Options become a BotConfig; SMTP credentials come
from the environment (NOTIFIER_REVIEW_SMTP_USER / NOTIFIER_REVIEW_SMTP_PASSWORD) or from
`--smtp-credentials FILE`, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import re
from email.utils import parseaddr

from reviewer.cli.common import add_knowledge_options
from reviewer.errors import UsageError

DEFAULT_FROM = "notifier-review bot <notifier-review@localhost>"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def duration(value: str) -> float:
    m = _DURATION.match(value.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {value!r} (e.g. 90, 30m, 2h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="follow mail sources and reply to patch series with findings",
        description="Read patch mail from Maildirs, mbox files or public-inbox v2 archives, "
        "review each series once it is complete, and reply on its thread (to an outbox "
        "Maildir by default, or through SMTP).",
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a Maildir, an mbox file or a public-inbox v2 archive (git/N.git)")
    p.add_argument("--once", action="store_true", help="process what is new, then exit")
    p.add_argument("--interval", type=duration, default=300.0, metavar="SECONDS",
                   help="time between polls (default 300; 30s, 5m, 1h also work)")
    p.add_argument("--wait", type=duration, default=3600.0, metavar="SECONDS",
                   help="how long an incomplete series is held before it is reviewed as far as "
                   "it goes (default 1h)")
    p.add_argument("--state", metavar="FILE",
                   help="SQLite state file (default $XDG_DATA_HOME/notifier-review/bot.sqlite)")
    p.add_argument("--outbox", metavar="DIR",
                   help="Maildir the replies are filed in (default: beside the state file)")
    p.add_argument("--smtp", metavar="HOST:PORT", help="send the replies through this server")
    p.add_argument("--smtp-security", choices=("starttls", "ssl", "none"), default="starttls",
                   help="starttls (default), ssl, or none (only to a loopback address)")
    p.add_argument("--smtp-credentials", metavar="FILE",
                   help="file with the SMTP user (line 1) and password (line 2); default: "
                   "NOTIFIER_REVIEW_SMTP_USER / NOTIFIER_REVIEW_SMTP_PASSWORD")
    p.add_argument("--sent", metavar="DIR",
                   help="with --smtp: Maildir keeping a copy of every accepted reply "
                   "(default: beside the state file)")
    p.add_argument("--from", dest="sender", default=DEFAULT_FROM, metavar="ADDRESS",
                   help=f"the replies' From (default: {DEFAULT_FROM})")
    p.add_argument("--list", dest="lists", action="append", default=[], metavar="ADDRESS",
                   help="only follow series sent to this list (To, Cc or List-Id); repeatable")
    p.add_argument("--rate", type=int, default=30, metavar="N",
                   help="at most N replies per hour (default 30; 0: no limit)")
    p.add_argument("--no-cc", action="store_true",
                   help="reply to the author only, without the original To and Cc")
    p.add_argument("--tree", metavar="DIR",
                   help="kernel checkout to apply each series to, in memory (never modified)")
    add_knowledge_options(p)
    p.add_argument("--templates", metavar="DIR", help="directory with your own reply templates")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewer.bot.compose import ComposeSettings
    from reviewer.bot.delivery import MaildirOutbox, SmtpDelivery, read_credentials
    from reviewer.bot.policy import Policy
    from reviewer.bot.runner import Bot, BotConfig
    from reviewer.bot.sources import open_source
    from reviewer.bot.state import State, default_state_path
    from reviewer.cli.common import run_options

    if args.tree and not os.path.isdir(args.tree):
        raise UsageError(args.tree, "--tree: no such directory")
    if args.interval <= 0:
        raise UsageError("--interval", "must be more than 0")
    own = parseaddr(args.sender)[1].lower()
    if not own or "@" not in own:
        raise UsageError("--from", f"not a mail address: {args.sender!r}")
    sources = [open_source(s) for s in args.sources]
    state_path = args.state or str(default_state_path())
    beside = os.path.dirname(os.path.abspath(state_path))
    if args.smtp:
        delivery: MaildirOutbox | SmtpDelivery = SmtpDelivery(
            args.smtp, args.smtp_security, read_credentials(args.smtp_credentials),
            args.sent or os.path.join(beside, "sent"))
    else:
        delivery = MaildirOutbox(args.outbox or os.path.join(beside, "outbox"))
    config = BotConfig(
        sources=sources, delivery=delivery,
        policy=Policy(lists={a.lower() for a in args.lists}, own={own}, rate=args.rate),
        settings=ComposeSettings(sender=args.sender, cc_original=not args.no_cc,
                                 templates=args.templates),
        options=run_options(args, args.tree), tree=args.tree, wait=args.wait,
        interval=args.interval, once=args.once)
    state = State(state_path)
    try:
        return Bot(config, state).run()
    finally:
        state.close()

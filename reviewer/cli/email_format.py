"""`--format email`: the command line's side of the mailing-list voice.

Flow position: command line -> voices.  Turns the options (`--from`, `--cover`, `--no-cc`,
`--ack-clean`, `--templates`) into `ReplySettings`, finds the sender in the git identity of the
`-C` directory when `--from` is not given, and writes the replies as an mbox.  The voice itself
(reviewer/voices/email_reply.py) knows nothing about argparse or git.
"""

from __future__ import annotations

import argparse
import os

from reviewer.errors import UsageError


def add_email_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("mailing-list replies (--format email)")
    g.add_argument("--from", dest="from_addr", metavar="'NAME <ADDR>'",
                   help="sender of the replies (default: git config user.name/user.email)")
    g.add_argument("--cover", action="store_true",
                   help="add a reply to the cover letter (or patch 1) summarising the series")
    g.add_argument("--no-cc", action="store_true",
                   help="answer the author only, not the original To and Cc")
    g.add_argument("--ack-clean", action="store_true",
                   help="also answer patches without findings (no tag is ever added)")
    g.add_argument("--templates", metavar="DIR",
                   help="take reply.txt.j2 / cover.txt.j2 from DIR before the shipped ones")


def git_identity(directory: str | None) -> str | None:
    """`Name <email>` from `git config` as seen in `directory`, or None when unset."""
    import git

    where = directory or os.getcwd()
    if not os.path.isdir(where):
        return None
    cmd = git.cmd.Git(where)
    values = []
    for key in ("user.name", "user.email"):
        try:
            values.append(cmd.config("--get", key).strip())
        except git.GitCommandError:
            values.append("")
    name, addr = values
    if not addr:
        return None
    return f"{name} <{addr}>" if name else addr


def settings_from_args(args: argparse.Namespace):
    from reviewer.voices.email_reply import ReplySettings

    sender = getattr(args, "from_addr", None) or git_identity(getattr(args, "directory", None))
    if not sender:
        raise UsageError("--format email",
                         "no sender: give --from 'Name <addr>' or set git config user.email")
    return ReplySettings(
        from_addr=sender,
        cover=bool(getattr(args, "cover", False)),
        no_cc=bool(getattr(args, "no_cc", False)),
        ack_clean=bool(getattr(args, "ack_clean", False)),
        templates_dir=getattr(args, "templates", None),
    )


def render_email(report, args: argparse.Namespace) -> str:
    from reviewer.voices.email_reply import render_replies, write_mbox

    return write_mbox(render_replies(report, settings_from_args(args)))

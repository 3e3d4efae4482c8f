"""`notifier-review hook`: what a git hook runs; the staged change, or the range being pushed.

Flow position: command line -> `check`.  Under the pre-commit framework's `pre-push` stage,
`PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF` name the pushed range and that range is reviewed;
everywhere else (the framework's `pre-commit` stage, or the plain hook `install-hook` writes) the
index is reviewed against HEAD.  Exit 1 refuses the commit or the push.
"""

from __future__ import annotations

import argparse
import os
import sys

from reviewer.cli.common import add_review_options


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name, help="run as a git hook (staged change, or the range a pre-push names)",
        description="Review the staged change; when PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF "
        "are set (pre-commit framework, pre-push stage), review that range instead.")
    p.add_argument("files", nargs="*", help=argparse.SUPPRESS)  # pre-commit may pass names
    add_review_options(p)
    p.set_defaults(run=run)


def hook_target(env: dict[str, str] | os._Environ) -> str | None:
    """The range to review, "" for the staged change, None for nothing to do."""
    from_ref = env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_ORIGIN")
    to_ref = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_SOURCE")
    if from_ref and to_ref:
        return f"{from_ref}..{to_ref}"
    if env.get("PRE_COMMIT_REMOTE_NAME"):
        return None  # a push of a whole history down to its root commit: nothing to diff against
    return ""


def run(args: argparse.Namespace) -> int:
    from reviewer.cli import cmd_check

    target = hook_target(os.environ)
    if target is None:
        sys.stderr.write("notifier-review: the push includes the root commit; "
                         "nothing to compare it with, not reviewed\n")
        return 0
    args.targets = [target] if target else []
    args.staged = not target
    args.tree = None
    return cmd_check.run(args)

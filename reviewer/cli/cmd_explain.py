"""`notifier-review explain RULE`: the kernel reason behind a rule, a bad and a good example.

Flow position: command line (documentation of the judgement stage).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from reviewer.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="explain one rule")
    p.add_argument("rule", metavar="RULE")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewer.engine.registry import find_rule

    r = find_rule(args.rule)
    if r is None:
        raise UsageError(args.rule, "no such rule (see `notifier-review rules`)")
    out = [f"{r.id} ({r.family}, {r.severity})", "", r.summary, "", "Why:"]
    out += textwrap.wrap(" ".join(r.reason.split()), 72, initial_indent="  ",
                         subsequent_indent="  ")
    out += ["", "Bad:"] + ["  " + ln for ln in r.bad.splitlines()]
    out += ["", "Good:"] + ["  " + ln for ln in r.good.splitlines()]
    sys.stdout.write("\n".join(out) + "\n")
    return 0

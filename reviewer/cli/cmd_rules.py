"""`notifier-review rules`: list every rule with its family and severity.

Flow position: command line (documentation of the judgement stage).
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="list the rules")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewer.engine.registry import all_rules

    rules = all_rules()
    width = max(len(r.id) for r in rules)
    for r in rules:
        sys.stdout.write(f"{r.id:<{width}}  {r.family:<12}  {r.severity:<7}  {r.summary}\n")
    return 0

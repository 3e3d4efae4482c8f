"""`notifier-review scan PATH...`: audit whole C files or directories, every finding.

Flow position: command line -> engine (scan) -> voices.  No patch, no pre image: every finding of
every function is shown (how noise on real kernel trees is measured).
"""

from __future__ import annotations

import argparse

from reviewer.cli.common import add_review_options, emit, run_options


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="audit whole C files or directories",
                       description="Analyse every function of the given C files or directories.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    add_review_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reviewer.engine.review import scan_paths

    options = run_options(args, args.directory)
    report = scan_paths(args.paths, options)
    return emit(report, args)

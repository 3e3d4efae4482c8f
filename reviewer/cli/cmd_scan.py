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
    from reviewer.cli.config import config_for
    from reviewer.cli.progress import progress_for
    from reviewer.cli.scope import in_scope
    from reviewer.engine.review import iter_c_files, scan_paths

    options = run_options(args, args.directory)
    cfg = config_for(args)

    def select(path: str) -> bool:
        return in_scope(cfg, path, from_cwd=True)

    total = sum(1 for p in iter_c_files(args.paths) if select(p))
    bar = progress_for(args, total, "scan")
    try:
        report = scan_paths(args.paths, options, progress=bar, select=select,
                            jobs=args.jobs)
    finally:
        if bar is not None:
            bar.close()
    return emit(report, args)

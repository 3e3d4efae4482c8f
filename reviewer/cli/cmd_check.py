"""`notifier-review check`: review a git range, patch files / mbox / stdin, or the staged index.

Flow position: command line -> sources -> engine -> voices.  A target that names an existing
file (or `-`) is a patch file; otherwise it is a revision range.  No target means
`@{upstream}..HEAD`.
"""

from __future__ import annotations

import argparse
import os
import sys

from reviewer.cli.common import add_review_options, emit, run_options
from reviewer.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name,
        help="review a git range, patch files or the staged change",
        description="Review a git range (A..B, default @{upstream}..HEAD), patch files "
        "(format-patch output, an mbox, an email, a plain diff; - for stdin) or --staged.",
    )
    p.add_argument("targets", nargs="*", metavar="RANGE|FILE",
                   help="a revision range, or patch files")
    p.add_argument("--staged", action="store_true", help="review the index against HEAD")
    p.add_argument("--tree", metavar="DIR",
                   help="kernel checkout to apply patch files to (real images)")
    add_review_options(p)
    p.set_defaults(run=run)


def _is_file_target(t: str) -> bool:
    return t == "-" or os.path.isfile(t)


def run(args: argparse.Namespace) -> int:
    from reviewer.cli.progress import progress_for
    from reviewer.engine.review import review_series

    # each source is imported where it is used: a range needs no mail parser, files no git log
    repo_dir = args.directory or os.getcwd()
    if args.directory and not os.path.isdir(args.directory):
        raise UsageError(args.directory, "-C: no such directory")
    targets = list(args.targets)
    if args.staged:
        if targets:
            raise UsageError("check", "--staged takes no range or file")
        from reviewer.sources import series_from_staged

        series, provider = series_from_staged(repo_dir)
        tree = repo_dir
    elif targets and all(_is_file_target(t) for t in targets):
        from reviewer.images.select import provider_for_files
        from reviewer.sources import series_from_files

        paths = [t if t == "-" or os.path.isabs(t) else os.path.join(os.getcwd(), t)
                 for t in targets]
        series = series_from_files(paths, sys.stdin.buffer if "-" in targets else None)
        provider = provider_for_files(series, args.tree, repo_dir)
        tree = args.tree or (repo_dir if provider.mode == "tree" else None)
    elif len(targets) <= 1:
        if args.tree:
            raise UsageError("--tree", "only used with patch files; a range reads its own tree")
        missing = [t for t in targets
                   if t.endswith((".patch", ".mbox", ".diff", ".eml", ".txt", ".mbx"))
                   and ".." not in t]
        if missing:
            raise UsageError(missing[0], "no such file")
        from reviewer.sources import series_from_range

        series, provider = series_from_range(repo_dir, targets[0] if targets else None)
        tree = repo_dir
    else:
        bad = next(t for t in targets if not _is_file_target(t))
        raise UsageError(bad, "no such file (give one revision range, or patch files)")
    options = run_options(args, tree)
    bar = progress_for(args, len(series.patches), "review")
    try:
        report = review_series(series, provider, options, show_all=args.all, progress=bar,
                               jobs=args.jobs)
    finally:
        if bar is not None:
            bar.close()
    return emit(report, args)

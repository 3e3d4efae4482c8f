"""`notifier-review b4-check`: one patch, as b4 pipes it, answered in one of b4's two protocols.

Flow position: command line -> sources (one RFC 2822 message on standard input) -> engine ->
(here) b4's formats.  b4 runs the command once per patch, in the top of the git work tree, with
the message on standard input:

- `b4.prep-perpatch-check-cmd` / `b4.am-perpatch-check-cmd` (`b4 prep --check`, `b4 am --check`):
  every line on standard output is one finding, counted as an error when it contains `ERROR:`
  and as a warning otherwise; every line on standard error is an error; no output at all means
  the patch passed.  So findings are printed one a line, checkpatch-like, and nothing when clean.
- `b4.review-perpatch-check-cmd` (`b4 review`, with `--json`): a JSON array of objects with
  `tool`, `status` (pass, warn or fail), `summary` and `details`; b4 keeps one result per tool
  and patch, so there is exactly one object, its `details` a JSON list of the findings in the
  shape b4's own checkpatch runner uses (`status`, `description`).

A message without a diff (a cover letter) is not ours to judge: nothing is printed (`[]` with
`--json`).  A patch that changes no C code (documentation, build files, comments only) passes
without the engine being loaded.  Images come from the repository when it holds the patch's
blobs (as in `b4 prep`), else from the hunks alone.
"""

from __future__ import annotations

import argparse
import os
import sys

from reviewer.cli.config import add_engine_options

TOOL = "notifier-review"
_NO_PATCH = ("no diff found", "only a cover letter", "mbox with no patches")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name, help="check one patch piped by b4 (prep/am/review per-patch check command)",
        description="Read one patch (an RFC 2822 message) on standard input and report in the "
        "form b4 expects: one line per finding, or with --json b4 review's JSON protocol.")
    p.add_argument("--json", action="store_true",
                   help="answer in b4 review's JSON protocol (review-perpatch-check-cmd)")
    add_engine_options(p, "the repository holding the patch's blobs (default: the current one)")
    p.set_defaults(run=run, format="b4", all=False)


def _json(value: object) -> str:
    import json  # only b4 review's protocol needs it, and start-up time counts here

    return json.dumps(value)


def finding_line(f) -> str:
    level = "ERROR" if f.severity == "error" else "WARNING"
    return f"{f.file}:{f.line}: {level}: [{f.rule}] {f.function}(): {' '.join(f.message.split())}"


def review_result(findings: list, analysed: int, mode: str) -> dict:
    """The one b4 review result object for a patch's (shown) findings."""
    if not findings:
        return {"tool": TOOL, "status": "pass",
                "summary": f"no findings ({analysed} functions analysed, mode {mode})"}
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    details = [{"status": "fail" if f.severity == "error" else "warn",
                "description": finding_line(f),
                "path": [f"{s.file}:{s.line}: {s.note}" for s in f.path]} for f in findings]
    return {"tool": TOOL, "status": "fail" if errors else "warn", "summary": ", ".join(parts),
            "details": _json(details)}


def run(args: argparse.Namespace) -> int:
    from reviewer.errors import InputError, ReviewError
    from reviewer.sources.patchfile import series_from_files

    repo_dir = args.directory or os.getcwd()
    try:
        try:
            series = series_from_files(["-"], sys.stdin.buffer)
        except InputError as exc:
            if any(s in exc.message for s in _NO_PATCH):
                if args.json:
                    sys.stdout.write("[]\n")
                return 0
            raise
        from reviewer.cli.common import resolve_version

        resolve_version(args, None)  # a bad --kernel is reported even when nothing is reviewed
        if not any(c.reviewable for p in series.patches for c in p.files):
            # no C code changed (documentation, build files, comments only): nothing to judge,
            # and the engine is not even imported
            if args.json:
                sys.stdout.write(_json([{"tool": TOOL, "status": "pass",
                                         "summary": "no findings (no C code changed)"}]) + "\n")
            return 0
        # only now the engine (parsers, git): b4 runs this once per patch, cover letters too
        from reviewer.cli.common import run_options
        from reviewer.cli.config import config_for
        from reviewer.cli.scope import apply_config
        from reviewer.engine.review import review_series
        from reviewer.images.select import provider_for_files

        provider = provider_for_files(series, None, repo_dir)
        options = run_options(args, repo_dir if provider.mode == "tree" else None)
        report = review_series(series, provider, options)
        apply_config(report, config_for(args))
    except ReviewError as exc:
        if not args.json:
            raise
        sys.stdout.write(_json([{"tool": TOOL, "status": "fail",
                                 "summary": f"cannot review: {exc.one_line()}"}]) + "\n")
        return exc.exit_status
    shown = [f for f in report.findings if not f.suppressed]
    if args.json:
        result = review_result(shown, report.functions_analysed, report.mode)
        sys.stdout.write(_json([result]) + "\n")
    else:
        for f in shown:
            sys.stdout.write(finding_line(f) + "\n")
    sys.stdout.flush()
    from reviewer.cli.common import exit_status

    return exit_status(report, "warning")

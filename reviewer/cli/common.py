"""Options shared by the reviewing subcommands, and turning them into engine options.

Flow position: command line.  Output formats are looked up in FORMATS (voice modules register
there), the kernel version comes from `--kernel`, else from the tree's Makefile, else it is
unknown and rules take the strictest reading.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from reviewer.errors import EXIT_FINDINGS, EXIT_OK, UsageError

# format name -> "module:function" taking (report, args) and returning the text to write
FORMATS: dict[str, str] = {
    "text": "reviewer.voices.text:render_text",
    "json": "reviewer.voices.jsonout:render_json",
    "sarif": "reviewer.voices.sarif:render_sarif",
    "email": "reviewer.cli.email_format:render_email",
}


def add_review_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="text", choices=sorted(FORMATS),
                   help="output format (default: text)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the output to FILE")
    p.add_argument("--fail-on", default="warning", choices=("warning", "error", "never"),
                   help="exit 1 when a finding at or above this severity is shown")
    add_knowledge_options(p)
    p.add_argument("--all", action="store_true",
                   help="also show findings that were there before the patch")
    p.add_argument("-C", dest="directory", metavar="DIR", default=None,
                   help="run as if started in DIR")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="review patches (check) or files (scan) in N processes; 0: one per CPU "
                        "(same findings, same order)")
    from reviewer.cli.email_format import add_email_options

    add_email_options(p)
    add_config_options(p)


def add_knowledge_options(p: argparse.ArgumentParser) -> None:
    """--kernel and --table: what the rules know, shared by every command that reviews."""
    p.add_argument("--kernel", metavar="X.Y",
                   help="kernel version the code is for (default: the tree's Makefile)")
    p.add_argument("--table", action="append", default=[], metavar="FILE",
                   help="extra knowledge table (TOML, same shape as rules/*.toml)")


def add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="configuration file (default: .notifier-review.toml at the repo root)")
    p.add_argument("--no-config", action="store_true",
                   help="ignore .notifier-review.toml and its baseline")


def makefile_version(directory: str | None) -> tuple[int, int] | None:
    if not directory:
        return None
    path = os.path.join(directory, "Makefile")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    v = re.search(r"^VERSION\s*=\s*(\d+)", head, re.M)
    p = re.search(r"^PATCHLEVEL\s*=\s*(\d+)", head, re.M)
    if v and p:
        return (int(v.group(1)), int(p.group(1)))
    return None


def resolve_version(args: argparse.Namespace, tree: str | None):
    from reviewer.analysis.knowledge import parse_version

    if getattr(args, "kernel", None):
        v = parse_version(args.kernel)
        if v is None:
            raise UsageError("--kernel", f"not a kernel version: {args.kernel!r} (want X.Y)")
        return v
    return makefile_version(tree)


def run_options(args: argparse.Namespace, tree: str | None = None):
    from reviewer.analysis.knowledge import load_knowledge
    from reviewer.cli.config import config_for
    from reviewer.engine.rule import RunOptions

    cfg = config_for(args)
    if cfg.kernel and not getattr(args, "kernel", None):
        args.kernel = cfg.kernel
    version = resolve_version(args, tree)
    knowledge = load_knowledge(getattr(args, "table", []) + cfg.tables, version)
    return RunOptions(knowledge=knowledge, version=version,
                      severity_overrides=cfg.severity_overrides, disabled=cfg.disabled)


def emit(report, args: argparse.Namespace) -> int:
    from reviewer.cli.config import config_for
    from reviewer.cli.scope import apply_config

    apply_config(report, config_for(args))
    module, func = FORMATS[args.format].split(":")
    text = getattr(importlib.import_module(module), func)(report) if args.format in (
        "text", "json") else getattr(importlib.import_module(module), func)(report, args)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(args.output, f"cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return exit_status(report, args.fail_on)


def exit_status(report, fail_on: str) -> int:
    from reviewer.engine.findings import severity_rank

    if fail_on == "never":
        return EXIT_OK
    threshold = severity_rank(fail_on)
    for f in report.findings:
        if not f.suppressed and severity_rank(f.severity) >= threshold:
            return EXIT_FINDINGS
    return EXIT_OK

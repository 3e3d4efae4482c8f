"""`notifier-review baseline [PATH...]`: accept every current `scan` finding, so only new ones show.

Flow position: command line -> engine (scan) -> a suppressions file.  A team adopting the tool on
an existing tree runs this once; every finding gets a `[[suppress]]` entry (fingerprint, rule,
function, file, and a reason placeholder that must stay non-empty: edit it to say why the finding
is accepted).  The file is `.notifier-review-baseline.toml` beside `.notifier-review.toml` (or at
the repository root), which the configuration loads by itself.  Re-running keeps the reasons
already written for findings that are still there; a file this command did not write is only
replaced with `--force`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

from reviewer.cli.config import add_engine_options
from reviewer.errors import UsageError

MARKER = "# Written by `notifier-review baseline`."


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(
        name, help="suppress every current scan finding (adopt the tool on an existing tree)",
        description="Scan PATHs (default: the repository root) and write a suppression for "
        "every finding to the baseline file, so later scans show only new findings.")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="baseline file to write (default: .notifier-review-baseline.toml "
                   "beside the configuration, or at the repository root)")
    p.add_argument("--reason", default=None,
                   help="reason written for new entries (default: a dated placeholder)")
    p.add_argument("--force", action="store_true",
                   help="replace FILE even if `baseline` did not write it")
    add_engine_options(p, "run as if started in DIR")
    p.set_defaults(run=run, format="text")


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def render_baseline(entries: list[dict[str, str]]) -> str:
    out = [MARKER,
           "# Each entry accepts one finding that was there when the tool was adopted.",
           "# Keep every reason non-empty; better, say why the finding is accepted.", ""]
    for e in entries:
        out.append("[[suppress]]")
        for key in ("fingerprint", "rule", "function", "file", "reason"):
            out.append(f"{key} = {_q(e[key])}")
        out.append("")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from reviewer.cli.common import run_options
    from reviewer.cli.config import Config, config_for, load_baseline
    from reviewer.cli.scope import in_scope, relative
    from reviewer.engine.review import scan_paths

    if args.directory and not os.path.isdir(args.directory):
        raise UsageError(args.directory, "-C: no such directory")
    cfg: Config = config_for(args)
    target = args.output or cfg.baseline or os.path.join(cfg.base, ".notifier-review-baseline.toml")
    previous: dict[str, str] = {}
    backup = False
    if os.path.exists(target):
        with open(target, encoding="utf-8", errors="replace") as fh:
            ours = fh.readline().startswith(MARKER)
        if not ours and not args.force:
            raise UsageError(target, "exists and was not written by `notifier-review baseline` "
                                     "(use --force to replace it; a backup is kept)")
        if ours:
            previous = {fp: s.reason for fp, s in load_baseline(target).items()}
        backup = not ours
    options = run_options(args, args.directory)
    paths = args.paths or [cfg.base]
    report = scan_paths(paths, options, select=lambda p: in_scope(cfg, p, from_cwd=True))
    from_config = {fp for fp in cfg.suppressions if fp not in previous}
    reason = args.reason or (f"baseline {datetime.date.today().isoformat()}: present when "
                             "notifier-review was adopted")
    if not reason.strip():
        raise UsageError("--reason", "must not be empty")
    entries: dict[str, dict[str, str]] = {}
    for f in report.findings:
        fp = f.fingerprint
        if fp in from_config or fp in entries:
            continue
        entries[fp] = {"fingerprint": fp, "rule": f.rule, "function": f.function,
                       "file": relative(cfg, f.file, from_cwd=True),
                       "reason": previous.get(fp, reason)}
    text = render_baseline(sorted(entries.values(), key=lambda e: (e["file"], e["function"],
                                                                   e["rule"])))
    try:
        if backup:
            os.replace(target, target + ".bak")
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(target, f"cannot write: {exc.strerror or exc}") from None
    kept = sum(1 for fp in entries if fp in previous)
    sys.stderr.write(f"notifier-review: wrote {len(entries)} suppression"
                     f"{'s' if len(entries) != 1 else ''} to {target}"
                     + (f" ({kept} kept from before)" if kept else "") + "\n")
    return 0

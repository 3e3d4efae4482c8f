"""Applies the configuration to a finished report: paths out of scope, accepted findings.

Flow position: engine -> (here) -> voices.  Findings in files the configuration excludes (or does
not include) are dropped; findings whose fingerprint has a suppression keep their place but carry
the suppression's reason in `Finding.suppressed`, so voices leave them out of what they show (JSON
and SARIF still list them, marked) and they never make the exit status fail.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

from reviewer.cli.config import Config


def _matches(path: str, pattern: str) -> bool:
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    bare = pattern.rstrip("/")
    return fnmatchcase(path, pattern) or path == bare or path.startswith(bare + "/")


def relative(cfg: Config, path: str, from_cwd: bool) -> str:
    """`path` as the configuration's globs see it (relative to the config's directory)."""
    if os.path.isabs(path) or from_cwd:
        rel = os.path.relpath(os.path.abspath(path), cfg.base)
    else:
        rel = path
    return rel.replace(os.sep, "/")


def in_scope(cfg: Config, path: str, from_cwd: bool = False) -> bool:
    if not cfg.include and not cfg.exclude:
        return True
    rel = relative(cfg, path, from_cwd)
    if cfg.include and not any(_matches(rel, p) for p in cfg.include):
        return False
    return not any(_matches(rel, p) for p in cfg.exclude)


def apply_config(report, cfg: Config) -> None:
    """Drop out-of-scope findings and mark suppressed ones, in place."""
    from_cwd = report.mode == "scan"
    keep = [f for f in report.findings if in_scope(cfg, f.file, from_cwd)]
    kept_ids = {id(f) for f in keep}
    report.findings = keep
    for res in report.results:
        res.findings = [f for f in res.findings if id(f) in kept_ids]
    suppressed = 0
    for f in report.findings:
        s = cfg.suppressions.get(f.fingerprint)
        if s is not None:
            f.suppressed = s.reason
            suppressed += 1
    if suppressed:
        where = os.path.basename(cfg.path) if cfg.path else os.path.basename(cfg.baseline or "")
        report.notes.append(f"{suppressed} finding{'s' if suppressed != 1 else ''} "
                            f"suppressed by {where}")

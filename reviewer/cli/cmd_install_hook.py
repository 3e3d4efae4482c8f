"""`notifier-review install-hook`: a plain git pre-commit hook, for those without the framework.

Flow position: command line (set-up).  Writes `pre-commit` into the repository's hooks directory
(`git rev-parse --git-path hooks`, so `core.hooksPath` is honoured); the hook runs
`notifier-review hook` with the Python this tool is installed in.  An existing hook that this
command did not write is left alone unless `--force` is given, and then it is kept as
`pre-commit.bak` (or `.bak.N` when that exists too).
"""

from __future__ import annotations

import argparse
import os
import shlex
import stat
import subprocess
import sys

from reviewer.errors import InputError, UsageError

MARKER = "# Written by `notifier-review install-hook`."


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    p = sub.add_parser(name, help="install a plain git pre-commit hook",
                       description="Write a git pre-commit hook that reviews the staged change.")
    p.add_argument("--force", action="store_true",
                   help="replace an existing hook (it is kept as pre-commit.bak)")
    p.add_argument("-C", dest="directory", metavar="DIR", default=None,
                   help="the repository (default: the current directory)")
    p.set_defaults(run=run)


def hooks_dir(repo_dir: str) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=repo_dir,
                             capture_output=True, text=True, check=False)
    except OSError as exc:
        raise InputError(repo_dir, f"cannot run git: {exc.strerror or exc}") from None
    if out.returncode != 0:
        raise InputError(repo_dir, "not a git repository")
    path = out.stdout.strip()
    return path if os.path.isabs(path) else os.path.join(repo_dir, path)


def hook_script() -> str:
    return "\n".join([
        "#!/bin/sh",
        MARKER,
        "# Reviews the staged change for mmu_notifier / HMM mistakes before each commit.",
        "# `git commit --no-verify` skips it once; delete this file to remove it.",
        f"exec {shlex.quote(sys.executable)} -m reviewer hook",
        "",
    ])


def _backup_name(path: str) -> str:
    candidate = path + ".bak"
    n = 1
    while os.path.lexists(candidate):
        candidate = f"{path}.bak.{n}"
        n += 1
    return candidate


def run(args: argparse.Namespace) -> int:
    repo_dir = args.directory or os.getcwd()
    if not os.path.isdir(repo_dir):
        raise UsageError(repo_dir, "-C: no such directory")
    hooks = hooks_dir(repo_dir)
    target = os.path.join(hooks, "pre-commit")
    note = ""
    if os.path.lexists(target):
        try:
            with open(target, encoding="utf-8", errors="replace") as fh:
                ours = MARKER in fh.read(4096)
        except OSError:
            ours = False
        if not ours:
            if not args.force:
                raise UsageError(target, "a pre-commit hook is already there; not replaced "
                                         "(use --force to replace it, keeping a backup)")
            backup = _backup_name(target)
            os.replace(target, backup)
            note = f" (the previous hook is kept as {backup})"
    try:
        os.makedirs(hooks, exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(hook_script())
        mode = os.stat(target).st_mode
        os.chmod(target, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except OSError as exc:
        raise UsageError(target, f"cannot write: {exc.strerror or exc}") from None
    sys.stdout.write(f"notifier-review: installed {target}{note}\n")
    return 0

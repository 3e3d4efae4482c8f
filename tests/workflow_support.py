"""Helpers for the workflow tests (hooks, b4, configuration, SARIF): a small kernel-like file
with and without a bracketing bug, written for these tests, and a way to run the command line.

The command line runs as `python -m reviewer` with this checkout first on PYTHONPATH, so the code
under test is this work tree wherever the tool is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
TOOL = [sys.executable, "-m", "reviewer"]
TOOL_CMD = f"{sys.executable} -m reviewer"  # as a shell-like command string (git config, yaml)

ZAP_CLEAN = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mmu_notifier.h>

static int demo_zap(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_notifier_range range;
	pte_t *pte;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	pte = demo_lookup_pte(mm, start);
	demo_clear_pte(pte);
	mmu_notifier_invalidate_range_end(&range);
	return 0;
}
"""

# an early return between start and end leaves the range open (bracketing-unbalanced, line 13)
ZAP_BUG = ZAP_CLEAN.replace(
    "\tdemo_clear_pte(pte);\n", "\tif (!pte)\n\t\treturn -ENOMEM;\n\tdemo_clear_pte(pte);\n")

# a harmless change to the clean file
ZAP_CLEAN_2 = ZAP_CLEAN.replace("\tpte_t *pte;\n", "\tpte_t *pte = NULL;\n")

BUG_RULE = "bracketing-unbalanced"


def bug_tree(tmp_path: Path) -> Path:
    """A repository whose last commit adds the bracketing bug to mm/zap.c (base: clean)."""
    from sources_support import commit, init_repo

    repo = init_repo(tmp_path / "repo")
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    commit(repo, {"mm/zap.c": ZAP_BUG}, "mm: zap: bail out early")
    return Path(repo.working_tree_dir)


def tool_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"]
                                          if env.get("PYTHONPATH") else "")
    for var in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_ORIGIN",
                "PRE_COMMIT_SOURCE", "PRE_COMMIT_REMOTE_NAME", "GIT_DIR", "GIT_WORK_TREE",
                "GIT_INDEX_FILE"):
        env.pop(var, None)
    if home is not None:
        env["HOME"] = str(home)
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            env.pop(var, None)
        env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra)
    return env


def run_tool(args: list[str], cwd: Path, stdin: bytes | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(TOOL + args, cwd=cwd, input=stdin, capture_output=True,
                          env=env or tool_env(), timeout=120)


def text(proc: subprocess.CompletedProcess) -> str:
    out = proc.stdout.decode() if isinstance(proc.stdout, bytes) else proc.stdout
    err = proc.stderr.decode() if isinstance(proc.stderr, bytes) else proc.stderr
    return out + err

"""The tool as a git hook (issue 6): through the real pre-commit framework, and as a plain hook.

Every test makes a git repository in tmp_path with a small kernel-like file, stages a change with
a bracketing bug and sees the commit (or the push) refused with the finding printed, while a
clean change goes through.  The framework runs the hook this repository declares in
`.pre-commit-hooks.yaml`: once as a `repo: local` hook built from that declaration (with
`language: system`, so nothing is installed), once with `pre-commit try-repo` on a copy of this
project, which installs it into the framework's own environment exactly as users get it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sources_support import commit, init_repo, write
from workflow_support import (
    BUG_RULE,
    REPO_ROOT,
    TOOL_CMD,
    ZAP_BUG,
    ZAP_CLEAN,
    ZAP_CLEAN_2,
    run_tool,
    text,
    tool_env,
)

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _declared_hook() -> dict:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    return next(h for h in hooks if h["id"] == "notifier-review")


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture()
def hooked(tmp_path: Path):
    """A repository with the clean file committed and the framework's hooks installed."""
    home = tmp_path / "home"
    home.mkdir()
    env = tool_env(home, PRE_COMMIT_HOME=str(tmp_path / "pc-cache"))
    repo = init_repo(tmp_path / "repo")
    declared = _declared_hook()
    local = {k: v for k, v in declared.items() if k != "minimum_pre_commit_version"}
    local.update(language="system", entry=f"{TOOL_CMD} hook")
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    commit(repo, {"mm/zap.c": ZAP_CLEAN,
                  ".pre-commit-config.yaml": yaml.safe_dump(config, sort_keys=False)}, "base")
    root = Path(repo.working_tree_dir)
    for hook_type in ("pre-commit", "pre-push"):
        proc = subprocess.run(PRE_COMMIT + ["install", "--hook-type", hook_type], cwd=root,
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo, root, env


def test_declared_hook_matches_the_issue() -> None:
    hook = _declared_hook()
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert set(hook["stages"]) == {"pre-commit", "pre-push"}
    assert hook["entry"].split()[:2] == ["notifier-review", "hook"]


def test_framework_refuses_a_commit_with_a_bracketing_bug(hooked) -> None:
    repo, root, env = hooked
    write(repo, {"mm/zap.c": ZAP_BUG})
    proc = _git(root, "commit", "-m", "mm: zap: bail out early", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"mm/zap.c:13: error: [{BUG_RULE}] demo_zap()" in out
    assert "Failed" in out
    assert repo.head.commit.message.strip() == "base"


def test_framework_lets_a_clean_change_through(hooked) -> None:
    repo, root, env = hooked
    write(repo, {"mm/zap.c": ZAP_CLEAN_2})
    proc = _git(root, "commit", "-m", "mm: zap: initialise pte", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "notifier-review" in proc.stdout + proc.stderr  # the hook ran ...
    assert "Passed" in proc.stdout + proc.stderr  # ... and passed
    assert repo.head.commit.message.strip() == "mm: zap: initialise pte"


def test_framework_skips_a_change_without_c_files(hooked) -> None:
    repo, root, env = hooked
    write(repo, {"Documentation/zap.rst": "Zap\n===\n"})
    proc = _git(root, "commit", "-m", "docs: zap", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Skipped" in proc.stdout + proc.stderr


def test_framework_refuses_a_push_of_a_range_with_the_bug(hooked, tmp_path: Path) -> None:
    repo, root, env = hooked
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, env=env)
    assert _git(root, "remote", "add", "origin", str(remote), env=env).returncode == 0
    first = _git(root, "push", "-q", "origin", "HEAD:refs/heads/master", env=env)
    assert first.returncode == 0, first.stdout + first.stderr  # root commit: nothing to compare
    write(repo, {"mm/zap.c": ZAP_BUG})
    assert _git(root, "commit", "-q", "--no-verify", "-m", "mm: zap: bail out", env=env
                ).returncode == 0
    write(repo, {"mm/other.c": "int demo_other(void)\n{\n\treturn 0;\n}\n"})
    assert _git(root, "commit", "-q", "--no-verify", "-m", "mm: other", env=env).returncode == 0
    proc = _git(root, "push", "origin", "HEAD:refs/heads/master", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"[{BUG_RULE}] demo_zap()" in out
    assert "mm: zap: bail out" in out  # the range's commit is named


def test_hook_reads_the_pushed_range_from_the_environment(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base = commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    bad = commit(repo, {"mm/zap.c": ZAP_BUG}, "mm: zap: bail out")
    root = Path(repo.working_tree_dir)
    env = tool_env(PRE_COMMIT_FROM_REF=base.hexsha, PRE_COMMIT_TO_REF=bad.hexsha)
    proc = run_tool(["hook"], root, env=env)
    assert proc.returncode == 1
    assert f"[{BUG_RULE}]" in text(proc) and "mm: zap: bail out" in text(proc)
    # nothing staged, no refs: the staged change is empty and the hook passes
    assert run_tool(["hook"], root).returncode == 0


def _copy_project(dest: Path) -> None:
    """This project as a git repository of its own (tracked and new files, as they are now)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO_ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = REPO_ROOT / rel
        if not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    repo = init_repo(dest)
    repo.git.add("-A")
    repo.git.commit("-q", "-m", "notifier-review")


def test_try_repo_installs_the_declared_python_hook(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = tool_env(home, PRE_COMMIT_HOME=str(tmp_path / "pc-cache"))
    env.pop("PYTHONPATH")  # the hook must run from the environment pre-commit builds
    _copy_project(tmp_path / "tool")
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    write(repo, {"mm/zap.c": ZAP_BUG})
    proc = subprocess.run(PRE_COMMIT + ["try-repo", str(tmp_path / "tool"), "notifier-review"],
                          cwd=repo.working_tree_dir, capture_output=True, text=True, env=env,
                          timeout=600)
    out = proc.stdout + proc.stderr
    if "Installing environment" in out and ("Could not find a version" in out
                                            or "No matching distribution" in out):
        pytest.skip("the hook's dependencies cannot be installed here (no package index)")
    assert proc.returncode == 1, out
    assert f"mm/zap.c:13: error: [{BUG_RULE}] demo_zap()" in out
    write(repo, {"mm/zap.c": ZAP_CLEAN_2})
    proc = subprocess.run(PRE_COMMIT + ["try-repo", str(tmp_path / "tool"), "notifier-review"],
                          cwd=repo.working_tree_dir, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the plain hook -------------------------------------------------------------------------------

def test_install_hook_writes_a_working_pre_commit_hook(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    root = Path(repo.working_tree_dir)
    env = tool_env()
    proc = run_tool(["install-hook"], root, env=env)
    assert proc.returncode == 0, text(proc)
    hook = root / ".git" / "hooks" / "pre-commit"
    assert hook.stat().st_mode & stat.S_IXUSR
    write(repo, {"mm/zap.c": ZAP_BUG})
    refused = _git(root, "commit", "-m", "mm: zap: bail out", env=env)
    assert refused.returncode == 1
    assert f"[{BUG_RULE}] demo_zap()" in refused.stdout + refused.stderr
    write(repo, {"mm/zap.c": ZAP_CLEAN_2})
    ok = _git(root, "commit", "-m", "mm: zap: initialise pte", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # installing again over our own hook is fine
    assert run_tool(["install-hook"], root, env=env).returncode == 0
    assert not list(hook.parent.glob("pre-commit.bak*"))


def test_install_hook_never_overwrites_without_force_and_keeps_a_backup(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    root = Path(repo.working_tree_dir)
    hooks = root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    theirs = "#!/bin/sh\necho their hook\n"
    (hooks / "pre-commit").write_text(theirs)
    proc = run_tool(["install-hook"], root)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "pre-commit" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert (hooks / "pre-commit").read_text() == theirs
    proc = run_tool(["install-hook", "--force"], root)
    assert proc.returncode == 0, text(proc)
    assert (hooks / "pre-commit.bak").read_text() == theirs
    assert "notifier-review" in (hooks / "pre-commit").read_text()
    assert "pre-commit.bak" in proc.stdout.decode()


def test_install_hook_honours_core_hookspath(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    with repo.config_writer() as cw:
        cw.set_value("core", "hooksPath", "githooks")
    assert run_tool(["install-hook"], root).returncode == 0
    assert os.access(root / "githooks" / "pre-commit", os.X_OK)


def test_install_hook_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    proc = run_tool(["install-hook"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1 and "not a git repository" in proc.stderr.decode()

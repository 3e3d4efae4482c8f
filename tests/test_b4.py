"""`notifier-review b4-check` with the real b4 (issue 6).

`b4 prep --check` and `b4 am --check` run the tool as their per-patch check command on a prep
branch and on an mbox, in a git repository made in tmp_path (HOME in tmp_path too, so b4's cache
and configuration are the test's own); b4 must report the bracketing bug as an error and the
clean patch as passing.  The JSON protocol of `b4 review` is checked against a fixture of what
b4 expects (tests/data/b4_review_check.schema.json, written from b4's source) and through b4's
own runner for external review checks.
"""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from sources_support import commit, init_repo
from workflow_support import (
    BUG_RULE,
    DATA,
    REPO_ROOT,
    TOOL_CMD,
    ZAP_BUG,
    ZAP_CLEAN,
    ZAP_CLEAN_2,
    run_tool,
    text,
    tool_env,
)

B4 = [sys.executable, "-m", "b4.command", "--offline-mode", "--no-stdin"]
ZAP_BUG_2 = ZAP_CLEAN_2.replace(
    "\tdemo_clear_pte(pte);\n", "\tif (!pte)\n\t\treturn -ENOMEM;\n\tdemo_clear_pte(pte);\n")
COVER = b"From: Ada <ada@example.org>\nSubject: [PATCH 0/2] mm: zap fixes\n\nTwo fixes.\n"


def _b4(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(B4 + args, cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture()
def b4_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return tool_env(home)


def test_b4_prep_check_reports_the_finding(tmp_path: Path, b4_env) -> None:
    repo = init_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    prep = _b4(["prep", "-n", "zapfix"], root, b4_env)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    commit(repo, {"mm/zap.c": ZAP_CLEAN_2}, "mm: zap: initialise pte")
    commit(repo, {"mm/zap.c": ZAP_BUG_2}, "mm: zap: bail out early")
    with repo.config_writer() as cw:
        cw.set_value("b4", "prep-perpatch-check-cmd", f"{TOOL_CMD} b4-check")
    proc = _b4(["prep", "--check"], root, b4_env)
    out = proc.stdout + proc.stderr
    assert f"ERROR: [{BUG_RULE}] demo_zap()" in out, out
    assert "mm/zap.c:13:" in out
    assert "Success: 1, Warning: 0, Error: 1" in out, out


def test_b4_am_check_reports_the_finding_on_an_mbox(tmp_path: Path, b4_env) -> None:
    repo = init_repo(tmp_path / "repo")
    root = Path(repo.working_tree_dir)
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    commit(repo, {"mm/zap.c": ZAP_BUG}, "mm: zap: bail out early")
    mbox = tmp_path / "series.mbox"
    mbox.write_text(repo.git.format_patch("--stdout", "--thread", "-1"))
    repo.git.reset("-q", "--hard", "HEAD~1")
    with repo.config_writer() as cw:
        cw.set_value("b4", "am-perpatch-check-cmd", f"{TOOL_CMD} b4-check")
    proc = _b4(["am", "--check", "-m", str(mbox), "-o", str(tmp_path / "out")], root, b4_env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert f"notifier-review: mm/zap.c:13: ERROR: [{BUG_RULE}] demo_zap()" in out \
        or f"mm/zap.c:13: ERROR: [{BUG_RULE}] demo_zap()" in out, out


def _patch_of(tmp_path: Path, new: str) -> tuple[Path, bytes]:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {"mm/zap.c": ZAP_CLEAN}, "base")
    commit(repo, {"mm/zap.c": new}, "mm: zap: change")
    return Path(repo.working_tree_dir), repo.git.format_patch("--stdout", "-1").encode() + b"\n"


def test_line_protocol_one_line_per_finding_and_nothing_when_clean(tmp_path: Path) -> None:
    root, bad = _patch_of(tmp_path / "a", ZAP_BUG)
    proc = run_tool(["b4-check"], root, stdin=bad)
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1 and "ERROR:" in lines[0] and f"[{BUG_RULE}]" in lines[0]
    assert proc.stderr == b""  # b4 counts every line on standard error as an error
    root, good = _patch_of(tmp_path / "b", ZAP_CLEAN_2)
    proc = run_tool(["b4-check"], root, stdin=good)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_a_cover_letter_is_not_judged(tmp_path: Path) -> None:
    proc = run_tool(["b4-check"], tmp_path, stdin=COVER)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    proc = run_tool(["b4-check", "--json"], tmp_path, stdin=COVER)
    assert json.loads(proc.stdout) == [] and proc.returncode == 0


def test_cover_letter_path_stays_light(tmp_path: Path) -> None:
    """b4 runs the command once per patch: a message it need not judge imports no parser."""
    code = ("import sys, io\n"
            "from reviewer.cli.main import main\n"
            "rc = main(['b4-check'])\n"
            "heavy = [m for m in ('tree_sitter', 'jinja2') if m in sys.modules]\n"
            "print(rc, heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, input=COVER,
                          capture_output=True, env=tool_env(), timeout=60)
    assert proc.stdout.decode().strip() == "0 []", text(proc)


def _schema() -> dict:
    return json.loads((DATA / "b4_review_check.schema.json").read_text())


def test_json_protocol_matches_b4s_expectations(tmp_path: Path) -> None:
    schema = _schema()
    root, bad = _patch_of(tmp_path / "a", ZAP_BUG)
    proc = run_tool(["b4-check", "--json"], root, stdin=bad)
    results = json.loads(proc.stdout)
    jsonschema.validate(results, schema)
    assert len(results) == 1
    (res,) = results
    assert res["tool"] == "notifier-review" and res["status"] == "fail"
    assert res["summary"] == "1 error"
    details = json.loads(res["details"])
    jsonschema.validate(details, schema["definitions"]["details"])
    assert details[0]["status"] == "fail" and f"[{BUG_RULE}]" in details[0]["description"]
    root, good = _patch_of(tmp_path / "b", ZAP_CLEAN_2)
    proc = run_tool(["b4-check", "--json"], root, stdin=good)
    results = json.loads(proc.stdout)
    jsonschema.validate(results, schema)
    assert [r["status"] for r in results] == ["pass"]
    assert "mode tree" in results[0]["summary"]  # images from the repository's own blobs


def test_json_protocol_through_b4s_own_runner(tmp_path: Path) -> None:
    checks = pytest.importorskip("b4.review.checks")
    root, bad = _patch_of(tmp_path, ZAP_BUG)
    msg = email.message_from_bytes(bad, policy=email.policy.default)
    out = checks.run_perpatch_checks(
        [("zap@example.org", msg)], [f"{TOOL_CMD} b4-check --json"], str(root),
        extra_env={"PYTHONPATH": str(REPO_ROOT)})
    (res,) = out["zap@example.org"]
    assert res["tool"] == "notifier-review"
    assert res["status"] == "fail"  # kept as we said it, not coerced
    assert res["summary"] == "1 error"
    assert f"[{BUG_RULE}]" in json.loads(res["details"])[0]["description"]


def test_malformed_patch_is_a_b4_failure_not_a_traceback(tmp_path: Path) -> None:
    broken = (REPO_ROOT / "fixtures" / "patches" / "malformed-hunk.patch").read_bytes()
    proc = run_tool(["b4-check"], tmp_path, stdin=broken)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().count("\n") == 1 and "Traceback" not in proc.stderr.decode()
    proc = run_tool(["b4-check", "--json"], tmp_path, stdin=broken)
    (res,) = json.loads(proc.stdout)
    jsonschema.validate([res], _schema())
    assert res["status"] == "fail" and res["summary"].startswith("cannot review:")


def test_a_patch_without_c_code_changes_passes_light(tmp_path: Path) -> None:
    """A documentation or comment-only patch: passes, in both protocols, without the engine."""
    patch = (b"From: Ada Example <ada@example.org>\nSubject: [PATCH] demo: document the lock\n\n"
             b"Say which lock the caller holds.\n---\n"
             b"diff --git a/mm/demo.c b/mm/demo.c\nindex 1111111..2222222 100644\n"
             b"--- a/mm/demo.c\n+++ b/mm/demo.c\n@@ -10,3 +10,4 @@ int demo(void)\n"
             b" {\n+\t/* The caller holds demo_lock. */\n \treturn 0;\n }\n"
             b"diff --git a/Documentation/demo.rst b/Documentation/demo.rst\n"
             b"index 3333333..4444444 100644\n--- a/Documentation/demo.rst\n"
             b"+++ b/Documentation/demo.rst\n@@ -1,1 +1,2 @@\n Demo\n+====\n")
    code = ("import sys\n"
            "from reviewer.cli.main import main\n"
            "rc = main(sys.argv[1:])\n"
            "heavy = [m for m in ('tree_sitter', 'reviewer.engine.review') if m in sys.modules]\n"
            "print(rc, heavy, file=sys.stderr)\n")
    for argv, out in ((["b4-check"], b""),
                      (["b4-check", "--json"], b'"status": "pass"')):
        proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, input=patch,
                              capture_output=True, env=tool_env(), timeout=60)
        assert proc.stderr.decode().strip() == "0 []", text(proc)
        assert out in proc.stdout if out else proc.stdout == b"", text(proc)

"""`notifier-review rules`, `explain RULE` and the progress bar (issue 6).

`rules` must list every rule of the registry with its family and severity; `explain` prints the
kernel reason, a bad and a good example.  The progress bar is drawn on standard error only when it
is a terminal (a real pseudo-terminal here), only for the text voice, and only for long runs.
"""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from workflow_support import TOOL, ZAP_BUG, ZAP_CLEAN, run_tool, tool_env

from reviewer.cli.progress import MIN_ITEMS
from reviewer.engine.registry import all_rules


def test_rules_lists_every_rule_with_family_and_severity(tmp_path: Path) -> None:
    proc = run_tool(["rules"], tmp_path)
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    rules = all_rules()
    assert len(lines) == len(rules)
    for line, r in zip(lines, rules, strict=True):
        assert line.split()[:3] == [r.id, r.family, r.severity]
        assert r.summary in line


def test_explain_prints_reason_bad_and_good(tmp_path: Path) -> None:
    for r in all_rules():
        proc = run_tool(["explain", r.id], tmp_path)
        assert proc.returncode == 0
        out = proc.stdout.decode()
        assert out.startswith(f"{r.id} ({r.family}, {r.severity})")
        assert "Why:" in out and "Bad:" in out and "Good:" in out
        flat = " ".join(out.split())
        assert " ".join(r.reason.split())[:60] in flat
        assert r.bad.strip().splitlines()[0].strip() in out
        assert r.good.strip().splitlines()[0].strip() in out


def test_explain_unknown_rule_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_tool(["explain", "no-such-rule"], tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and err.count("\n") == 1 and "no-such-rule" in err


def _tree(tmp_path: Path) -> Path:
    mm = tmp_path / "mm"
    mm.mkdir()
    for i in range(MIN_ITEMS + 2):
        (mm / f"zap{i}.c").write_text((ZAP_BUG if i == 0 else ZAP_CLEAN).replace(
            "demo_zap", f"demo_zap{i}"))
    return tmp_path


def _run_with_tty_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the tool with standard error on a pseudo-terminal; (status, stdout, stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(TOOL + args, cwd=cwd, stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL, env=tool_env())
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_for_long_text_runs(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    rc, out, err = _run_with_tty_stderr(["scan", "mm"], root)
    assert rc == 1 and "[bracketing-unbalanced]" in out
    assert "scan [" in err and f"/{MIN_ITEMS + 2}" in err
    assert "scan [" not in out


def test_no_progress_bar_in_machine_formats_or_off_a_terminal(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    for fmt in ("json", "sarif"):
        rc, out, err = _run_with_tty_stderr(["scan", "mm", "--format", fmt], root)
        assert rc == 1 and "scan [" not in err and "scan [" not in out
    proc = run_tool(["scan", "mm"], root)  # standard error is a pipe
    assert proc.returncode == 1 and b"scan [" not in proc.stderr


def test_no_progress_bar_for_short_runs(tmp_path: Path) -> None:
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "zap.c").write_text(ZAP_CLEAN)
    rc, _out, err = _run_with_tty_stderr(["scan", "mm"], tmp_path)
    assert rc == 0 and "scan [" not in err

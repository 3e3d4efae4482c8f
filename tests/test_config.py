"""`.notifier-review.toml`, suppressions and `notifier-review baseline` (issue 6).

A repository in tmp_path holds a kernel-like file with a bracketing bug; `scan` and `check` run
the real command line under configurations that turn rules or families off, change a rule's
severity, include or exclude paths, set the kernel version, add tables, and suppress findings by
fingerprint.  Malformed configurations end in one line naming the file and the problem, exit 2.
The baseline round trip: accept every finding, see none, add a new bug, see only that one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workflow_support import BUG_RULE, ZAP_BUG, bug_tree, run_tool

OTHER_BUG = ZAP_BUG.replace("demo_zap", "demo_zap_other")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return bug_tree(tmp_path)


def _scan_json(root: Path, *extra: str, cwd: Path | None = None) -> tuple[int, dict]:
    proc = run_tool(["scan", "mm", "--format", "json", *extra], cwd or root)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def _config(root: Path, body: str, name: str = ".notifier-review.toml") -> Path:
    path = root / name
    path.write_text(body)
    return path


def _one_line_error(proc, *needles: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, (proc.returncode, err, proc.stdout.decode())
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


def test_without_configuration_the_bug_is_found(tree: Path) -> None:
    rc, data = _scan_json(tree)
    assert rc == 1 and [f["rule"] for f in data["findings"]] == [BUG_RULE]


@pytest.mark.parametrize("name", [BUG_RULE, "bracketing"])
def test_a_rule_or_family_turned_off(tree: Path, name: str) -> None:
    _config(tree, f'[rules]\n"{name}" = "off"\n')
    rc, data = _scan_json(tree)
    assert rc == 0 and data["findings"] == []
    rc, data = _scan_json(tree, "--no-config")
    assert rc == 1 and len(data["findings"]) == 1


def test_severity_per_rule(tree: Path) -> None:
    _config(tree, f'[rules]\n"{BUG_RULE}" = "warning"\n')
    rc, data = _scan_json(tree)
    assert [f["severity"] for f in data["findings"]] == ["warning"]
    proc = run_tool(["scan", "mm", "--fail-on", "error"], tree)
    assert proc.returncode == 0 and "mm/zap.c:13: warning:" in proc.stdout.decode()


@pytest.mark.parametrize("paths, found", [
    ('exclude = ["mm/*"]', 0),
    ('exclude = ["mm/other.c"]', 1),
    ('include = ["drivers/*"]', 0),
    ('include = ["mm"]', 1),
    ('include = ["mm/"]\nexclude = ["mm/zap.c"]', 0),
])
def test_paths_included_and_excluded(tree: Path, paths: str, found: int) -> None:
    _config(tree, f"[paths]\n{paths}\n")
    _, data = _scan_json(tree)
    assert len(data["findings"]) == found
    # the same from a subdirectory: the file is found upwards, globs stay relative to it
    proc = run_tool(["scan", ".", "--format", "json"], tree / "mm")
    assert len(json.loads(proc.stdout)["findings"]) == found


def test_paths_apply_to_check_mode_too(tree: Path) -> None:
    _config(tree, '[paths]\nexclude = ["mm/zap.c"]\n')
    proc = run_tool(["check", "HEAD~1..HEAD"], tree)
    assert proc.returncode == 0 and BUG_RULE not in proc.stdout.decode()


def test_kernel_version_and_tables_from_the_configuration(tree: Path) -> None:
    _config(tree, 'kernel = "6.1"\n')
    _, data = _scan_json(tree)
    assert data["kernel"] == "6.1"
    _, data = _scan_json(tree, "--kernel", "5.10")  # the command line wins
    assert data["kernel"] == "5.10"
    (tree / "tools").mkdir()
    (tree / "tools" / "api.toml").write_text("[[acquire]\nname = 'x'\n")
    _config(tree, 'tables = ["tools/api.toml"]\n')
    proc = run_tool(["scan", "mm"], tree)
    _one_line_error(proc, "api.toml")


def test_suppression_by_fingerprint_with_reason(tree: Path) -> None:
    _, data = _scan_json(tree)
    fp = data["findings"][0]["fingerprint"]
    _config(tree, f'[[suppress]]\nfingerprint = "{fp}"\n'
                  'reason = "the caller ends the range (checked by hand)"\n')
    rc, data = _scan_json(tree)
    assert rc == 0 and data["findings"] == []
    (sup,) = data["suppressed"]
    assert sup["fingerprint"] == fp and sup["suppressed"].startswith("the caller ends")
    proc = run_tool(["scan", "mm"], tree)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and BUG_RULE not in out and "1 finding suppressed" in out
    # fingerprints do not depend on line numbers: the same suppression holds in check mode
    proc = run_tool(["check", "HEAD~1..HEAD"], tree)
    assert proc.returncode == 0 and BUG_RULE not in proc.stdout.decode()


@pytest.mark.parametrize("body, needle", [
    ('[[suppress]]\nfingerprint = "0123456789abcdef"\n', "has no reason"),
    ('[[suppress]]\nfingerprint = "0123456789abcdef"\nreason = "  "\n', "has no reason"),
    ('[[suppress]]\nreason = "why"\n', "has no fingerprint"),
    ('[rules]\nbracketing-unbalancd = "off"\n', "unknown rule or family 'bracketing-unbalancd'"),
    (f'[rules]\n"{BUG_RULE}" = "loud"\n', "want one of on, off, warning, error"),
    ('kernel = "six"\n', "not a kernel version"),
    ('colour = "red"\n', "unknown key 'colour'"),
    ('[paths]\ninclude = "mm/*"\nignore = []\n', "'paths' must be a table"),
    ('[rules\n', "not valid TOML"),
    ('tables = [1]\n', "'tables' must be a string or a list of strings"),
])
def test_malformed_configuration_is_one_line_exit_2(tree: Path, body: str, needle: str) -> None:
    path = _config(tree, body)
    for cmd in (["scan", "mm"], ["check", "HEAD~1..HEAD"]):
        _one_line_error(run_tool(cmd, tree), str(path.name), needle)


def test_explicit_config_file(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "team.toml"
    other.write_text('[rules]\nbracketing = "off"\n')
    rc, data = _scan_json(tree, "--config", str(other))
    assert rc == 0 and data["findings"] == []
    proc = run_tool(["scan", "mm", "--config", str(tmp_path / "missing.toml")], tree)
    _one_line_error(proc, "missing.toml", "no such configuration file")


def test_baseline_round_trip(tree: Path) -> None:
    proc = run_tool(["baseline", "mm"], tree)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "wrote 1 suppression" in proc.stderr.decode()
    baseline = tree / ".notifier-review-baseline.toml"
    text = baseline.read_text()
    assert f'rule = "{BUG_RULE}"' in text and 'file = "mm/zap.c"' in text
    assert 'reason = "baseline ' in text
    # everything accepted: nothing shown, exit 0
    rc, data = _scan_json(tree)
    assert rc == 0 and data["findings"] == [] and len(data["suppressed"]) == 1
    # a new bug elsewhere is the only thing shown
    (tree / "mm" / "other.c").write_text(OTHER_BUG)
    rc, data = _scan_json(tree)
    assert rc == 1 and [(f["file"], f["function"]) for f in data["findings"]] == [
        ("mm/other.c", "demo_zap_other")]
    # a reason the team wrote survives a re-run of baseline
    baseline.write_text(text.replace(text[text.index('reason = "'):].splitlines()[0],
                                     'reason = "known: fixed in the next cycle"'))
    assert run_tool(["baseline", "mm"], tree).returncode == 0
    again = baseline.read_text()
    assert 'reason = "known: fixed in the next cycle"' in again and again.count("[[suppress]]") == 2
    rc, data = _scan_json(tree)
    assert rc == 0 and data["findings"] == []
    # an emptied reason is refused
    baseline.write_text(again.replace('reason = "known: fixed in the next cycle"', 'reason = ""'))
    _one_line_error(run_tool(["scan", "mm"], tree), ".notifier-review-baseline.toml",
                    "has no reason")


def test_baseline_with_a_configuration_goes_beside_it(tree: Path) -> None:
    (tree / "ci").mkdir()
    _config(tree, 'baseline = "ci/accepted.toml"\n')
    assert run_tool(["baseline"], tree).returncode == 0  # default: the repository root
    assert (tree / "ci" / "accepted.toml").is_file()
    rc, data = _scan_json(tree)
    assert rc == 0 and len(data["suppressed"]) == 1


def test_baseline_never_replaces_a_foreign_file_without_force(tree: Path) -> None:
    target = tree / ".notifier-review-baseline.toml"
    target.write_text("# ours, by hand\n")
    _one_line_error(run_tool(["baseline", "mm"], tree), "--force")
    assert target.read_text() == "# ours, by hand\n"
    assert run_tool(["baseline", "mm", "--force"], tree).returncode == 0
    assert (tree / ".notifier-review-baseline.toml.bak").read_text() == "# ours, by hand\n"

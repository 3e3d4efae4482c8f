"""`-j N`: the same findings, in the same order, as one job (reviewer/engine/parallel.py).

A scan of every C fixture, and a git range of patches that turn silent fixtures into firing
ones (and one patch that fixes an earlier finding again), are reviewed with one and with two
jobs; the JSON reports must be identical.  No timing here: speed is measured by the benches.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sources_support import commit, init_repo

from reviewer.analysis.knowledge import load_knowledge
from reviewer.engine.parallel import map_ordered
from reviewer.engine.review import scan_paths
from reviewer.engine.rule import RunOptions
from reviewer.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_C = REPO_ROOT / "fixtures" / "c"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args], cwd=cwd, capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def _report(report) -> tuple[list[dict], list[str], list[str], int]:
    return ([f.to_json() for f in report.findings], report.functions_bounded,
            report.functions_skipped, report.functions_analysed)


def test_scan_with_two_jobs_matches_one_job() -> None:
    options = RunOptions(knowledge=load_knowledge([], None))
    one = scan_paths([str(FIXTURES_C)], options, jobs=1)
    two = scan_paths([str(FIXTURES_C)], options, jobs=2)
    assert one.files_scanned == two.files_scanned > 2
    assert one.findings, "the fixtures should fire"
    assert _report(one) == _report(two)


def _families() -> list[str]:
    return sorted(d.name for d in FIXTURES_C.iterdir()
                  if (d / "fire.c").exists() and (d / "silent.c").exists())


def test_check_range_with_two_jobs_matches_one_job(tmp_path: Path) -> None:
    fams = _families()
    assert len(fams) >= 2
    repo = init_repo(tmp_path / "linux")
    silent = {f"mm/{fam}.c": (FIXTURES_C / fam / "silent.c").read_text() for fam in fams}
    base = commit(repo, silent, "mm: the silent idioms")
    for fam in fams:
        commit(repo, {f"mm/{fam}.c": (FIXTURES_C / fam / "fire.c").read_text()},
               f"mm/{fam}: the firing idioms")
    commit(repo, {"Documentation/notes.txt": "not C\n"}, "docs: a note")
    commit(repo, {f"mm/{fams[0]}.c": silent[f"mm/{fams[0]}.c"]}, f"mm/{fams[0]}: fixed again")
    outs = []
    for jobs in ("1", "2"):
        res = _cli("check", "--format", "json", "-j", jobs, f"{base.hexsha}..HEAD",
                   cwd=tmp_path / "linux")
        assert res.returncode == 1, res.stderr
        outs.append(json.loads(res.stdout))
    assert outs[0] == outs[1]
    found = outs[0]["findings"]
    assert {f["family"] for f in found} >= set(fams[:1])
    assert any(f["fixed_by"] == len(fams) + 2 for f in found)  # the last patch fixes patch 1


def _fails_on_odd(n: int) -> int:
    if n % 2:
        raise InputError(f"item {n}", "odd")
    return n * 10


def test_map_ordered_keeps_order_and_carries_errors_back() -> None:
    assert list(map_ordered(lambda n: n * 10, list(range(7)), 2)) == [n * 10 for n in range(7)]
    got = []
    try:
        for out in map_ordered(_fails_on_odd, [0, 2, 4, 5, 6], 2):
            got.append(out)
    except InputError as exc:
        assert exc.one_line() == "item 5: odd"
    else:
        raise AssertionError("the worker's InputError was not raised here")
    assert got == [0, 20, 40]

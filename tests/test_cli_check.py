"""End-to-end tests of `notifier-review check` and `scan` on real git repositories (issue 2).

Each test builds a repository with gitpython in tmp_path, commits kernel-like C written for these
tests, and runs the real command line in a subprocess: range mode, patch files (fragment and
blob-index tree mode), the staged index, only-introduced findings, a finding removed later in the
series, JSON output, exit statuses, and one-line errors for bad input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sources_support import commit, format_patch, init_repo

REPO_ROOT = Path(__file__).resolve().parents[1]

BASE_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mmu_notifier.h>

static int demo_clear(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct mmu_notifier_range range;
	int err;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	err = demo_clear_ptes(mm, start, end);
	mmu_notifier_invalidate_range_end(&range);
	return err;
}

static void demo_other(struct mm_struct *mm)
{
	demo_touch(mm);
}
"""

BUGGY_C = BASE_C.replace(
    "\terr = demo_clear_ptes(mm, start, end);\n",
    "\terr = demo_clear_ptes(mm, start, end);\n\tif (err == -EAGAIN)\n\t\treturn err;\n",
)
FIXED_C = BASE_C.replace(
    "\terr = demo_clear_ptes(mm, start, end);\n",
    "\terr = demo_clear_ptes(mm, start, end);\n\tif (err == -EAGAIN)\n\t\tgoto out;\n",
).replace("\tmmu_notifier_invalidate_range_end(&range);\n",
          "out:\n\tmmu_notifier_invalidate_range_end(&range);\n")


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
    res.stdout = res.stdout.decode("utf-8", "replace")
    res.stderr = res.stderr.decode("utf-8", "replace")
    return res


def make_series(tmp_path: Path):
    repo = init_repo(tmp_path / "linux")
    base = commit(repo, {"mm/demo.c": BASE_C}, "mm: add demo")
    bug = commit(repo, {"mm/demo.c": BUGGY_C}, "mm/demo: bail out early on -EAGAIN")
    touch = commit(repo, {"mm/demo.c": BUGGY_C.replace("demo_touch(mm);",
                                                       "demo_touch(mm);\n\tdemo_log(mm);")},
                   "mm/demo: log in demo_other")
    fix = commit(repo, {"mm/demo.c": FIXED_C.replace("demo_touch(mm);",
                                                     "demo_touch(mm);\n\tdemo_log(mm);")},
                 "mm/demo: end the range on the -EAGAIN path")
    return repo, base, [bug, touch, fix]


def test_range_mode_reports_introduced_finding_and_later_fix(tmp_path: Path) -> None:
    repo, base, commits = make_series(tmp_path)
    res = run("check", f"{base.hexsha}..HEAD", "--format", "json", cwd=tmp_path / "linux")
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert out["mode"] == "tree"
    assert [p["commit"] for p in out["patches"]] == [c.hexsha for c in commits]
    assert [p["index"] for p in out["patches"]] == [1, 2, 3]
    (f,) = out["findings"]
    assert f["rule"] == "bracketing-unbalanced"
    assert f["family"] == "bracketing"
    assert f["severity"] == "error"
    assert f["file"] == "mm/demo.c"
    assert f["function"] == "demo_clear"
    assert f["patch"] == 1
    assert f["fixed_by"] == 3  # the third patch removes it
    assert BUGGY_C.splitlines()[f["line"] - 1].strip() == "return err;"
    assert [s["line"] for s in f["path"]][0] == 10  # the start
    assert len(f["fingerprint"]) == 16
    for key in ("message", "path", "fingerprint"):
        assert key in f


def test_only_what_the_patch_introduces(tmp_path: Path) -> None:
    """Patch 2 touches another function of a file that already has the bug: nothing to
    report."""
    repo, base, commits = make_series(tmp_path)
    rng = f"{commits[0].hexsha}..{commits[1].hexsha}"
    res = run("check", rng, "--format", "json", cwd=tmp_path / "linux")
    assert res.returncode == 0, res.stdout
    assert json.loads(res.stdout)["findings"] == []


def test_finding_already_there_is_not_reported_unless_all(tmp_path: Path) -> None:
    """A patch that edits the code of the function holding an old bug, next to it, is reviewed
    (the function is walked before and after) but the old finding is not its doing; --all shows
    it."""
    repo = init_repo(tmp_path / "linux")
    base = commit(repo, {"mm/demo.c": BUGGY_C}, "base with an old bug")
    edited = BUGGY_C.replace("\terr = demo_clear_ptes(mm, start, end);\n",
                             "\tdemo_count(mm);\n\terr = demo_clear_ptes(mm, start, end);\n")
    commit(repo, {"mm/demo.c": edited}, "mm/demo: count clears")
    res = run("check", f"{base.hexsha}..HEAD", "--format", "json", cwd=tmp_path / "linux")
    out = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout
    assert out["stats"]["functions_analysed"] == 1  # demo_clear() was looked at
    assert out["findings"] == []
    res = run("check", f"{base.hexsha}..HEAD", "--format", "json", "--all",
              cwd=tmp_path / "linux")
    assert res.returncode == 1
    assert [f["rule"] for f in json.loads(res.stdout)["findings"]] == ["bracketing-unbalanced"]


def test_text_output_and_fail_on(tmp_path: Path) -> None:
    repo, base, commits = make_series(tmp_path)
    res = run("check", f"{base.hexsha}..{commits[0].hexsha}", cwd=tmp_path / "linux")
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith("notifier-review: mode tree")
    assert any(ln.startswith("mm/demo.c:13: error: [bracketing-unbalanced] demo_clear(): ")
               for ln in lines), res.stdout
    assert lines[-1].startswith("total: 1 error, 0 warnings in 1 patch")
    never = run("check", f"{base.hexsha}..{commits[0].hexsha}", "--fail-on", "never",
                cwd=tmp_path / "linux")
    assert never.returncode == 0


def test_merge_commits_are_skipped_with_a_note(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "linux")
    base = commit(repo, {"mm/demo.c": BASE_C}, "base")
    repo.git.checkout("-q", "-b", "side")
    commit(repo, {"mm/other.c": "int x;\n"}, "side work")
    repo.git.checkout("-q", "master")
    commit(repo, {"mm/demo.c": BUGGY_C}, "the bug")
    repo.git.merge("-q", "--no-edit", "side")
    res = run("check", f"{base.hexsha}..HEAD", cwd=tmp_path / "linux")
    assert res.returncode == 1
    assert "note: skipped merge commit" in res.stdout


def test_patch_files_fragment_and_blob_index_modes(tmp_path: Path) -> None:
    repo, base, commits = make_series(tmp_path)
    files = format_patch(repo, f"{base.hexsha}..{commits[0].hexsha}", tmp_path / "out")
    # outside any repository: fragment mode
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    frag = run("check", str(files[0]), "--format", "json", cwd=elsewhere)
    out = json.loads(frag.stdout)
    assert out["mode"] == "fragment"
    # the hunk does not show demo_clear() whole: nothing is claimed, and that is said
    assert out["findings"] == []
    assert any("demo_clear" in s for s in out["stats"]["functions_skipped"])
    # inside the repository that holds the blobs: real images, the finding is found
    tree = run("check", str(files[0]), "--format", "json", cwd=tmp_path / "linux")
    out = json.loads(tree.stdout)
    assert out["mode"] == "tree"
    assert [f["rule"] for f in out["findings"]] == ["bracketing-unbalanced"]
    assert out["patches"][0]["subject"].endswith("bail out early on -EAGAIN")
    # and from standard input
    stdin = run("check", "-", "-C", str(tmp_path / "linux"), cwd=elsewhere,
                stdin=files[0].read_bytes())
    assert stdin.returncode == 1 and "bracketing-unbalanced" in stdin.stdout


def test_staged_index(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "linux")
    commit(repo, {"mm/demo.c": BASE_C}, "base")
    (tmp_path / "linux" / "mm" / "demo.c").write_text(BUGGY_C)
    clean = run("check", "--staged", cwd=tmp_path / "linux")
    assert clean.returncode == 0  # nothing staged yet: the work tree is not the index
    repo.git.add("mm/demo.c")
    res = run("check", "--staged", cwd=tmp_path / "linux")
    assert res.returncode == 1
    assert "bracketing-unbalanced" in res.stdout


def test_example_in_readme_runs(tmp_path: Path) -> None:
    example = REPO_ROOT / "fixtures" / "examples" / "demo-remap-leak.patch"
    res = run("check", "--fail-on", "never", str(example), cwd=tmp_path)
    assert res.returncode == 0
    assert "mode fragment" in res.stdout
    assert "[bracketing-unbalanced] demo_remap_range()" in res.stdout


def test_scan_mode(tmp_path: Path) -> None:
    src = tmp_path / "drivers"
    src.mkdir()
    (src / "a.c").write_text(BUGGY_C)
    (src / "b.c").write_text(BASE_C)
    res = run("scan", str(src), "--format", "json", cwd=tmp_path)
    out = json.loads(res.stdout)
    assert res.returncode == 1
    assert out["mode"] == "scan"
    assert out["stats"]["files_scanned"] == 2
    assert [(f["file"].endswith("a.c"), f["patch"]) for f in out["findings"]] == [(True, None)]


def one_line_error(res: subprocess.CompletedProcess, name: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    err = res.stderr
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert name in err


def test_bad_inputs_get_one_line_and_status_2(tmp_path: Path) -> None:
    repo, base, commits = make_series(tmp_path)
    linux = tmp_path / "linux"
    one_line_error(run("check", "nosuchrev..HEAD", cwd=linux), "nosuchrev..HEAD")
    one_line_error(run("check", cwd=linux), "upstream")  # no upstream configured
    bad = tmp_path / "broken.patch"
    bad.write_text("--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,3 +1,3 @@\n-a\n+b\n")
    one_line_error(run("check", str(bad), cwd=tmp_path), "broken.patch")
    empty = tmp_path / "empty.mbox"
    empty.write_text("From nobody Mon Jan  1 00:00:00 2024\nSubject: hello\n\nno patch here\n")
    one_line_error(run("check", str(empty), cwd=tmp_path), "empty.mbox")
    binary = tmp_path / "bin.patch"
    binary.write_text("diff --git a/fw.bin b/fw.bin\nindex 1111111..2222222 100644\n"
                      "Binary files a/fw.bin and b/fw.bin differ\n")
    one_line_error(run("check", str(binary), cwd=tmp_path), "bin.patch")
    one_line_error(run("scan", str(tmp_path / "nope"), cwd=tmp_path), "nope")
    one_line_error(run("check", "missing.patch", cwd=tmp_path), "missing.patch")
    blob = tmp_path / "blob.c"
    blob.write_bytes(b"\x7fELF\x00\x00\x01")
    one_line_error(run("scan", str(blob), cwd=tmp_path), "blob.c")
    garbage = tmp_path / "garbage.c"
    garbage.write_text("}}}} ((( this is not C at all ;;; {{{\n" * 5)
    one_line_error(run("scan", str(garbage), cwd=tmp_path), "garbage.c")
    example = REPO_ROOT / "fixtures" / "examples" / "demo-remap-leak.patch"
    one_line_error(run("check", "--kernel", "banana", str(example), cwd=tmp_path), "banana")
    one_line_error(run("explain", "no-such-rule", cwd=tmp_path), "no-such-rule")
    # nothing the user had is changed
    assert repo.is_dirty(untracked_files=True) is False


def test_comment_only_change_is_not_walked_again(tmp_path: Path) -> None:
    """A patch that only adds comments inside a function cannot add a finding there; the
    function is not analysed, while a code change next to it still is."""
    repo = init_repo(tmp_path / "linux")
    base = commit(repo, {"mm/demo.c": BUGGY_C}, "base with an old bug")
    commented = BUGGY_C.replace("\tif (err == -EAGAIN)\n",
                                "\t/* callers retry on -EAGAIN */\n\tif (err == -EAGAIN)\n")
    commit(repo, {"mm/demo.c": commented}, "mm/demo: document the retry")
    res = run("check", f"{base.hexsha}..HEAD", "--format", "json", "--all",
              cwd=tmp_path / "linux")
    out = json.loads(res.stdout)
    assert out["stats"]["functions_analysed"] == 0
    assert out["findings"] == []
    code = commented.replace("demo_touch(mm);", "demo_touch(mm);\n\tdemo_log(mm);")
    commit(repo, {"mm/demo.c": code}, "mm/demo: log")
    res = run("check", "HEAD~1..HEAD", "--format", "json", cwd=tmp_path / "linux")
    assert json.loads(res.stdout)["stats"]["functions_analysed"] == 1

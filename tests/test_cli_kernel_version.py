"""`--kernel` and the tree's Makefile change the verdict of atomic-sleep and thp-range (issue 4).

The same driver code is right or wrong depending on the kernel it is written for: a start
callback that sleeps without a blockable check is fine before 4.19 and a bug from 4.19 on, and
`.invalidate_page` is fine up to 4.12 and gone from 4.13.  These tests run the real command line
in a subprocess on a git repository made with gitpython, and check that the output names the
version the verdict assumed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sources_support import commit, init_repo
from test_cli_check import run

BASE_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mmu_notifier.h>

struct demo_dev {
	struct mmu_notifier mn;
	struct mutex lock;
};

static const struct mmu_notifier_ops demo_mn_ops = {
};
"""

DRIVER_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mmu_notifier.h>

struct demo_dev {
	struct mmu_notifier mn;
	struct mutex lock;
};

static void demo_start(struct mmu_notifier *mn, struct mm_struct *mm,
		unsigned long start, unsigned long end)
{
	struct demo_dev *dev = container_of(mn, struct demo_dev, mn);

	mutex_lock(&dev->lock);
	demo_unmap(dev, start, end);
	mutex_unlock(&dev->lock);
}

static void demo_page(struct mmu_notifier *mn, struct mm_struct *mm, unsigned long address)
{
	demo_unmap(container_of(mn, struct demo_dev, mn), address, address + PAGE_SIZE);
}

static const struct mmu_notifier_ops demo_mn_ops = {
	.invalidate_range_start = demo_start,
	.invalidate_page = demo_page,
};
"""

MAKEFILE = "VERSION = 4\nPATCHLEVEL = 10\nSUBLEVEL = 0\nEXTRAVERSION =\n"


def rules_of(res: subprocess.CompletedProcess) -> list[str]:
    data = json.loads(res.stdout)
    return sorted(f["rule"] for f in data["findings"])


def make_repo(tmp_path: Path):
    repo = init_repo(tmp_path / "linux")
    base = commit(repo, {"Makefile": MAKEFILE, "drivers/demo.c": BASE_C}, "demo: add")
    commit(repo, {"drivers/demo.c": DRIVER_C}, "demo: notifier callbacks")
    return repo, base


def test_kernel_option_changes_the_verdict(tmp_path: Path) -> None:
    _, base = make_repo(tmp_path)
    cwd = tmp_path / "linux"
    rng = f"{base.hexsha}..HEAD"
    # the tree's Makefile says 4.10: sleeping in start is allowed, invalidate_page exists
    tree = run("check", rng, "--format", "json", cwd=cwd)
    assert tree.returncode == 0, tree.stderr
    assert rules_of(tree) == []
    assert json.loads(tree.stdout)["kernel"] == "4.10"
    # 4.19: the start callback must check `blockable`; invalidate_page is gone
    new = run("check", rng, "--kernel", "4.19", "--format", "json", cwd=cwd)
    assert new.returncode == 1, new.stderr
    assert rules_of(new) == ["atomic-sleep-unchecked-blockable",
                             "thp-range-invalidate-page-gone"]
    assert json.loads(new.stdout)["kernel"] == "4.19"
    msgs = " ".join(f["message"] for f in json.loads(new.stdout)["findings"])
    assert "kernel 4.19" in msgs
    # 4.13: start may still sleep, but invalidate_page has been removed
    mid = run("check", rng, "--kernel", "4.13", "--format", "json", cwd=cwd)
    assert rules_of(mid) == ["thp-range-invalidate-page-gone"]


def test_scan_without_version_takes_the_strictest_reading(tmp_path: Path) -> None:
    src = tmp_path / "demo.c"
    src.write_text(DRIVER_C)
    res = run("scan", str(src), cwd=tmp_path)
    out = res.stdout
    assert res.returncode == 1, res.stderr
    assert "kernel unknown (strictest reading)" in out
    assert "[atomic-sleep-unchecked-blockable]" in out
    assert "kernel version unknown, so the strictest reading" in out
    old = run("scan", str(src), "--kernel", "4.10", cwd=tmp_path)
    assert old.returncode == 0, old.stdout
    assert "kernel 4.10" in old.stdout

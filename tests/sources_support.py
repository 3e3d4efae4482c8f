"""Helpers for the sources and images tests: real git repositories built in tmp_path.

A small kernel-like driver (fixtures/patches/demo_notifier.c, our own writing) is committed, then
a three-patch series changes it and adds a file; `git format-patch` turns the series into files.
"""

from __future__ import annotations

from pathlib import Path

import git

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "patches"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ACTOR = git.Actor("Ada Example", "ada@example.org")
DEMO = "mm/demo_notifier.c"
EXTRA = "mm/demo_extra.c"
HEADER = "include/linux/demo.h"

DEMO_C = (FIXTURES / "demo_notifier.c").read_text()
DEMO_H = "/* demo.h */\n#ifndef DEMO_H\n#define DEMO_H\nstruct demo_dev;\n#endif\n"
EXTRA_C = "// SPDX-License-Identifier: GPL-2.0\nint demo_extra(void)\n{\n\treturn 0;\n}\n"


def init_repo(path: Path, branch: str = "master") -> git.Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch=branch)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", ACTOR.name)
        cw.set_value("user", "email", ACTOR.email)
        cw.set_value("commit", "gpgsign", "false")
    return repo


def write(repo: git.Repo, files: dict[str, str | bytes | None]) -> None:
    """Write (or delete, for None) files in the work tree and stage them."""
    root = Path(repo.working_tree_dir or ".")
    for rel, content in files.items():
        target = root / rel
        if content is None:
            repo.git.rm("-q", rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        repo.git.add(rel)


def commit(repo: git.Repo, files: dict[str, str | bytes | None], message: str) -> git.Commit:
    write(repo, files)
    repo.git.commit("-q", "--allow-empty", "-m", message)
    return repo.head.commit


def demo_after_patch1() -> str:
    return DEMO_C.replace("\tint ret;\n\n", "\tint ret;\n\n\tmight_sleep();\n", 1)


def demo_after_patch2() -> str:
    text = demo_after_patch1().replace("\t\treturn ret;\n", "\t\tgoto out;\n", 1)
    return text.replace("\tdemo_sync(dev);\n", "\tdemo_sync(dev);\nout:\n", 1)


def build_series(repo: git.Repo) -> tuple[git.Commit, list[git.Commit]]:
    """A base commit and three patches on top of it."""
    base = commit(repo, {DEMO: DEMO_C, HEADER: DEMO_H}, "demo: add the demo driver")
    p1 = commit(repo, {DEMO: demo_after_patch1()},
                "mm/demo: allow sleeping in demo_flush\n\nThe flush may wait for the device.\n")
    p2 = commit(repo, {DEMO: demo_after_patch2()},
                "mm/demo: end the range on the error path\n\nJump to the end of the range.\n")
    header = DEMO_H.replace("struct demo_dev;\n", "struct demo_dev;\nint demo_extra(void);\n")
    p3 = commit(repo, {EXTRA: EXTRA_C, HEADER: header},
                "mm/demo: add demo_extra\n\nA helper for later patches.\n")
    return base, [p1, p2, p3]


def format_patch(repo: git.Repo, rev_range: str, outdir: Path, *extra: str) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    names = repo.git.format_patch("-o", str(outdir), *extra, rev_range).split()
    return [Path(n) for n in names]

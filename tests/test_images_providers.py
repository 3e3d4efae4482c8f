"""Image providers for patch files: blob index, tree apply, fragments; and the hunk applier."""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest
from sources_support import (
    DEMO,
    DEMO_C,
    EXTRA,
    EXTRA_C,
    FIXTURES,
    HEADER,
    build_series,
    commit,
    demo_after_patch1,
    demo_after_patch2,
    format_patch,
    init_repo,
)

from reviewer.errors import InputError
from reviewer.images.apply import HunkDoesNotApply, apply_hunks, split_text
from reviewer.images.fragment import FragmentProvider
from reviewer.images.gitblob import BlobIndexProvider
from reviewer.images.select import provider_for_files
from reviewer.images.treeapply import TreeApplyProvider
from reviewer.model import Series
from reviewer.sources import series_from_files


def _series(tmp_path: Path, with_base: bool = False,
            ) -> tuple[git.Repo, git.Commit, list[git.Commit], Series]:
    repo = init_repo(tmp_path / "repo")
    base, commits = build_series(repo)
    extra = [f"--base={base.hexsha}"] if with_base else []
    files = format_patch(repo, f"{base.hexsha}..HEAD", tmp_path / "out", *extra)
    return repo, base, commits, series_from_files([str(f) for f in files])


def _post(provider, series: Series, n: int, path: str) -> str:
    patch = series.patches[n]
    change = next(c for c in patch.files if c.path == path)
    return provider.images(patch, change).post[0].text.decode()


def test_fragment_pieces_keep_line_numbers() -> None:
    series = series_from_files([str(FIXTURES / "prose-around.txt")])
    patch = series.patches[0]
    images = FragmentProvider().images(patch, patch.files[0])
    assert images.fragment
    (pre,), (post,) = images.pre, images.post
    assert pre.first_line == 10 and post.first_line == 10
    post_lines = post.text.decode().splitlines()
    assert post_lines[3] == "\t\tgoto out;"  # line 13 of the post image
    assert post_lines[5] == "out:"  # line 15
    assert "\t\treturn ret;" in pre.text.decode().splitlines()
    assert len(pre.text.decode().splitlines()) == 8 and len(post_lines) == 9
    assert post.ident.startswith("sha1:")


def test_fragment_new_file_has_no_pre(tmp_path: Path) -> None:
    _, _, _, series = _series(tmp_path)
    patch = series.patches[2]
    change = next(c for c in patch.files if c.path == EXTRA)
    images = FragmentProvider().images(patch, change)
    assert images.pre == [] and images.post[0].first_line == 1


def test_blob_index_detection(tmp_path: Path) -> None:
    repo, base, commits, series = _series(tmp_path)
    provider = provider_for_files(series, None, str(tmp_path / "repo"))
    assert isinstance(provider, BlobIndexProvider) and provider.mode == "tree"
    assert _post(provider, series, 0, DEMO) == demo_after_patch1()
    images = provider.images(series.patches[1], series.patches[1].files[0])
    assert images.pre[0].ident == (commits[0].tree / DEMO).hexsha
    assert images.post[0].text.decode() == demo_after_patch2()
    assert not images.fragment


def test_unrelated_repo_gives_fragments(tmp_path: Path) -> None:
    _, _, _, series = _series(tmp_path)
    other = init_repo(tmp_path / "other")
    commit(other, {"README": "hello\n"}, "unrelated")
    provider = provider_for_files(series, None, str(tmp_path / "other"))
    assert provider.mode == "fragment"
    assert provider_for_files(series, None, str(tmp_path / "out")).mode == "fragment"


def test_plain_diff_without_index_lines_gives_fragments(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {DEMO: DEMO_C}, "base")
    series = series_from_files([str(FIXTURES / "plain.diff")])
    assert provider_for_files(series, None, str(tmp_path / "repo")).mode == "fragment"


def _moved_tree(tmp_path: Path, base: git.Commit) -> git.Repo:
    """A checkout holding `base` whose HEAD has since changed the demo driver."""
    tree = git.Repo.clone_from(str(tmp_path / "repo"), str(tmp_path / "tree"))
    tree.git.checkout("-q", "-B", "master", base.hexsha)
    with tree.config_writer() as cw:
        cw.set_value("user", "name", "Ada Example")
        cw.set_value("user", "email", "ada@example.org")
    commit(tree, {DEMO: DEMO_C.replace("\tint ret;\n", "\tint err;\n")}, "rename ret")
    return tree


def test_tree_apply_at_base_commit(tmp_path: Path) -> None:
    _, base, commits, series = _series(tmp_path, with_base=True)
    assert series.patches[0].base_commit == base.hexsha
    tree = _moved_tree(tmp_path, base)
    before = tree.head.commit.hexsha
    provider = provider_for_files(series, str(tmp_path / "tree"), None)
    assert isinstance(provider, TreeApplyProvider) and provider.mode == "tree"
    assert any("base-commit" in n for n in provider.notes)
    assert _post(provider, series, 0, DEMO) == demo_after_patch1()
    second = provider.images(series.patches[1], series.patches[1].files[0])
    first_post = provider.images(series.patches[0], series.patches[0].files[0]).post[0]
    assert second.pre[0].text == first_post.text  # post of N is pre of N+1
    assert second.post[0].text.decode() == demo_after_patch2()
    assert _post(provider, series, 2, EXTRA) == EXTRA_C
    header = (commits[2].tree / HEADER).data_stream.read().decode()
    assert _post(provider, series, 2, HEADER) == header
    assert (tmp_path / "tree" / DEMO).read_text() != demo_after_patch2()
    assert tree.head.commit.hexsha == before and not tree.is_dirty(untracked_files=True)


def test_tree_apply_without_base_uses_head_and_falls_back(tmp_path: Path) -> None:
    _, base, _, series = _series(tmp_path)
    assert all(p.base_commit is None for p in series.patches)
    _moved_tree(tmp_path, base)
    provider = provider_for_files(series, str(tmp_path / "tree"), None)
    assert any("applied to HEAD" in n for n in provider.notes)
    # HEAD renamed `ret`: patch 1's context no longer matches, so the driver falls back.
    first = series.patches[0]
    images = provider.images(first, first.files[0])
    assert images.fragment and images.post[0].first_line == 6
    assert any(DEMO in n and "does not apply" in n for n in provider.notes)
    later = provider.images(series.patches[1], series.patches[1].files[0])
    assert later.fragment
    assert any("earlier change to it did not apply" in n for n in provider.notes)
    # Other files of the series still get whole images.
    extra = series.patches[2]
    assert not provider.images(extra, extra.files[1]).fragment


def test_tree_apply_from_plain_directory(tmp_path: Path) -> None:
    (tmp_path / "src" / "mm").mkdir(parents=True)
    shutil.copy(FIXTURES / "demo_notifier.c", tmp_path / "src" / DEMO)
    series = series_from_files([str(FIXTURES / "prose-around.txt")])
    provider = provider_for_files(series, str(tmp_path / "src"), None)
    assert any("not a git repository" in n for n in provider.notes)
    images = provider.images(series.patches[0], series.patches[0].files[0])
    assert not images.fragment
    assert images.pre[0].text == (FIXTURES / "demo_notifier.c").read_bytes()
    assert "\t\tgoto out;\n" in images.post[0].text.decode()


def test_tree_must_exist(tmp_path: Path) -> None:
    series = series_from_files([str(FIXTURES / "plain.diff")])
    with pytest.raises(InputError, match="no such directory"):
        provider_for_files(series, str(tmp_path / "nope"), None)


def test_apply_searches_nearby_offsets() -> None:
    series = series_from_files([str(FIXTURES / "plain.diff")])
    hunks = series.patches[0].files[0].hunks
    lines, _ = split_text(("/* one */\n/* two */\n/* three */\n" + DEMO_C).encode())
    after = apply_hunks(lines, hunks)
    assert after[11] == "\tmight_sleep();"
    with pytest.raises(HunkDoesNotApply):
        apply_hunks(["int x;"] * 20, hunks)


def test_tree_apply_base_commit_missing_from_tree(tmp_path: Path) -> None:
    _, base, _, series = _series(tmp_path, with_base=True)
    other = init_repo(tmp_path / "other")
    commit(other, {DEMO: DEMO_C}, "same file, other history")
    provider = provider_for_files(series, str(tmp_path / "other"), None)
    assert any(f"base-commit {base.hexsha[:12]} is not in" in n for n in provider.notes)
    assert _post(provider, series, 1, DEMO) == demo_after_patch2()

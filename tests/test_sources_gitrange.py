"""Git ranges and the staged index read into a Series, with git-blob images."""

from __future__ import annotations

from pathlib import Path

import git
import pytest
from sources_support import (
    DEMO,
    DEMO_C,
    EXTRA,
    build_series,
    commit,
    demo_after_patch1,
    format_patch,
    init_repo,
    write,
)

from reviewer.errors import InputError
from reviewer.sources import series_from_files, series_from_range, series_from_staged


def test_range_oldest_first_with_blob_images(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base, commits = build_series(repo)
    series, provider = series_from_range(str(tmp_path / "repo"), f"{base.hexsha}..HEAD")
    assert series.origin == "range" and provider.mode == "tree"
    assert [p.commit for p in series.patches] == [c.hexsha for c in commits]
    assert [(p.index, p.total) for p in series.patches] == [(1, 3), (2, 3), (3, 3)]
    first = series.patches[0]
    assert first.subject == "mm/demo: allow sleeping in demo_flush"
    assert first.body == "The flush may wait for the device.\n"
    assert first.author == "Ada Example <ada@example.org>"
    assert first.date and first.diff.startswith("diff --git a/mm/demo_notifier.c")
    images = provider.images(first, first.files[0])
    assert images.pre[0].text.decode() == DEMO_C
    assert images.pre[0].ident == (base.tree / DEMO).hexsha
    assert images.post[0].text.decode() == demo_after_patch1()
    assert images.post[0].ident == (commits[0].tree / DEMO).hexsha
    assert not images.fragment
    added = series.patches[2].files[1]
    assert added.path == EXTRA
    extra = provider.images(series.patches[2], added)
    assert extra.pre == [] and extra.post


def test_range_hunks_match_format_patch(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base, _ = build_series(repo)
    from_git, _ = series_from_range(str(tmp_path / "repo"), f"{base.hexsha}..")
    files = format_patch(repo, f"{base.hexsha}..HEAD", tmp_path / "out")
    from_files = series_from_files([str(f) for f in files])
    for a, b in zip(from_git.patches, from_files.patches, strict=True):
        assert a.files == b.files


def test_merge_is_skipped_with_a_note(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base = commit(repo, {DEMO: DEMO_C}, "base")
    repo.git.checkout("-q", "-b", "side")
    side = commit(repo, {"mm/side.c": "int side;\n"}, "side change")
    repo.git.checkout("-q", "master")
    main = commit(repo, {"mm/main.c": "int main_c;\n"}, "main change")
    repo.git.merge("-q", "--no-ff", "-m", "Merge side", "side")
    series, _ = series_from_range(str(tmp_path / "repo"), f"{base.hexsha}..HEAD")
    assert {p.commit for p in series.patches} == {side.hexsha, main.hexsha}
    assert len(series.patches) == 2
    assert any("skipped merge commit" in n and "Merge side" in n for n in series.notes)


def test_bare_revision_is_one_commit_and_root_has_empty_pre(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base, _ = build_series(repo)
    series, provider = series_from_range(str(tmp_path / "repo"), base.hexsha)
    (patch,) = series.patches
    assert patch.commit == base.hexsha
    change = next(c for c in patch.files if c.path == DEMO)
    images = provider.images(patch, change)
    assert images.pre == [] and images.post[0].text.decode() == DEMO_C


def test_default_range_uses_upstream(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin")
    commit(origin, {DEMO: DEMO_C}, "base")
    clone = git.Repo.clone_from(str(tmp_path / "origin"), str(tmp_path / "clone"))
    with clone.config_writer() as cw:
        cw.set_value("user", "name", "Ada Example")
        cw.set_value("user", "email", "ada@example.org")
    mine = commit(clone, {DEMO: demo_after_patch1()}, "local change")
    series, _ = series_from_range(str(tmp_path / "clone"), None)
    assert [p.commit for p in series.patches] == [mine.hexsha]


def test_no_upstream_is_a_clear_error(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", branch="work")
    commit(repo, {DEMO: DEMO_C}, "base")
    with pytest.raises(InputError) as err:
        series_from_range(str(tmp_path / "repo"), None)
    assert "no upstream configured for branch work" in err.value.message
    assert "origin/master.." in err.value.message


@pytest.mark.parametrize("rev_range", ["nosuch..HEAD", "nosuch", "HEAD..nosuch"])
def test_bad_revision_names_the_range(tmp_path: Path, rev_range: str) -> None:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {DEMO: DEMO_C}, "base")
    with pytest.raises(InputError) as err:
        series_from_range(str(tmp_path / "repo"), rev_range)
    assert err.value.subject == rev_range
    assert "bad revision range" in err.value.message


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a git repository"):
        series_from_range(str(tmp_path), "HEAD")


def test_staged_uses_index_not_work_tree(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    commit(repo, {DEMO: DEMO_C}, "base")
    write(repo, {DEMO: demo_after_patch1()})
    (tmp_path / "repo" / DEMO).write_text("/* unstaged edit */\n")
    series, provider = series_from_staged(str(tmp_path / "repo"))
    (patch,) = series.patches
    assert series.origin == "staged" and patch.subject == "staged changes"
    (change,) = patch.files
    assert change.added_lines() == {9}
    images = provider.images(patch, change)
    assert images.pre[0].text.decode() == DEMO_C
    assert images.post[0].text.decode() == demo_after_patch1()
    assert images.post[0].ident == repo.index.entries[(DEMO, 0)].hexsha


def test_staged_without_head(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, {DEMO: DEMO_C})
    series, provider = series_from_staged(str(tmp_path / "repo"))
    (patch,) = series.patches
    (change,) = patch.files
    assert change.old_path is None and change.new_path == DEMO
    images = provider.images(patch, change)
    assert images.pre == [] and images.post[0].text.decode() == DEMO_C

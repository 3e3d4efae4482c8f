"""Patch files, mboxes, mails, diffs and web-archive text read into a Series."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from sources_support import (
    DEMO,
    EXTRA,
    FIXTURES,
    HEADER,
    SEEDS,
    build_series,
    commit,
    format_patch,
    init_repo,
)

from reviewer.errors import InputError
from reviewer.sources import series_from_files


@pytest.fixture()
def series_files(tmp_path: Path) -> tuple[list[Path], str]:
    repo = init_repo(tmp_path / "repo")
    base, _ = build_series(repo)
    files = format_patch(repo, f"{base.hexsha}..HEAD", tmp_path / "out",
                         "--cover-letter", f"--base={base.hexsha}", "--thread")
    return files, base.hexsha


def test_format_patch_files_shuffled_are_ordered(series_files: tuple[list[Path], str]) -> None:
    files, base = series_files
    shuffled = [str(f) for f in files]
    random.Random(3).shuffle(shuffled)
    series = series_from_files(shuffled)
    assert [p.index for p in series.patches] == [1, 2, 3]
    assert [p.total for p in series.patches] == [3, 3, 3]
    assert [p.clean_subject for p in series.patches] == [
        "mm/demo: allow sleeping in demo_flush",
        "mm/demo: end the range on the error path",
        "mm/demo: add demo_extra",
    ]
    assert series.cover is not None and series.cover.is_cover
    assert series.cover.base_commit == base
    first = series.patches[0]
    assert first.author == "Ada Example <ada@example.org>"
    assert first.message_id and "@" in first.message_id
    assert first.in_reply_to == series.cover.message_id
    assert first.body.strip() == "The flush may wait for the device."
    assert first.diff.startswith("diff --git a/mm/demo_notifier.c")
    assert "---" not in first.body and "1 file changed" not in first.diff
    (change,) = first.files
    assert change.path == DEMO and change.old_blob and change.new_blob
    (hunk,) = change.hunks
    assert hunk.added_lines() == {9}
    assert [p.path for p in series.patches[2].files] == [HEADER, EXTRA]
    assert series.patches[2].files[1].old_path is None


def test_older_version_files_are_ignored(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    base, _ = build_series(repo)
    v1 = format_patch(repo, f"{base.hexsha}..HEAD", tmp_path / "v1")
    v2 = format_patch(repo, f"{base.hexsha}..HEAD", tmp_path / "v2", "-v2")
    series = series_from_files([str(p) for p in v2 + v1])
    assert series.version == 2
    assert [p.index for p in series.patches] == [1, 2, 3]
    assert any("older versions" in n for n in series.notes)


def _mbox(files: list[Path], reply: bytes = b"") -> bytes:
    return b"\n".join(f.read_bytes() for f in files) + reply


REPLY = b"""
From mboxrd@z Thu Jan  1 00:00:00 1970
From: Bo Reviewer <bo@example.org>
Subject: Re: [PATCH 2/3] mm/demo: end the range on the error path
Message-ID: <reply-1@example.org>

> diff --git a/mm/demo_notifier.c b/mm/demo_notifier.c
> @@ -10,8 +10,9 @@
> -\t\treturn ret;
> +\t\tgoto out;

Looks fine.
"""


def test_mbox_series_with_cover_and_reply(series_files: tuple[list[Path], str],
                                          tmp_path: Path) -> None:
    files, _ = series_files
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(_mbox(files, REPLY))
    series = series_from_files([str(mbox)])
    assert series.cover is not None
    assert len(series.patches) == 3
    assert any("skipped reply" in n for n in series.notes)


def test_stdin(series_files: tuple[list[Path], str]) -> None:
    files, _ = series_files
    series = series_from_files(["-"], stdin=io.BytesIO(_mbox(files)))
    assert len(series.patches) == 3
    assert series.patches[0].source == "<stdin>"


def test_single_email_without_from_line(series_files: tuple[list[Path], str],
                                        tmp_path: Path) -> None:
    files, _ = series_files
    raw = files[2].read_bytes().split(b"\n", 1)[1]  # drop the From_ line
    mail = tmp_path / "one.eml"
    mail.write_bytes(raw)
    (patch,) = series_from_files([str(mail)]).patches
    assert patch.index == 2 and patch.total == 3
    assert patch.files[0].path == DEMO


def test_plain_diff() -> None:
    (patch,) = series_from_files([str(FIXTURES / "plain.diff")]).patches
    assert patch.subject == "plain.diff"
    (change,) = patch.files
    assert change.path == DEMO and change.old_blob is None
    (hunk,) = change.hunks
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (6, 6, 6, 7)


def test_prose_around_diff_ignores_quoted_and_pasted_fragments() -> None:
    (patch,) = series_from_files([str(FIXTURES / "prose-around.txt")]).patches
    assert patch.subject.startswith("[2/3] mm/demo")
    assert (patch.index, patch.total) == (2, 3)
    (change,) = patch.files
    (hunk,) = change.hunks
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (10, 8, 10, 9)
    assert hunk.section.startswith("static int demo_flush")
    assert change.old_blob == "5555555"
    assert hunk.added_lines() == {13, 15}


def test_binary_file_beside_text_change_is_marked(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    build_series(repo)
    commit(repo, {"fw/blob.bin": b"\x00\x01\x02\xff", DEMO: "/* x */\n"}, "mixed")
    (patch_file,) = format_patch(repo, "HEAD^..HEAD", tmp_path / "out")
    (patch,) = series_from_files([str(patch_file)]).patches
    kinds = {c.path: c.is_binary for c in patch.files}
    assert kinds == {"fw/blob.bin": True, DEMO: False}


def test_non_ascii_and_broken_encodings(tmp_path: Path) -> None:
    raw = (
        b"From: =?UTF-8?Q?J=C3=A9r=C3=B4me_Example?= <j@example.org>\n"
        b"Subject: =?UTF-8?B?W1BBVENIXSBtbS9kZW1vOiBmaXggdGhlIGTDqW1v?=\n"
        b" =?UTF-8?Q?_notifier?=\n"
        b"Cc: Caf\xe9 <cafe@example.org>, Bo <bo@example.org>\n"
        b"Content-Type: text/plain; charset=utf-8\n\n"
        b"Na\xefve latin-1 bytes in a utf-8 body.\n---\n"
        + (FIXTURES / "plain.diff").read_bytes().replace(b"might_sleep", b"might_sl\xe9ep")
    )
    path = tmp_path / "odd.eml"
    path.write_bytes(raw)
    (patch,) = series_from_files([str(path)]).patches
    assert patch.subject == "[PATCH] mm/demo: fix the démo notifier"
    assert patch.author.startswith("Jérôme Example")
    assert len(patch.cc) == 2
    assert "\ufffd" in patch.body
    added = [ln.text for ln in patch.files[0].hunks[0].lines if ln.kind == "+"]
    assert added == ["\tmight_sl\ufffdep();"]


def test_bad_charset_name_does_not_crash(tmp_path: Path) -> None:
    raw = (b"From: a@example.org\nSubject: [PATCH] x\n"
           b"Content-Type: text/plain; charset=no-such-charset\n\n"
           + (FIXTURES / "plain.diff").read_bytes())
    path = tmp_path / "x.eml"
    path.write_bytes(raw)
    assert series_from_files([str(path)]).patches[0].files[0].path == DEMO


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.patch", None, "cannot read"),
        ("notes.txt", b"Just some words, no diff here.\n", "no diff found"),
        ("replies.mbox", REPLY.lstrip(b"\n"), "mbox with no patches"),
    ],
)
def test_errors_name_the_input(tmp_path: Path, name: str, content: bytes | None,
                               expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        series_from_files([str(path)])
    assert err.value.subject == str(path)
    assert expected in err.value.message


def test_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        series_from_files([str(tmp_path)])


def test_malformed_hunk() -> None:
    path = str(FIXTURES / "malformed-hunk.patch")
    with pytest.raises(InputError) as err:
        series_from_files([path])
    assert err.value.subject == path
    assert "@@ -6,6 +6,8 @@" in err.value.message
    assert "shorter than its header says" in err.value.message


def test_malformed_hunk_before_next_file(tmp_path: Path) -> None:
    text = (FIXTURES / "plain.diff").read_text()
    bad = text.replace("@@ -6,6 +6,7 @@", "@@ -6,9 +6,10 @@") + text
    path = tmp_path / "two.diff"
    path.write_text(bad)
    with pytest.raises(InputError, match="shorter than its header"):
        series_from_files([str(path)])


def test_binary_only() -> None:
    path = str(FIXTURES / "binary-only.patch")
    with pytest.raises(InputError) as err:
        series_from_files([path])
    assert err.value.subject == path and "binary" in err.value.message


seed_002 = SEEDS / "002_fa0e86504e308bde.txt"


@pytest.mark.skipif(not seed_002.exists(), reason="seeds not present")
def test_seed_web_archive_patch() -> None:
    (patch,) = series_from_files([str(seed_002)]).patches
    assert (patch.index, patch.total) == (1, 10)
    paths = [c.path for c in patch.files]
    assert paths == ["include/linux/hmm.h", "mm/hmm.c"]
    hmm_h, hmm_c = patch.files
    assert (hmm_h.old_blob, hmm_h.new_blob) == ("66f9ebbb1df3", "bd6e058597a6")
    assert [(h.old_start, h.old_len, h.new_start, h.new_len) for h in hmm_h.hunks] == [
        (131, 6, 131, 7), (142, 6, 143, 7)]
    assert hmm_h.hunks[0].section == "enum hmm_pfn_value_e {"
    first, last = hmm_c.hunks[0], hmm_c.hunks[-1]
    assert (first.old_start, first.old_len, first.new_start, first.new_len) == (50, 6, 50, 7)
    assert (last.old_start, last.old_len, last.new_start, last.new_len) == (945, 7, 994, 16)
    assert last.section == "int hmm_vma_fault(struct hmm_range *range, bool block)"
    assert len(hmm_c.hunks) == 19

"""Mailing-list replies for the demo-mirror fixture series: golden files, headers, threading, CLI.

The series (fixtures/series/demo-mirror) has one finding in 1/4, two in one hunk of 2/4, one in
each of two files in 3/4, and 4/4 removes the finding of 1/4.  Rendered replies are compared with
tests/golden/email/*.eml (set UPDATE_GOLDEN=1 to rewrite them after a deliberate change), then
parsed back with the email package and every header checked.
"""

from __future__ import annotations

import mailbox
import os
import re
from pathlib import Path

import pytest
from email_support import (
    GOLDEN,
    SENDER,
    as_text,
    body,
    demo_patches,
    demo_repo,
    parse,
    review_files,
    review_range,
    settings,
)

from reviewer.cli.main import main
from reviewer.voices.email_reply import render_replies

GOLDEN_NAMES = ["demo-mirror-0-cover.eml", "demo-mirror-1-one-finding.eml",
                "demo-mirror-2-one-hunk.eml", "demo-mirror-3-two-files.eml"]
TRAILER = re.compile(r"^[A-Z][A-Za-z-]*-by:", re.M)


@pytest.fixture(scope="module")
def demo_report():
    return review_files(demo_patches())


@pytest.fixture(scope="module")
def demo_replies(demo_report):
    return render_replies(demo_report, settings(cover=True))


def check_body_form(text: str) -> None:
    """Trailing whitespace never; prose at most 72 columns; no trailer outside quotes."""
    for line in text.split("\n"):
        assert line == line.rstrip(), repr(line)
        if not line.startswith(">"):
            assert len(line) <= 72, line
            assert not TRAILER.match(line), line


def test_golden_files(demo_replies):
    assert len(demo_replies) == len(GOLDEN_NAMES)
    for msg, name in zip(demo_replies, GOLDEN_NAMES, strict=True):
        text = as_text(msg)
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1?)"


@pytest.mark.parametrize("n", range(4))
def test_golden_headers(n):
    raw = (GOLDEN / GOLDEN_NAMES[n]).read_bytes()
    head = raw.split(b"\n\n", 1)[0]
    assert head.isascii(), "headers must be encoded, never raw UTF-8"
    msg = parse(raw.decode("utf-8"))
    assert str(msg["From"]) == SENDER
    to = msg["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in to] == [("Zoë Martín", "zoe@example.org")]
    assert [a.addr_spec for a in msg["Cc"].addresses] == [
        "linux-mm@kvack.org", "ada@example.org", "mirror-devel@lists.example.org"]
    subjects = ["[PATCH 0/4] drivers/demo: error paths of the mirror",
                "[PATCH 1/4] drivers/demo: stop zapping when clearing fails",
                "[PATCH 2/4] drivers/demo: report copy failures from mirror_move",
                "[PATCH 3/4] drivers/demo: skip work on a device that went away"]
    assert str(msg["Subject"]) == "Re: " + subjects[n]
    assert str(msg["In-Reply-To"]) == f"<demo-mirror-{n}@example.org>"
    refs = ["<demo-mirror-0@example.org>"] + ([f"<demo-mirror-{n}@example.org>"] if n else [])
    assert str(msg["References"]).split() == refs
    assert str(msg["Message-ID"]) == f"<reply-{n + 1}@example.net>"
    assert str(msg["Date"]) == f"Wed, 04 Mar 2026 09:0{n}:00 +0100"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] in ("7bit", "8bit")
    expected = {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to",
                "references", "content-type", "content-transfer-encoding", "mime-version"}
    assert {k.lower() for k in msg} == expected
    check_body_form(body(msg))


def test_one_finding_reply(demo_replies):
    text = body(demo_replies[1])
    assert text.startswith("On Tue, 03 Mar 2026 10:01:00 +0100, Zoë Martín wrote:\n"
                           "> Clearing the device page tables fails")
    assert "Signed-off-by" not in text  # the commit message is cut before its trailers
    quote, comment = text.split("> +\t\treturn ret;\n", 1)
    assert ">  static int mirror_zap(struct mirror_dev *dev, unsigned long start," in quote
    assert comment.lstrip().startswith("mmu_notifier_invalidate_range_start() at line 12")
    assert "  line 15: returns ret" in comment
    assert "Patch 4/4 removes this code again" in comment
    assert text.count("(bracketing-unbalanced)") == 1


def test_findings_in_one_hunk_share_the_quote(demo_replies, demo_report):
    text = body(demo_replies[2])
    assert text.count("> @@ ") == 1
    assert text.count("(bracketing-unbalanced)") == 2
    first, second = text.index("> +\t\t\treturn -EBUSY;"), text.index("> +\t\t\treturn ret;")
    between = text[first:second]
    assert "the return at line 39" in between and "the return at line 41" not in between
    quoted = [ln for ln in text.split("\n") if ln.startswith(("> ", ">")) and ln != ">"]
    hunk = demo_report.results[1].patch.files[0].hunks[0]
    assert len([q for q in quoted if q.startswith(("> +", "> -", ">  "))]) < len(hunk.lines)
    assert "[...]" in text.split("> @@ ", 1)[1]  # the long hunk is cut, and the cut is marked


def test_findings_in_several_files(demo_replies):
    text = body(demo_replies[3])
    assert "> +++ b/drivers/demo/mirror.c" in text
    assert "> +++ b/drivers/demo/mirror_dev.c" in text
    assert text.index("mirror_protect") < text.index("> +++ b/drivers/demo/mirror_dev.c")
    assert text.count("(bracketing-unbalanced)") == 2


def test_cover_summary(demo_replies):
    text = body(demo_replies[0])
    flat = " ".join(text.split())
    assert "over the 4 patches of this series" in flat
    for line in ("  [1/4] drivers/demo: stop zapping when clearing fails: 1 comment",
                 "  [4/4] drivers/demo: end the range when zapping fails: no comments"):
        assert line in text
    assert "Patch 1/4: a notifier range started on a path is not ended" in flat
    assert "in mirror_zap() (drivers/demo/mirror.c:15); patch 4/4 removes that code." in flat
    assert "fragment mode" in flat


def test_clean_patch_gets_no_reply_unless_ack_clean(demo_report):
    plain = render_replies(demo_report, settings())
    assert [str(m["Subject"])[4:13] for m in plain] == ["[PATCH 1/", "[PATCH 2/", "[PATCH 3/"]
    acked = render_replies(demo_report, settings(ack_clean=True))
    assert len(acked) == 4
    text = body(acked[3])
    assert str(acked[3]["In-Reply-To"]) == "<demo-mirror-4@example.org>"
    assert "found nothing to comment on" in text
    assert not TRAILER.search("\n".join(ln for ln in text.split("\n") if not ln.startswith(">")))
    check_body_form(text)


def test_no_cc(demo_report):
    msgs = render_replies(demo_report, settings(no_cc=True))
    assert all(m["Cc"] is None for m in msgs)
    assert all(m["To"].addresses[0].addr_spec == "zoe@example.org" for m in msgs)


def test_range_mode_threads_under_a_generated_id(tmp_path):
    demo_repo(tmp_path / "repo")
    report = review_range(tmp_path / "repo", "HEAD~4..HEAD")
    assert report.mode == "tree"
    msgs = render_replies(report, settings(cover=True))
    cover = msgs[0]
    assert str(cover["Message-ID"]) == "<reply-1@example.net>"
    assert cover["In-Reply-To"] is None and cover["References"] is None
    assert str(cover["Subject"]) == "Re: drivers/demo: stop zapping when clearing fails"
    text = " ".join(body(cover).split())
    assert "carry no Message-ID" in text and "<reply-1@example.net>" in text
    assert "tree mode" in text
    for msg in msgs[1:]:
        assert str(msg["In-Reply-To"]) == "<reply-1@example.net>"
        assert str(msg["References"]) == "<reply-1@example.net>"
        assert "carries no Message-ID" not in body(msg)  # the cover note says it once
        check_body_form(body(msg))
    alone = render_replies(report, settings())
    assert all(str(m["In-Reply-To"]) == "<reply-1@example.net>" for m in alone)
    assert "carries no Message-ID" in " ".join(body(alone[0]).split())


def test_cli_writes_an_mbox(tmp_path, capsys):
    out = tmp_path / "replies.mbox"
    status = main(["check", *demo_patches(), "--format", "email", "--cover", "--from", SENDER,
                   "-o", str(out)])
    assert status == 1  # findings shown
    box = mailbox.mbox(str(out))
    subjects = [str(m["subject"]) for m in box]
    assert len(subjects) == 4 and subjects[0].startswith("Re: [PATCH 0/4]")
    assert all(m["message-id"] and m["in-reply-to"] for m in box)
    assert capsys.readouterr().out == ""


def test_cli_sender_from_git_identity(tmp_path, capsys):
    demo_repo(tmp_path / "repo")
    status = main(["check", "-C", str(tmp_path / "repo"), "HEAD~4..HEAD", "--format", "email"])
    assert status == 1
    msgs = list(mailbox.mbox(_write(tmp_path / "out.mbox", capsys.readouterr().out)))
    assert len(msgs) == 3
    assert {str(m["from"]) for m in msgs} == {"Ada Example <ada@example.org>"}
    assert all("ada@example.org" not in str(m["cc"]) for m in msgs)  # never copy the sender


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_without_any_sender_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("EMAIL", raising=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    status = main(["check", "-C", str(empty), *demo_patches(), "--format", "email"])
    assert status == 2
    err = capsys.readouterr().err
    assert "--from" in err and "Traceback" not in err


def test_cli_scan_has_no_patches_to_answer(tmp_path, capsys):
    src = tmp_path / "x.c"
    src.write_text("int f(void)\n{\n\treturn 0;\n}\n")
    status = main(["scan", str(src), "--format", "email", "--from", SENDER])
    assert status == 2
    assert "replies answer patches" in capsys.readouterr().err

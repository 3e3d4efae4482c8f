"""Reply headers (injection, non-ASCII, subjects, threading), quoting of hunks, mbox, templates.

Patches here are built in memory: the point is what the voice does with hostile or unusual
headers and with long hunks, whatever the rules find.
"""

from __future__ import annotations

import mailbox

import pytest
from email_support import as_text, body, parse, settings

from reviewer.engine.findings import Finding, PathStep
from reviewer.engine.review import PatchResult, Report
from reviewer.errors import InputError, UsageError
from reviewer.model import FileChange, Hunk, HunkLine, Patch, Series
from reviewer.voices import mailheaders as hdr
from reviewer.voices.email_reply import render_replies, write_mbox
from reviewer.voices.mailtext import finish, wrap
from reviewer.voices.quoting import commit_quote, quote_findings

PATH = "drivers/demo/long.c"


def long_hunk(n: int = 40, added: tuple[int, ...] = (30,)) -> Hunk:
    """A hunk of `n` post-image lines starting at line 1; `added` lines are '+' lines."""
    lines = []
    old = 0
    for k in range(1, n + 1):
        if k in added:
            lines.append(HunkLine("+", f"\tdemo_step_{k}(dev);", None, k))
        else:
            old += 1
            lines.append(HunkLine(" ", f"\tdemo_ctx_{k}(dev);", old, k))
    return Hunk(1, old, 1, n, "static int demo_long(struct demo_dev *dev)", lines)


def finding(line: int, message: str = "Something is wrong here.", path=(), **kw) -> Finding:
    return Finding(rule=kw.pop("rule", "bracketing-unbalanced"), family="bracketing",
                   severity="error", file=kw.pop("file", PATH), line=line,
                   function="demo_long", message=message, anchor=f"a{line}",
                   path=list(path), patch=1, **kw)


def make_report(patch: Patch, findings: list[Finding], cover: Patch | None = None) -> Report:
    series = Series(patches=[patch], cover=cover, origin="files")
    return Report(mode="fragment", kernel="6.1", series=series,
                  results=[PatchResult(patch, findings=findings, analysed=["x"])],
                  findings=list(findings))


def make_patch(**kw) -> Patch:
    kw.setdefault("subject", "[PATCH 1/1] demo: a change")
    kw.setdefault("author", "Ada Example <ada@example.org>")
    kw.setdefault("date", "Mon, 2 Mar 2026 12:00:00 +0000")
    kw.setdefault("message_id", "patch-1@example.org")
    kw.setdefault("body", "First line of the message.\nSecond line.\n\nSigned-off-by: Ada\n")
    kw.setdefault("index", 1)
    kw.setdefault("total", 1)
    kw.setdefault("files", [FileChange(PATH, PATH, hunks=[long_hunk()])])
    return Patch(**kw)


HOSTILE = "demo: hi\r\nBcc: victim@example.com\r\n\r\nInjected body"


def test_crlf_in_subject_names_and_ids_cannot_inject_a_header():
    patch = make_patch(
        subject=HOSTILE,
        author="Ada\r\nBcc: victim@example.com <ada@example.org>",
        to=["list@example.org\r\nBcc: victim2@example.com"],
        cc=["Bob\nX-Evil: 1 <bob@example.org>"],
        message_id="patch-1@example.org>\r\nBcc: victim3@example.com",
        references=["r1@example.org\nX-Evil: 2"],
    )
    msgs = render_replies(make_report(patch, [finding(30)]),
                          settings(extra_headers={"X-Note\r\nBcc": "a\r\nBcc: b@example.com"}))
    raw = as_text(msgs[0])
    head = raw.split("\n\n", 1)[0]
    assert "\nBcc:" not in "\n" + head and "\nX-Evil" not in "\n" + head
    back = parse(raw)
    assert back["Bcc"] is None and back["X-Evil"] is None
    assert str(back["Subject"]) == "Re: demo: hi Bcc: victim@example.com Injected body"
    assert "\n" not in str(back["Subject"])
    for a in back["To"].addresses + back["Cc"].addresses:
        assert "\n" not in a.display_name and "\r" not in a.display_name
    assert "victim" not in " ".join(a.addr_spec for a in back["To"].addresses)
    assert "\n" not in str(back["In-Reply-To"]).strip()


def test_crlf_in_from_is_refused_or_made_one_line():
    try:
        msgs = render_replies(make_report(make_patch(), [finding(30)]),
                              settings(from_addr="Eve\r\nBcc: x@example.com <eve@example.org>"))
    except UsageError:
        return
    back = parse(as_text(msgs[0]))
    assert back["Bcc"] is None
    assert back["From"].addresses[0].addr_spec == "eve@example.org"


def test_bad_from_is_a_usage_error():
    with pytest.raises(UsageError):
        render_replies(make_report(make_patch(), [finding(30)]), settings(from_addr="nobody"))


def test_non_ascii_names_and_subject_round_trip():
    patch = make_patch(author="Jérôme Glißé <jerome@example.org>",
                       subject="[PATCH 1/1] mm/hmm: référence comptée",
                       cc=['"Müller, Jörg" <joerg@example.org>', "Łukasz <lukasz@example.org>"])
    msgs = render_replies(make_report(patch, [finding(30)]),
                          settings(from_addr="Zoë Réviseuse <zoe@example.net>"))
    raw = as_text(msgs[0]).encode("utf-8")
    head, text = raw.split(b"\n\n", 1)
    assert head.isascii()
    back = parse(raw.decode("utf-8"))
    assert back["From"].addresses[0].display_name == "Zoë Réviseuse"
    assert back["To"].addresses[0].display_name == "Jérôme Glißé"
    assert [a.display_name for a in back["Cc"].addresses] == ["Müller, Jörg", "Łukasz"]
    assert str(back["Subject"]) == "Re: [PATCH 1/1] mm/hmm: référence comptée"
    assert body(back).startswith("On Mon, 2 Mar 2026 12:00:00 +0000, Jérôme Glißé wrote:")


@pytest.mark.parametrize("subject,expected", [
    ("[PATCH] x", "Re: [PATCH] x"),
    ("Re: [PATCH] x", "Re: [PATCH] x"),
    ("RE:[PATCH] x", "RE:[PATCH] x"),
    ("", "Re: 1/1"),
])
def test_reply_subject_not_doubled(subject, expected):
    assert hdr.reply_subject(make_patch(subject=subject)) == expected


def test_sender_is_never_copied_and_duplicates_are_dropped():
    patch = make_patch(to=["rev@example.net", "List <list@example.org>"],
                       cc=["ADA@example.org", "list@example.org", "other@example.org"])
    to, cc = hdr.recipients(patch, hdr.sender("Rev <rev@example.net>"), no_cc=False)
    assert [a.addr_spec for a in to] == ["ada@example.org"]
    assert [a.addr_spec for a in cc] == ["list@example.org", "other@example.org"]


def test_references_keep_the_thread_order():
    patch = make_patch(references=["cover@example.org", "patch-0@example.org"])
    parent, refs = hdr.thread_headers(patch, None)
    assert parent == "<patch-1@example.org>"
    assert refs == ["<cover@example.org>", "<patch-0@example.org>", "<patch-1@example.org>"]


def test_long_message_ids_stay_ids_in_the_threading_headers():
    """A Message-ID too long for one header line (b4 puts the branch name in it) must not turn
    into RFC 2047 encoded words: clients would no longer match it and the reply leaves the
    thread.  Several ids fold between ids."""
    mine = "20261122-demo-topic-with-a-rather-long-branch-name-v3-1-0123456789ab@example.org"
    cover = "20261122-demo-topic-with-a-rather-long-branch-name-v3-0-0123456789ab@example.org"
    patch = make_patch(message_id=mine, references=[cover])
    (msg,) = render_replies(make_report(patch, [finding(30)]), settings())
    head = as_text(msg).split("\n\n", 1)[0]
    assert "=?" not in head
    assert all(len(line) <= 100 for line in head.splitlines())
    back = parse(as_text(msg))
    assert back["In-Reply-To"] == f"<{mine}>"
    assert back["References"].split() == [f"<{cover}>", f"<{mine}>"]


def test_long_hunk_is_never_quoted_whole():
    patch = make_patch()
    segs = quote_findings(patch, [finding(30)])
    quoted = [ln for s in segs if s.kind == "quote" for ln in s.lines]
    assert quoted[:3] == ["--- a/drivers/demo/long.c", "+++ b/drivers/demo/long.c",
                          "@@ -1,39 +1,40 @@ static int demo_long(struct demo_dev *dev)"]
    code = quoted[3:]
    assert code[-1] == "+\tdemo_step_30(dev);"
    assert 3 <= len(code) <= 8
    kinds = [s.kind for s in segs]
    assert kinds == ["quote", "cut", "quote", "comment", "cut"]


def test_path_lines_close_above_are_quoted_far_ones_are_not():
    patch = make_patch()
    near = finding(30, path=[PathStep(PATH, 25, "taken"), PathStep(PATH, 5, "far")])
    quoted = [ln for s in quote_findings(patch, [near]) if s.kind == "quote" for ln in s.lines]
    assert " \tdemo_ctx_25(dev);" in quoted
    assert " \tdemo_ctx_5(dev);" not in quoted


def test_two_findings_in_one_hunk_share_one_quote():
    patch = make_patch(files=[FileChange(PATH, PATH, hunks=[long_hunk(added=(20, 24))])])
    segs = quote_findings(patch, [finding(24), finding(20)])
    kinds = [s.kind for s in segs]
    assert kinds == ["quote", "cut", "quote", "comment", "quote", "comment", "cut"]
    assert [s.finding.line for s in segs if s.finding] == [20, 24]
    assert sum(ln.startswith("@@") for s in segs for ln in s.lines) == 1


def test_finding_outside_the_patch_is_a_comment_without_quote():
    segs = quote_findings(make_patch(), [finding(7, file="other.c")])
    assert [s.kind for s in segs] == ["comment"]


def test_commit_quote_is_cut_at_the_first_paragraph():
    q = commit_quote("\nOne.\nTwo.\n\nSigned-off-by: X <x@y>\n")
    assert q.lines == ["One.", "Two."] and q.cut
    q = commit_quote("\n".join(f"line {k}" for k in range(10)))
    assert len(q.lines) == 6 and q.cut
    assert not commit_quote("Only.\n").cut


def test_prose_is_wrapped_and_code_is_not():
    long_code = "\tif (" + " && ".join(f"demo_condition_{k}(dev)" for k in range(6)) + ")"
    patch = make_patch(files=[FileChange(PATH, PATH, hunks=[Hunk(1, 2, 1, 3, "", [
        HunkLine(" ", "\tdemo_a(dev);", 1, 1),
        HunkLine("+", long_code, None, 2),
        HunkLine(" ", "\tdemo_b(dev);", 2, 3)])])])
    message = " ".join(["This sentence is part of a long explanation."] * 6)
    msgs = render_replies(make_report(patch, [finding(2, message)]), settings())
    text = body(msgs[0])
    assert "> +" + long_code in text
    prose = [ln for ln in text.split("\n") if not ln.startswith(">")]
    assert all(len(ln) <= 72 for ln in prose)
    assert all(ln == ln.rstrip() for ln in text.split("\n"))
    assert msgs[0]["Content-Transfer-Encoding"] == "8bit"  # a quoted line is over 78 columns


def test_wrap_and_finish():
    assert wrap("a " * 50).split("\n")[0] == ("a " * 36).strip()
    assert finish("x  \n\n\n\ny\t\n\n") == "x\n\ny\n"


def test_mbox_escapes_from_lines_and_reads_back(tmp_path):
    patch = make_patch(body="From the start this was wrong.\nMore.\n")
    msgs = render_replies(make_report(patch, [finding(30)]), settings())
    msgs += render_replies(make_report(make_patch(message_id="p2@example.org"), [finding(30)]),
                           settings())
    text = write_mbox(msgs)
    assert "\n> From the start" in text  # the quote already protects it
    assert text.startswith("From notifier-review Wed Mar  4 08:00:00 2026\n")
    path = tmp_path / "out.mbox"
    path.write_text(text, encoding="utf-8")
    box = list(mailbox.mbox(str(path)))
    assert [str(m["In-Reply-To"]) for m in box] == ["<patch-1@example.org>", "<p2@example.org>"]


def test_bare_from_line_in_a_body_is_mangled():
    patch = make_patch()
    msgs = render_replies(make_report(patch, [finding(30, "From here on it is wrong.")]),
                          settings())
    assert "\n>From here on it is wrong." in write_mbox(msgs)


def test_user_templates_come_first(tmp_path):
    (tmp_path / "reply.txt.j2").write_text("Custom for {{ patch.subject }}\n  \n")
    patch = make_patch()
    msgs = render_replies(make_report(patch, [finding(30)]),
                          settings(templates_dir=tmp_path, cover=True))
    assert body(msgs[1]) == "Custom for [PATCH 1/1] demo: a change\n"
    assert "I ran notifier-review" in body(msgs[0])  # cover.txt.j2 is still the shipped one


def test_broken_user_template_names_its_file(tmp_path):
    (tmp_path / "reply.txt.j2").write_text("{% if %}\n")
    with pytest.raises(InputError) as exc:
        render_replies(make_report(make_patch(), [finding(30)]), settings(templates_dir=tmp_path))
    assert "reply.txt.j2" in exc.value.one_line()
    (tmp_path / "reply.txt.j2").write_text("{{ no_such_name }}\n")
    with pytest.raises(InputError):
        render_replies(make_report(make_patch(), [finding(30)]), settings(templates_dir=tmp_path))


def test_missing_template_dir_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        render_replies(make_report(make_patch(), [finding(30)]),
                       settings(templates_dir=tmp_path / "nope"))

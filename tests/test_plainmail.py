"""The plain-mail reader gives exactly what the `email` route gives, or stands aside (issue 8).

`reviewer.sources.plainmail` reads format-patch mails without importing the stdlib `email`
package, to save start-up time in the per-patch `b4-check` process.  It must never disagree
with `mail.parse_with_email`, the reference reading: every message built below (a cross product
of header shapes that are plain, nearly plain and not plain at all) is read both ways, and
wherever the plain reader answers, the two answers are equal.  It must also answer for the
mails git format-patch writes, or it saves nothing.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import git
import pytest

from reviewer.sources import mail
from reviewer.sources.plainmail import read_plain

FROMS = [
    "Ada Example <ada@example.org>",
    "Ada   Example\t<ada@example.org>",
    "ada@example.org",
    "Ada<ada@example.org>",
    "Pat O'Brien <pat.obrien@kernel.org>",
    "Kirill A. Shutemov <k@x.org>",
    '"Doe, Jane" <jane@y.org>',
    "bob@z.org (Bob Z)",
    "=?UTF-8?Q?J=C3=A9r=C3=B4me?= <j@x.org>",
    "<only@angle.org>",
    "a..b@x.org",
    "",
    "undisclosed-recipients:;",
]
TOS = ["", "a@x.org, b@y.org", "A B <a@x.org>,\n C <c@y.org>", "a@x.org,", "group: a@b, c@d;"]
DATES = [
    "Tue, 3 Jan 2023 10:00:00 -0800",
    "Tue, 03 Jan 2023 10:00:00 +0000",
    "Mon, 1 Jan 2024 00:00:00 -0000",
    "Fri, 3 Jan 2023 10:00:00 +0530",  # wrong weekday: the date's own is written
    "Thu, 29 Feb 2024 23:59:59 +0100",
    "Wed, 29 Feb 2023 10:00:00 +0000",  # no such day
    "Sun, 31 Apr 2022 10:00:00 +0000",
    "Tue, 3 Jan 2023 24:00:00 +0000",
    "Tue, 3 Jan 2023 10:00:00 +2400",
    "Tue, 3 Jan 2023 10:00:00 GMT",
    "3 Jan 2023 10:00:00 +0000",
    "Tue, 3 Jan 2023 10:00:00 +0000 (UTC)",
    "yesterday-ish",
]
IDS = ["", "<20231122-topic-v2-1-abcdef123456@kernel.org>", " <a.b@c.d> ", "<a b@c>",
       "not an id", "<a@b> trailing", "<.a@b>", "<a@[127.0.0.1]>"]
SUBJECTS = ["[PATCH] mm: fix", "[PATCH v2 3/7] mm/rmap: a\n longer one", "a =? b",
            "=?UTF-8?B?W1BBVENIXQ==?= x", "  spaced   out  "]
CONTENT = [
    b"",
    b"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n",
    b'Content-Type: text/plain; charset="iso-8859-1"; format=flowed\n',
    b"Content-Type: text/plain; charset=x-no-such-charset\n",
    b"Content-Type: TEXT/PLAIN\nContent-Transfer-Encoding: 7BIT\n",
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Type: text/html\n",
    b'Content-Type: multipart/mixed; boundary="b"\n',
    b"Content-Type: text/plain; charset*=utf-8''x\n",
]
BODIES = [b"hello\n", "caf\u00e9 \u2014 na\u00efve\n".encode(), b"crlf\r\nbody\r\n",
          b"latin \xe9\n", b"=C3=A9 qp-looking\n"]


def _message(subject: str, frm: str, to: str, date: str, msgid: str, content: bytes,
             body: bytes) -> bytes:
    head = f"From: {frm}\nTo: {to}\nSubject: {subject}\nDate: {date}\nMessage-ID: {msgid}\n"
    return head.encode() + content + b"\n" + body


def _corpus() -> list[bytes]:
    out = []
    for frm, date in itertools.product(FROMS, DATES):
        out.append(_message("[PATCH] a", frm, "a@x.org", date, IDS[1], b"", BODIES[0]))
    for to, msgid, subject in itertools.product(TOS, IDS, SUBJECTS):
        out.append(_message(subject, FROMS[0], to, DATES[0], msgid, b"", BODIES[1]))
    for content, body in itertools.product(CONTENT, BODIES):
        out.append(_message("[PATCH] b", FROMS[0], "", DATES[0], IDS[1], content, body))
    out += [
        b"From: a@b.org\nFrom: c@d.org\nSubject: one\nSubject: two\nCc: x@y.org\nCc: z@w.org\n"
        b"\nbody\n",
        b"From: a@b.org\n continued@c.org\nSubject: s\n\nbody\n",
        b" leading continuation\nFrom: a@b.org\n\nbody\n",
        b"From: a@b.org\nnot a header line\nSubject: s\n\nbody\n",
        b"From: a@b.org\n:empty name\n\nbody\n",
        b"From: a@b.org\r\nSubject: crlf headers\r\n\r\nbody\r\n",
        b"From: a@b.org\nSubject: no body separator",
        "From: M\u00fcller <m@x.org>\nSubject: s\n\nbody\n".encode("latin-1"),
    ]
    return out


def test_the_plain_reader_never_disagrees_with_the_email_package() -> None:
    answered = 0
    for data in _corpus():
        plain = read_plain(data, mail._KEPT)
        if plain is None:
            continue
        answered += 1
        assert mail.Mail(*plain) == mail.parse_with_email(data), data
    assert answered >= 60  # it stands aside only where it must


@pytest.mark.parametrize("data", [
    b"From: x@y.org\nSubject: =?UTF-8?Q?caf=C3=A9?=\n\nb\n",
    b"From: \"Doe, Jane\" <jane@y.org>\nSubject: s\n\nb\n",
    b"From: a@b.org\nSubject: s\nContent-Transfer-Encoding: base64\n\nYg==\n",
    b"From: a@b.org\nSubject: s\nDate: Wed, 29 Feb 2023 10:00:00 +0000\n\nb\n",
])
def test_what_it_is_not_sure_of_goes_to_the_email_package(data: bytes) -> None:
    assert read_plain(data, mail._KEPT) is None
    assert mail.parse_mail(data) == mail.parse_with_email(data)


def test_format_patch_mails_are_read_without_the_email_package(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path / "r")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Pat O'Brien")
        cw.set_value("user", "email", "pat.obrien@example.org")
    src = tmp_path / "r" / "demo.c"
    src.write_text("int demo(void)\n{\n\treturn 0;\n}\n")
    repo.index.add(["demo.c"])
    repo.index.commit("demo: start")
    src.write_text("int demo(void)\n{\n\treturn 1;\n}\n")
    repo.index.add(["demo.c"])
    repo.index.commit("demo: return one\n\nA body line with caf\u00e9 in it.\n")
    out = repo.git.format_patch("-1", "--stdout", "--to=list@example.org",
                                "--cc=A B <ab@example.org>", stdout_as_string=False)
    (raw,) = mail.split_mbox(out)
    plain = read_plain(raw, mail._KEPT)
    assert plain is not None
    assert mail.Mail(*plain) == mail.parse_with_email(raw)
    assert plain[0]["From"] == "Pat O'Brien <pat.obrien@example.org>"
    assert "caf\u00e9" in plain[1]

"""Acceptance of the review bot: real mail sources, a real SMTP server on 127.0.0.1, real runs.

A Maildir and a public-inbox v2 archive (two epochs) hold: a 3-patch series with a cover letter
whose patch 2 returns between start and end; a clean single patch; v2 of the series with the fix;
a reviewer's reply; a message with a broken encoding.  The bot must send exactly one reply for v1
(under patch 2), nothing for the clean patch or the broken message, a v2 cover reply saying the
finding is gone, and nothing at all on a second run.
"""

from __future__ import annotations

from pathlib import Path

from bot_support import (
    BOT_FROM,
    PublicInbox,
    Smtp,
    maildir,
    make_mail,
    run_bot,
)


def _target(msg) -> str:
    return str(msg["In-Reply-To"]).strip().strip("<>")


def test_bot_replies_once_per_series_over_smtp(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    cover, p1, p2, p3 = mail.v1
    # patch 2 of v1 comes from the archive, the rest from the Maildir; the cover is in both
    box = maildir(tmp_path / "Maildir", [p3, cover, p1, mail.reply, mail.broken])
    inbox = PublicInbox(tmp_path / "inbox")
    inbox.add([mail.clean, p2, cover])
    inbox.new_epoch()
    inbox.add(list(reversed(mail.v2)))
    state = tmp_path / "bot.sqlite"
    with Smtp() as smtp:
        first = run_bot(tmp_path, state, [box, inbox.path], "--smtp", f"127.0.0.1:{smtp.port}",
                        "--smtp-security", "none")
        assert len(smtp.messages) == 2, first.stderr
        by_target = {_target(m): m for m in smtp.messages}
        v1_reply = by_target[mail.msgid(p2)]
        assert str(v1_reply["Subject"]) == "Re: [PATCH 2/3] mm/demo: invalidate a mirrored range"
        v1_body = v1_reply.get_content()
        assert "demo_mirror_invalidate" in v1_body or "return -EFAULT" in v1_body
        assert "bracketing-unbalanced" in v1_body
        assert mail.msgid(p2) in str(v1_reply["References"])
        assert str(v1_reply["X-Notifier-Review-Bot"]) == "yes"
        assert BOT_FROM.split("<")[1].rstrip(">") in str(v1_reply["From"])
        v2_reply = by_target[mail.msgid(mail.v2[0])]
        assert str(v2_reply["Subject"]).startswith("Re: [PATCH v2 0/3]")
        v2_body = v2_reply.get_content()
        assert "Gone in v2" in v2_body and "bracketing-unbalanced" in v2_body
        assert "Still there" not in v2_body and "New in v2" not in v2_body
        for quiet in (mail.clean, mail.broken, p1, p3, cover, mail.reply):
            assert mail.msgid(quiet) not in by_target
        for _sender, rcpts in smtp.envelopes:
            assert "ada@example.org" in rcpts
        log = first.stderr.splitlines()
        assert sum('v1 "[PATCH 0/3]' in ln for ln in log) == 1
        assert sum('v1 "[PATCH] mm/demo: read the fault count' in ln for ln in log) == 1
        assert sum('v2 "[PATCH v2 0/3]' in ln for ln in log) == 1
        assert any("broken-1@example.org" in ln and "skipped" in ln for ln in log)
        assert log[-1].startswith("notifier-review bot: summary:")
        assert "2 replies sent" in log[-1]

        second = run_bot(tmp_path, state, [box, inbox.path], "--smtp",
                         f"127.0.0.1:{smtp.port}", "--smtp-security", "none")
        assert len(smtp.messages) == 2
        assert "0 messages read" in second.stderr and "0 replies sent" in second.stderr
    # a copy of every accepted reply is kept beside the state, keyed by Message-ID
    assert len(list((tmp_path / "sent" / "new").iterdir())) == 2

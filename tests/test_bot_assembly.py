"""The bot's series assembly, policy and sources, each through real runs of `notifier-review bot`.

Out-of-order patches across polls, a series given up waiting for (the reply names the missing
patch), the bot's own mail fed back, the list allow-list, the rate limit, an mbox where v2 is
posted into v1's thread under a new subject, `--tree` (the checkout is never touched), the
public-inbox cursor per epoch, and an unusable source.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
from pathlib import Path

from bot_support import (
    LIST,
    PublicInbox,
    add_to_maildir,
    bot_args,
    bot_env,
    buggy_single,
    maildir,
    make_mail,
    outbox_messages,
    run_bot,
)


def _targets(outbox: Path) -> list[str]:
    return [str(m["In-Reply-To"]).strip().strip("<>") for m in outbox_messages(outbox)]


def test_out_of_order_across_polls(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    cover, p1, p2, p3 = mail.v1
    box = maildir(tmp_path / "Maildir", [p3, p2])
    out = tmp_path / "out"
    state = tmp_path / "s.sqlite"
    first = run_bot(tmp_path, state, [box], "--outbox", str(out), "--wait", "1h")
    assert _targets(out) == []
    assert "1 series waiting" in first.stderr
    add_to_maildir(box, [p1])
    second = run_bot(tmp_path, state, [box], "--outbox", str(out), "--wait", "1h")
    assert _targets(out) == [], "patches complete but the cover letter they point at is missing"
    assert "1 series waiting" in second.stderr
    add_to_maildir(box, [cover])
    run_bot(tmp_path, state, [box], "--outbox", str(out), "--wait", "1h")
    assert _targets(out) == [mail.msgid(p2)]


def test_wait_expired_reviews_what_arrived_and_names_the_missing(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    cover, p1, p2, p3 = mail.v1
    box = maildir(tmp_path / "Maildir", [cover, p2, p3])
    out = tmp_path / "out"
    state = tmp_path / "s.sqlite"
    done = run_bot(tmp_path, state, [box], "--outbox", str(out), "--wait", "0")
    (reply,) = outbox_messages(out)
    assert str(reply["In-Reply-To"]).strip().strip("<>") == mail.msgid(p2)
    assert "Patch 1/3 did not reach me" in reply.get_content()
    assert "missing 1/3" in done.stderr
    add_to_maildir(box, [p1])
    late = run_bot(tmp_path, state, [box], "--outbox", str(out))
    assert "arrived after its series was reviewed" in late.stderr
    assert len(outbox_messages(out)) == 1


def test_own_mail_and_list_allow_list(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    box = maildir(tmp_path / "Maildir", mail.v1)
    out = tmp_path / "out"
    state = tmp_path / "s.sqlite"
    ignored = run_bot(tmp_path, state, [box], "--outbox", str(out), "--list",
                      "other-list@example.org")
    assert _targets(out) == [] and "not on an allowed list" in ignored.stderr
    state2 = tmp_path / "s2.sqlite"
    run_bot(tmp_path, state2, [box], "--outbox", str(out), "--list", LIST.upper())
    assert len(_targets(out)) == 1
    # the list sends the bot's reply back: it is recognised and never answered
    echo = maildir(tmp_path / "Echo", [(out / "new" / n).read_bytes()
                                       for n in (out / "new").iterdir()])
    back = run_bot(tmp_path, state2, [box, echo], "--outbox", str(out))
    assert "1 own" in back.stderr and len(_targets(out)) == 1


def test_rate_limit_holds_series_for_a_later_poll(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    box = maildir(tmp_path / "Maildir", [*mail.v1, buggy_single("rate")])
    out = tmp_path / "out"
    state = tmp_path / "s.sqlite"
    first = run_bot(tmp_path, state, [box], "--outbox", str(out), "--rate", "1")
    assert len(_targets(out)) == 1 and "rate limit" in first.stderr
    run_bot(tmp_path, state, [box], "--outbox", str(out), "--rate", "0")
    assert sorted(_targets(out)) == sorted([mail.msgid(mail.v1[2]), "rate-1@example.org"])
    run_bot(tmp_path, state, [box], "--outbox", str(out), "--rate", "0")
    assert len(_targets(out)) == 2


def _rethread(raw: bytes, parent: str, subject: str | None = None) -> bytes:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    refs = str(msg.get("References", "")).split()
    del msg["References"]
    msg["References"] = " ".join([f"<{parent}>", *refs])
    if not msg.get("In-Reply-To"):
        msg["In-Reply-To"] = f"<{parent}>"
    if subject:
        del msg["Subject"]
        msg["Subject"] = subject
    return msg.as_bytes()


def test_mbox_v2_in_v1_thread_under_a_new_subject(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    v1_cover = mail.msgid(mail.v1[0])
    v2 = [_rethread(mail.v2[0], v1_cover, "[PATCH v2 0/3] mm/demo: mirror invalidation")]
    v2 += [_rethread(raw, v1_cover) for raw in mail.v2[1:]]
    mbox = tmp_path / "list.mbox"
    with open(mbox, "wb") as fh:
        for raw in [*mail.v1, *v2]:
            fh.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + raw.rstrip(b"\n") + b"\n\n")
    out = tmp_path / "out"
    done = run_bot(tmp_path, tmp_path / "s.sqlite", [mbox], "--outbox", str(out))
    targets = _targets(out)
    assert sorted(targets) == sorted([mail.msgid(mail.v1[2]), mail.msgid(mail.v2[0])])
    cover_reply = next(m for m in outbox_messages(out)
                       if str(m["In-Reply-To"]).strip().strip("<>") == mail.msgid(mail.v2[0]))
    assert "Gone in v2" in cover_reply.get_content()
    assert "1 gone, 0 remain, 0 new" in done.stderr


def test_tree_mode_reads_the_checkout_and_leaves_it_alone(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    assert mail.tree is not None
    head = subprocess.run(["git", "-C", str(mail.tree), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout
    box = maildir(tmp_path / "Maildir", mail.v1)
    out = tmp_path / "out"
    done = run_bot(tmp_path, tmp_path / "s.sqlite", [box], "--outbox", str(out), "--tree",
                   str(mail.tree))
    assert "tree mode" in done.stderr
    assert _targets(out) == [mail.msgid(mail.v1[2])]
    status = subprocess.run(["git", "-C", str(mail.tree), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    again = subprocess.run(["git", "-C", str(mail.tree), "rev-parse", "HEAD"],
                           capture_output=True, text=True, check=True).stdout
    assert status == "" and again == head


def test_public_inbox_reads_only_new_commits_per_epoch(tmp_path: Path) -> None:
    mail = make_mail(tmp_path)
    inbox = PublicInbox(tmp_path / "inbox")
    inbox.add(mail.v1[:2])
    out = tmp_path / "out"
    state = tmp_path / "s.sqlite"
    first = run_bot(tmp_path, state, [inbox.path], "--outbox", str(out), "--wait", "1h")
    assert "2 messages read" in first.stderr
    inbox.add(mail.v1[2:])
    inbox.new_epoch()
    inbox.add([mail.clean])
    second = run_bot(tmp_path, state, [inbox.path], "--outbox", str(out), "--wait", "1h")
    assert "3 messages read" in second.stderr
    assert _targets(out) == [mail.msgid(mail.v1[2])]


def test_unusable_source_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    done = subprocess.run(bot_args(tmp_path / "s.sqlite", [tmp_path / "plain"]),
                          capture_output=True, text=True, env=bot_env(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "neither a Maildir" in done.stderr

"""The bot killed with SIGKILL in the middle of a run, then restarted: every series answered once.

The test hook NOTIFIER_REVIEW_BOT_TEST_HOOK makes the real bot subprocess stop right after the
first reply is recorded as intended (before delivery) or right after it is delivered (before it is
marked sent); the test then kills it with a real SIGKILL and starts it again without the hook.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from bot_support import (
    Smtp,
    bot_args,
    bot_env,
    buggy_single,
    maildir,
    make_mail,
    outbox_messages,
    run_bot,
    wait_for,
)


@pytest.mark.parametrize("point", ["intended", "delivered"])
@pytest.mark.parametrize("via", ["smtp", "outbox"])
def test_sigkill_then_restart_answers_each_series_once(tmp_path: Path, point: str,
                                                       via: str) -> None:
    mail = make_mail(tmp_path)
    single = buggy_single("crash")
    box = maildir(tmp_path / "Maildir", [*mail.v1, single, mail.clean])
    state = tmp_path / "bot.sqlite"
    marker = tmp_path / "hook"
    with Smtp() as smtp:
        extra = (["--smtp", f"127.0.0.1:{smtp.port}", "--smtp-security", "none"]
                 if via == "smtp" else ["--outbox", str(tmp_path / "outbox")])
        env = bot_env(tmp_path, NOTIFIER_REVIEW_BOT_TEST_HOOK=f"{point}:{marker}")
        proc = subprocess.Popen(bot_args(state, [box], *extra), env=env, cwd=str(tmp_path),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            held = wait_for(marker)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            if proc.stderr:
                proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        delivered_before = (len(smtp.messages) if via == "smtp"
                            else len(outbox_messages(tmp_path / "outbox")))
        assert delivered_before == (1 if point == "delivered" else 0)

        again = run_bot(tmp_path, state, [box], *extra)
        third = run_bot(tmp_path, state, [box], *extra)
        sent = smtp.messages if via == "smtp" else outbox_messages(tmp_path / "outbox")
    targets = sorted(str(m["In-Reply-To"]).strip().strip("<>") for m in sent)
    assert targets == sorted([mail.msgid(mail.v1[2]), "crash-1@example.org"]), again.stderr
    ids = [str(m["Message-ID"]) for m in sent]
    assert len(set(ids)) == len(ids)
    assert held.strip("<>") in " ".join(ids)
    if point == "delivered":
        assert "was delivered before a restart" in again.stderr
    else:
        assert "delivered after a restart" in again.stderr
    assert "0 replies sent" in third.stderr

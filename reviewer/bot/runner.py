"""The bot's loop: reconcile, read what is new, review what is ready, reply, and say so on stderr.

Flow position: bot, the conductor of sources -> message -> assembly -> review -> compose ->
policy -> delivery, with the state underneath.  One poll:
1. reconcile: every reply recorded as intended is looked up in the delivery (outbox file or sent
   copy, keyed by its Message-ID); delivered ones are marked sent, the others are delivered now.
   So a crash between "intended" and "sent" never gives a second reply, and never loses one;
2. read every source; each batch (a Maildir's new files, an mbox's new messages, a public-inbox
   epoch's new commits) is stored with its keys or cursor in one transaction;
3. for each waiting series that is ready: review, compare with the previous version, compose,
   apply the policy, record the outcome and the intended replies in one transaction, deliver,
   mark sent.  One log line per series reviewed.
`--once` runs one poll; otherwise polls repeat every `--interval` seconds until SIGINT/SIGTERM.
A summary line is written at exit.

Test hook: when NOTIFIER_REVIEW_BOT_TEST_HOOK is `intended:FILE` or `delivered:FILE`, the bot
writes the Message-ID to FILE at that point of the first reply and then waits to be killed.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from reviewer.bot.assembly import Assembled, assemble, series_id, series_row
from reviewer.bot.compose import ComposeSettings, compare, compose, finding_record
from reviewer.bot.delivery import Delivery, DeliveryError
from reviewer.bot.message import read_message
from reviewer.bot.policy import Policy
from reviewer.bot.review import review
from reviewer.bot.sources import MailSource
from reviewer.bot.state import ReplyRow, State
from reviewer.engine.rule import RunOptions

HOOK_ENV = "NOTIFIER_REVIEW_BOT_TEST_HOOK"


@dataclass
class BotConfig:
    sources: list[MailSource]
    delivery: Delivery
    policy: Policy
    settings: ComposeSettings
    options: RunOptions
    tree: str | None = None
    wait: float = 3600.0
    interval: float = 300.0
    once: bool = False


@dataclass
class Tally:
    read: Counter = field(default_factory=Counter)
    reviewed: int = 0
    with_findings: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0


class Bot:
    def __init__(self, config: BotConfig, state: State, log: TextIO | None = None) -> None:
        self.config = config
        self.state = state
        self.out = log or sys.stderr
        self.tally = Tally()
        self._stop = False
        self._hook = os.environ.get(HOOK_ENV, "")

    # -- plumbing --------------------------------------------------------------------------------
    def log(self, text: str) -> None:
        self.out.write(f"notifier-review bot: {text}\n")
        self.out.flush()

    def _test_hook(self, point: str, msgid: str) -> None:
        name, _, path = self._hook.partition(":")
        if name != point or not path:
            return
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(msgid + "\n")
        while True:  # the test kills us here with SIGKILL
            time.sleep(60)

    def _deliver(self, reply: ReplyRow) -> bool:
        try:
            self.config.delivery.deliver(reply.msgid, reply.raw)
        except (DeliveryError, OSError) as exc:
            self.log(f"delivery of <{reply.msgid}> failed, will retry: {exc}")
            return False
        self._test_hook("delivered", reply.msgid)
        self.state.mark_sent(reply.msgid)
        self.tally.sent += 1
        return True

    # -- the three steps of a poll ---------------------------------------------------------------
    def reconcile(self) -> None:
        for reply in self.state.intended_replies():
            if self.config.delivery.delivered(reply.msgid):
                self.state.mark_sent(reply.msgid)
                self.log(f"reply <{reply.msgid}> was delivered before a restart; marked sent")
            elif self._deliver(reply):
                self.log(f"reply <{reply.msgid}> delivered after a restart")

    def ingest(self) -> None:
        now = time.time()
        own = self.config.policy.own
        for source in self.config.sources:
            seen = self.state.seen_keys(source.name)

            def cursor(part: str, name: str = source.name) -> str | None:
                return self.state.cursor(name, part)

            for batch in source.batches(seen, cursor):
                messages, series, meta = [], [], []
                fresh: set[str] = set()
                for raw in batch.messages:
                    inc = read_message(raw, source.name, own)
                    if inc.msgid in fresh or self.state.has_message(inc.msgid):
                        continue
                    fresh.add(inc.msgid)
                    if inc.kind != "own" and self.state.is_own_reply(inc.msgid):
                        inc.kind = "own"
                    self.tally.read[inc.kind] += 1
                    sid = None
                    if inc.patch is not None:
                        sid = series_id(inc)
                        status = self.state.series_status(sid)
                        if status not in (None, "waiting"):
                            self.log(f"<{inc.msgid}> arrived after its series was {status}; "
                                     "not reviewed")
                        series.append(series_row(inc, now))
                        meta.append((sid, inc.patch.subject if inc.kind == "cover" else None,
                                     inc.lists))
                    elif inc.kind == "broken":
                        self.log(f"<{inc.msgid}> from {source.name} skipped: {inc.reason}")
                    keep = inc.raw if inc.patch is not None else None
                    idx = inc.patch.index if inc.patch is not None else None
                    messages.append((inc.msgid, source.name, inc.kind, sid, idx, inc.subject,
                                     inc.author, now, keep))
                self.state.record_read(source.name, batch.keys, batch.cursor, messages, series,
                                       meta)

    def review_ready(self) -> None:
        now = time.time()
        for row in self.state.waiting_series():
            if self._stop:
                return
            try:
                ready = assemble(self.state, row, now, self.config.wait, self.config.policy.own)
            except Exception as exc:  # one bad series must not stop the bot
                self._fail(row.id, row.subject, exc)
                continue
            if ready is None:
                continue
            try:
                self._review(ready)
            except Exception as exc:
                self._fail(row.id, row.subject, exc)

    def _fail(self, sid: str, subject: str, exc: Exception) -> None:
        self.tally.failed += 1
        self.log(f'"{subject}": review failed, series set aside: {type(exc).__name__}: {exc}')
        self.state.finish_series(sid, "failed", "", [], [], None, [])

    def _review(self, a: Assembled) -> None:
        row = a.row
        label = f'v{row.version} "{row.subject}"'
        if not self.config.policy.listed(a.lists):
            self.state.finish_series(row.id, "ignored", a.topic, [], a.missing, None, [])
            self.log(f"{label}: not on an allowed list; ignored")
            return
        if not a.series.patches:
            self.state.finish_series(row.id, "ignored", a.topic, [], a.missing, None, [])
            self.log(f"{label}: only a cover letter arrived; nothing to review")
            return
        report = review(a.series, self.config.tree, self.config.options)
        shown = [f for f in report.findings if not f.suppressed]
        records = [finding_record(f, row.total, row.version) for f in shown]
        comparison = None
        if a.previous is not None:
            comparison = compare(a.previous.findings, records, a.previous.version,
                                 self.state.series_head(a.previous.id))
        policy = self.config.policy
        replies = []
        if policy.worth_replying(len(shown), comparison):
            replies = policy.unused(self.state, compose(report, a, comparison,
                                                        self.config.settings))
        if not policy.room_for(self.state, len(replies)):
            self.tally.deferred += 1
            self.log(f"{label}: rate limit of {policy.rate} replies per hour reached; "
                     "held for a later poll")
            return
        rows = [ReplyRow(r.message["Message-ID"].strip().strip("<>"), row.id, r.slot, r.target,
                         "intended", r.message.as_bytes()) for r in replies]
        self.state.finish_series(row.id, "reviewed", a.topic, records, a.missing,
                                 a.previous.id if a.previous else None, rows)
        self.tally.reviewed += 1
        self.tally.with_findings += bool(shown)
        for reply in self.state.intended_replies(row.id):
            self._test_hook("intended", reply.msgid)
            self._deliver(reply)
        done = f"{len(a.series.patches)}/{row.total} patches"
        if a.missing:
            done += " (missing " + ", ".join(f"{i}/{row.total}" for i in a.missing) + ")"
        versus = ""
        if comparison is not None:
            versus = (f", vs v{comparison.previous_version}: {len(comparison.gone)} gone, "
                      f"{len(comparison.remain)} remain, {len(comparison.new)} new")
        sent = (", ".join(f"<{r.msgid}>" for r in rows)) or "none"
        self.log(f"{label}: {done}, {report.mode} mode, {len(shown)} finding(s){versus}; "
                 f"replies: {sent}")

    # -- running ---------------------------------------------------------------------------------
    def poll(self) -> None:
        self.reconcile()
        self.ingest()
        self.review_ready()

    def summary(self) -> str:
        read = self.tally.read
        waiting = len(self.state.waiting_series())
        return (f"summary: {sum(read.values())} messages read ({read['patch']} patches, "
                f"{read['cover']} cover letters, {read['other']} other, {read['broken']} "
                f"unreadable, {read['own']} own), {self.tally.reviewed} series reviewed "
                f"({self.tally.with_findings} with findings), {self.tally.sent} replies sent "
                f"to {self.config.delivery.where}, {waiting} series waiting, "
                f"{self.tally.deferred} deferred, {self.tally.failed} failed")

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stop = True

    def run(self) -> int:
        previous = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            while True:
                try:
                    self.poll()
                except KeyboardInterrupt:
                    self._stop = True
                if self.config.once or self._stop:
                    break
                deadline = time.monotonic() + self.config.interval
                try:
                    while not self._stop and time.monotonic() < deadline:
                        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                except KeyboardInterrupt:
                    break
                if self._stop:
                    break
        finally:
            signal.signal(signal.SIGTERM, previous)
            close = getattr(self.config.delivery, "close", None)
            if close is not None:
                close()
            self.log(self.summary())
        return 0

"""The bot's memory: one SQLite file holding what was read, what was reviewed and what was sent.

Flow position: bot, beside every stage.  Tables:
- `cursors`: per source part (a public-inbox epoch `git/N.git`) the last commit read;
- `seen`: per source the keys of messages already read (a Maildir file name, an mbox message hash);
- `messages`: every message read, by Message-ID, with its kind (patch, cover, other, broken, own),
  the series it belongs to and, for patches and covers, its raw bytes (a series may complete polls
  or restarts later);
- `series`: one row per (thread, version, size, author) with its status (waiting, reviewed,
  skipped), the findings found (JSON, with fingerprints, so a later version can be compared) and the
  earlier version it was linked to;
- `replies`: every reply by its Message-ID, with a `slot` (topic, version, patch number) that is
  UNIQUE, so a patch of a series version can never get two replies, and a status `intended` ->
  `sent`.  A reply is written as intended (with its bytes) before delivery and marked sent after;
  `reconcile` on start decides for each intended one whether it was delivered.
Each step commits its own transaction, so a kill at any point leaves a consistent file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (source TEXT, part TEXT, value TEXT, PRIMARY KEY (source, part));
CREATE TABLE IF NOT EXISTS seen (source TEXT, key TEXT, PRIMARY KEY (source, key));
CREATE TABLE IF NOT EXISTS messages (
    msgid TEXT PRIMARY KEY, source TEXT, kind TEXT, series_id TEXT, idx INTEGER,
    subject TEXT, author TEXT, first_seen REAL, raw BLOB);
CREATE INDEX IF NOT EXISTS messages_series ON messages (series_id);
CREATE TABLE IF NOT EXISTS series (
    id TEXT PRIMARY KEY, root TEXT, version INTEGER, total INTEGER, author TEXT, topic TEXT,
    subject TEXT, first_seen REAL, status TEXT, reviewed_at REAL, previous TEXT,
    findings TEXT, missing TEXT, lists TEXT);
CREATE INDEX IF NOT EXISTS series_topic ON series (topic);
CREATE TABLE IF NOT EXISTS replies (
    msgid TEXT PRIMARY KEY, series_id TEXT, slot TEXT UNIQUE, target TEXT, status TEXT,
    created REAL, sent_at REAL, raw BLOB);
"""


def default_state_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "notifier-review" / "bot.sqlite"


@dataclass
class SeriesRow:
    id: str
    root: str
    version: int
    total: int
    author: str
    topic: str
    subject: str
    first_seen: float
    status: str
    previous: str | None
    findings: list[dict]
    missing: list[int]
    lists: list[str]


@dataclass
class StoredMessage:
    msgid: str
    kind: str
    idx: int | None
    raw: bytes
    source: str


@dataclass
class ReplyRow:
    msgid: str
    series_id: str
    slot: str
    target: str
    status: str
    raw: bytes


class State:
    """The SQLite file; every method that writes commits before returning."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30)
            self.db.executescript(_SCHEMA)
            self.db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise InputError(str(path), f"cannot open the bot state: {exc}") from None

    def close(self) -> None:
        self.db.close()

    # -- reading the sources -------------------------------------------------------------------
    def cursor(self, source: str, part: str) -> str | None:
        row = self.db.execute("SELECT value FROM cursors WHERE source=? AND part=?",
                              (source, part)).fetchone()
        return row[0] if row else None

    def seen_keys(self, source: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM seen WHERE source=?", (source,))}

    def has_message(self, msgid: str) -> bool:
        row = self.db.execute("SELECT 1 FROM messages WHERE msgid=?", (msgid,)).fetchone()
        return row is not None

    def message_kind(self, msgid: str) -> str | None:
        row = self.db.execute("SELECT kind FROM messages WHERE msgid=?", (msgid,)).fetchone()
        return row[0] if row else None

    def series_of_message(self, msgid: str) -> str | None:
        row = self.db.execute("SELECT series_id FROM messages WHERE msgid=?", (msgid,)).fetchone()
        return row[0] if row else None

    def record_read(self, source: str, keys: Iterable[str], cursor: tuple[str, str] | None,
                    messages: Iterable[tuple], series: Iterable[tuple],
                    meta: Iterable[tuple[str, str | None, list[str]]]) -> None:
        """One batch read from a source, in one transaction: its keys, its cursor, its messages,
        the series they open and what they tell about a series (cover subject, list addresses).

        `messages` rows: (msgid, source, kind, series_id, idx, subject, author, first_seen, raw);
        `series` rows: (id, root, version, total, author, topic, subject, first_seen, lists);
        `meta`: (series id, a better subject or None, list addresses).
        """
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                                [(source, k) for k in keys])
            if cursor is not None:
                self.db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?, ?)",
                                (source, cursor[0], cursor[1]))
            self.db.executemany(
                "INSERT OR IGNORE INTO series (id, root, version, total, author, topic, subject,"
                " first_seen, status, lists) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?)",
                list(series))
            self.db.executemany(
                "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(messages))
            for series_id, subject, lists in meta:
                row = self.db.execute("SELECT lists FROM series WHERE id=?",
                                      (series_id,)).fetchone()
                known = json.loads(row[0]) if row and row[0] else []
                merged = sorted(set(known) | set(lists))
                self.db.execute("UPDATE series SET lists=? WHERE id=?",
                                (json.dumps(merged), series_id))
                if subject:
                    self.db.execute("UPDATE series SET subject=? WHERE id=?",
                                    (subject, series_id))

    def series_status(self, series_id: str) -> str | None:
        row = self.db.execute("SELECT status FROM series WHERE id=?", (series_id,)).fetchone()
        return row[0] if row else None

    # -- series ----------------------------------------------------------------------------------
    def _series(self, row: tuple) -> SeriesRow:
        return SeriesRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                         row[10], json.loads(row[11] or "[]"), json.loads(row[12] or "[]"),
                         json.loads(row[13] or "[]"))

    def series(self, series_id: str) -> SeriesRow | None:
        row = self.db.execute("SELECT * FROM series WHERE id=?", (series_id,)).fetchone()
        return self._series(row) if row else None

    def waiting_series(self) -> list[SeriesRow]:
        rows = self.db.execute(
            "SELECT * FROM series WHERE status='waiting' ORDER BY version, first_seen, id")
        return [self._series(r) for r in rows]

    def series_messages(self, series_id: str) -> list[StoredMessage]:
        rows = self.db.execute(
            "SELECT msgid, kind, idx, raw, source FROM messages WHERE series_id=? "
            "ORDER BY idx, first_seen", (series_id,))
        return [StoredMessage(r[0], r[1], r[2], r[3] or b"", r[4]) for r in rows]

    def series_head(self, series_id: str) -> str | None:
        """The Message-ID of a series' cover letter, else of its first patch."""
        row = self.db.execute(
            "SELECT msgid FROM messages WHERE series_id=? AND kind IN ('cover', 'patch') "
            "ORDER BY idx LIMIT 1", (series_id,)).fetchone()
        return row[0] if row else None

    def previous_version(self, topic: str, version: int) -> SeriesRow | None:
        """The newest reviewed earlier version of the same topic."""
        found = self.db.execute(
            "SELECT * FROM series WHERE topic=? AND version<? AND status='reviewed' "
            "ORDER BY version DESC, reviewed_at DESC LIMIT 1", (topic, version)).fetchone()
        return self._series(found) if found else None

    def finish_series(self, series_id: str, status: str, topic: str, findings: list[dict],
                      missing: list[int], previous: str | None, replies: list[ReplyRow]) -> None:
        """Store the outcome of a review and the replies it intends to send, in one transaction."""
        now = time.time()
        with self.db:
            self.db.execute(
                "UPDATE series SET status=?, reviewed_at=?, topic=?, findings=?, missing=?, "
                "previous=? WHERE id=?", (status, now, topic, json.dumps(findings),
                                          json.dumps(missing), previous, series_id))
            for r in replies:
                self.db.execute(
                    "INSERT OR IGNORE INTO replies VALUES (?, ?, ?, ?, 'intended', ?, NULL, ?)",
                    (r.msgid, r.series_id, r.slot, r.target, now, r.raw))

    def slot_taken(self, slot: str) -> bool:
        return self.db.execute("SELECT 1 FROM replies WHERE slot=?", (slot,)).fetchone() is not None

    # -- replies ---------------------------------------------------------------------------------
    def intended_replies(self, series_id: str | None = None) -> list[ReplyRow]:
        sql = ("SELECT msgid, series_id, slot, target, status, raw FROM replies "
               "WHERE status='intended'")
        args: tuple = ()
        if series_id is not None:
            sql += " AND series_id=?"
            args = (series_id,)
        return [ReplyRow(*r) for r in self.db.execute(sql + " ORDER BY created, slot", args)]

    def mark_sent(self, msgid: str) -> None:
        with self.db:
            self.db.execute("UPDATE replies SET status='sent', sent_at=? WHERE msgid=?",
                            (time.time(), msgid))

    def is_own_reply(self, msgid: str) -> bool:
        row = self.db.execute("SELECT 1 FROM replies WHERE msgid=?", (msgid,)).fetchone()
        return row is not None

    def replies_since(self, since: float) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM replies WHERE created>=?", (since,)).fetchone()
        return int(row[0])

    def reply_count(self, status: str = "sent") -> int:
        row = self.db.execute("SELECT COUNT(*) FROM replies WHERE status=?", (status,)).fetchone()
        return int(row[0])

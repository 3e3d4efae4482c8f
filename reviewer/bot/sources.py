"""Where the bot reads mail: a Maildir, an mbox file or a public-inbox v2 archive, by shape.

Flow position: bot **sources** -> message -> assembly.  Each source yields `Batch`es of new raw
messages with the keys or cursor that mark them read; the runner stores a batch's messages and its
keys in one transaction, so a message is never lost and never read twice.
- Maildir (`cur/`, `new/`, `tmp/`): files of `new/` and `cur/`, keyed by their unique name (the
  part before `:2,`, so a flag change by a mail reader is not a new message).  Files are only read,
  never moved or flagged.
- mbox (a file starting with a `From ` line): every message, keyed by the hash of its bytes.
- public-inbox v2 (`git/N.git` epochs): every commit adds one message as the file `m` of its tree;
  per epoch the last commit read is remembered and only the commits after it are read (gitpython).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import git

from reviewer.errors import InputError
from reviewer.sources import mail as mailmod

_EPOCH = re.compile(r"^(\d+)\.git$")


@dataclass
class Batch:
    """New messages of one source part, and what marks them read."""

    messages: list[bytes] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    cursor: tuple[str, str] | None = None  # (part, value), e.g. ("git/0.git", commit id)


class MaildirSource:
    kind = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"maildir:{path}"

    def batches(self, seen: set[str], cursor) -> Iterator[Batch]:
        batch = Batch()
        for sub in ("cur", "new"):
            folder = self.path / sub
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                if name.startswith("."):
                    continue
                key = name.split(":", 1)[0]
                if key in seen:
                    continue
                try:
                    data = (folder / name).read_bytes()
                except OSError:
                    continue  # moved by a mail reader between listdir and read: next poll
                batch.messages.append(data)
                batch.keys.append(key)
                seen.add(key)
        yield batch


class MboxSource:
    kind = "mbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"mbox:{path}"

    def batches(self, seen: set[str], cursor) -> Iterator[Batch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InputError(str(self.path), f"cannot read: {exc.strerror or exc}") from None
        batch = Batch()
        for raw in mailmod.split_mbox(data):
            key = hashlib.sha1(raw).hexdigest()
            if key in seen:
                continue
            seen.add(key)
            batch.messages.append(raw)
            batch.keys.append(key)
        yield batch


class PublicInboxSource:
    kind = "public-inbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"public-inbox:{path}"

    def epochs(self) -> list[str]:
        found = []
        for entry in os.listdir(self.path / "git"):
            m = _EPOCH.match(entry)
            if m and (self.path / "git" / entry).is_dir():
                found.append((int(m.group(1)), entry))
        return [f"git/{name}" for _, name in sorted(found)]

    def batches(self, seen: set[str], cursor) -> Iterator[Batch]:
        """One batch per epoch; `cursor(part)` gives the last commit read of that epoch."""
        for part in self.epochs():
            try:
                repo = git.Repo(self.path / part)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
                raise InputError(str(self.path / part), f"not a git repository: {exc}") from None
            try:
                if not repo.head.is_valid():
                    continue
                head = repo.head.commit
            except (ValueError, git.GitCommandError):
                continue
            last = cursor(part)
            if last == head.hexsha:
                continue
            rev = f"{last}..{head.hexsha}" if last else head.hexsha
            batch = Batch(cursor=(part, head.hexsha))
            try:
                commits = list(repo.iter_commits(rev, reverse=True))
            except git.GitCommandError:  # the remembered commit is gone (rewritten epoch)
                commits = list(repo.iter_commits(head.hexsha, reverse=True))
            for commit in commits:
                try:
                    blob = commit.tree / "m"
                except KeyError:
                    continue  # a deletion commit (`d`) or anything else without a message
                batch.messages.append(blob.data_stream.read())
            yield batch


MailSource = MaildirSource | MboxSource | PublicInboxSource


def open_source(spec: str) -> MailSource:
    """Recognise a source by its shape; InputError when it is none of the three."""
    path = Path(spec)
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return MaildirSource(path)
        if (path / "git").is_dir() and any(_EPOCH.match(e) for e in os.listdir(path / "git")):
            return PublicInboxSource(path)
        raise InputError(spec, "neither a Maildir (cur/ new/ tmp/) nor a public-inbox v2 "
                         "archive (git/N.git)")
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                head = fh.read(4096)
        except OSError as exc:
            raise InputError(spec, f"cannot read: {exc.strerror or exc}") from None
        if not head.strip() or mailmod.is_mbox(head):
            return MboxSource(path)
        raise InputError(spec, "not an mbox (no `From ` line at the start)")
    raise InputError(spec, "no such file or directory")

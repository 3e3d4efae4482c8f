"""Helpers for the bot tests: patch mail made with real git, a Maildir, a public-inbox archive, an
SMTP server on 127.0.0.1, and the bot run as a real subprocess.

The C is our own kernel-like writing: a demo mirror driver whose v1 patch 2/3 returns early between
`mmu_notifier_invalidate_range_start()` and `..._end()`, and whose v2 jumps to the end instead.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import git
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
LIST = "linux-mm@kvack.example"
BOT_FROM = "notifier-review bot <bot@review.example>"

BASE_C = """\
// SPDX-License-Identifier: GPL-2.0
/* A pretend device that mirrors a process address space. */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>

struct demo_mirror {
\tstruct mmu_notifier notifier;
\tstruct mm_struct *mm;
\tunsigned long npages;
};

static int demo_mirror_fault(struct demo_mirror *dm, unsigned long addr)
{
\treturn demo_dev_map(dm, addr);
}
"""

LOOKUP = """
static pte_t *demo_mirror_lookup(struct demo_mirror *dm, unsigned long addr)
{
\tif (addr >= dm->npages << PAGE_SHIFT)
\t\treturn NULL;
\treturn demo_dev_pte(dm, addr);
}
"""

INVALIDATE_BUGGY = """
static int demo_mirror_invalidate(struct demo_mirror *dm, unsigned long start,
\t\t\t\t  unsigned long end)
{
\tstruct mmu_notifier_range range;
\tpte_t *pte;

\tmmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, dm->mm, start, end);
\tmmu_notifier_invalidate_range_start(&range);
\tpte = demo_mirror_lookup(dm, start);
\tif (!pte)
\t\treturn -EFAULT;
\tdemo_dev_unmap(dm, pte);
\tmmu_notifier_invalidate_range_end(&range);
\treturn 0;
}
"""

INVALIDATE_FIXED = """
static int demo_mirror_invalidate(struct demo_mirror *dm, unsigned long start,
\t\t\t\t  unsigned long end)
{
\tstruct mmu_notifier_range range;
\tpte_t *pte;
\tint ret = 0;

\tmmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, dm->mm, start, end);
\tmmu_notifier_invalidate_range_start(&range);
\tpte = demo_mirror_lookup(dm, start);
\tif (!pte) {
\t\tret = -EFAULT;
\t\tgoto out;
\t}
\tdemo_dev_unmap(dm, pte);
out:
\tmmu_notifier_invalidate_range_end(&range);
\treturn ret;
}
"""

RELEASE = """
static void demo_mirror_release(struct demo_mirror *dm)
{
\tdemo_mirror_invalidate(dm, 0, dm->npages << PAGE_SHIFT);
\tdm->npages = 0;
}
"""

STATS_C = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mm.h>

static unsigned long demo_faults;

void demo_count_fault(void)
{
\tdemo_faults++;
}
"""

STATS_PATCH = STATS_C + """
unsigned long demo_read_faults(void)
{
\treturn READ_ONCE(demo_faults);
}
"""

MIRROR = "mm/demo_mirror.c"
STATS = "mm/demo_stats.c"


def _repo(path: Path) -> git.Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch="master")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Ada Example")
        cw.set_value("user", "email", "ada@example.org")
        cw.set_value("commit", "gpgsign", "false")
    return repo


def _commit(repo: git.Repo, rel: str, text: str, message: str) -> str:
    target = Path(repo.working_tree_dir or ".") / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    repo.git.add(rel)
    repo.git.commit("-q", "-m", message)
    return repo.head.commit.hexsha


def _split(mbox_text: str) -> list[bytes]:
    """format-patch --stdout output, one message's bytes each, without the From_ lines."""
    out, current = [], None
    for line in mbox_text.splitlines(keepends=True):
        if line.startswith("From ") and line.rstrip().endswith("2001"):
            if current is not None:
                out.append("".join(current).encode())
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        out.append("".join(current).encode())
    return out


def _cover(raw: bytes, subject: str, body: str) -> bytes:
    text = raw.decode()
    text = text.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***", body)
    return text.encode()


@dataclass
class Mail:
    """The messages a test feeds to the bot, by name."""

    v1: list[bytes] = field(default_factory=list)  # cover, 1/3, 2/3, 3/3
    v2: list[bytes] = field(default_factory=list)
    clean: bytes = b""
    reply: bytes = b""
    broken: bytes = b""
    base: str = ""
    tree: Path | None = None

    def msgid(self, raw: bytes) -> str:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        return str(msg["Message-ID"]).strip().strip("<>")


def make_mail(tmp: Path) -> Mail:
    """A kernel-like tree and its patch traffic, with real `git format-patch`."""
    repo = _repo(tmp / "kernel")
    base = _commit(repo, MIRROR, BASE_C, "mm/demo: add the demo mirror driver")
    _commit(repo, STATS, STATS_C, "mm/demo: count faults")
    base = repo.head.commit.hexsha
    mail = Mail(base=base, tree=Path(repo.working_tree_dir or "."))
    common = ["--stdout", "--thread=shallow", f"--to={LIST}", "--cc=bob@example.org",
              f"--base={base}"]

    def series(invalidate: str, version: int) -> list[bytes]:
        repo.git.checkout("-q", "-b", f"v{version}", base)
        _commit(repo, MIRROR, BASE_C + LOOKUP, "mm/demo: look up a mirrored pte\n\n"
                "Find the device pte of an address.\n")
        _commit(repo, MIRROR, BASE_C + LOOKUP + invalidate,
                "mm/demo: invalidate a mirrored range\n\nDrop the device mapping of a range "
                "between the start and the end of an invalidation.\n")
        _commit(repo, MIRROR, BASE_C + LOOKUP + invalidate + RELEASE,
                "mm/demo: release the mirror\n\nInvalidate everything on release.\n")
        extra = ["--cover-letter"] + ([f"-v{version}"] if version > 1 else [])
        text = repo.git.format_patch(*common, *extra, f"{base}..HEAD")
        # format-patch ids are commit id + time: make v1 and v2 differ even within one second
        text = text.replace(".git.ada@example.org>", f".v{version}.git.ada@example.org>")
        msgs = _split(text + "\n")
        msgs[0] = _cover(msgs[0], "mm/demo: a mirror for the demo device",
                         f"This adds invalidation to the demo mirror (v{version}).")
        repo.git.checkout("-q", "master")
        return msgs

    mail.v1 = series(INVALIDATE_BUGGY, 1)
    mail.v2 = series(INVALIDATE_FIXED, 2)
    repo.git.checkout("-q", "-b", "clean", base)
    _commit(repo, STATS, STATS_PATCH, "mm/demo: read the fault count\n\nFor debugfs.\n")
    text = repo.git.format_patch(*common, f"{base}..HEAD")
    mail.clean = _split(text.replace(".git.ada@example.org>", ".c.git.ada@example.org>"))[0]
    repo.git.checkout("-q", "master")
    patch2 = mail.msgid(mail.v1[2])
    cover = mail.msgid(mail.v1[0])
    mail.reply = (
        "From: Bob Reviewer <bob@example.org>\n"
        f"To: Ada Example <ada@example.org>\nCc: {LIST}\n"
        "Subject: Re: [PATCH 2/3] mm/demo: invalidate a mirrored range\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
        "Message-ID: <reply-1@example.org>\n"
        f"In-Reply-To: <{patch2}>\nReferences: <{cover}> <{patch2}>\n"
        "\n"
        "> +\tif (!pte)\n> +\t\treturn -EFAULT;\n\nLooks odd to me.\n"
    ).encode()
    buggy_body = (
        "The mirror drops the mapping, here with a byte no charset knows: \xff\n---\n"
        "diff --git a/mm/demo_broken.c b/mm/demo_broken.c\n"
        "--- a/mm/demo_broken.c\n+++ b/mm/demo_broken.c\n@@ -1,3 +1,14 @@\n"
        " #include <linux/mm.h>\n \n"
        "+static int demo_broken(struct mm_struct *mm, unsigned long s, unsigned long e)\n"
        "+{\n+\tstruct mmu_notifier_range range;\n+\n"
        "+\tmmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, s, e);\n"
        "+\tmmu_notifier_invalidate_range_start(&range);\n"
        "+\tif (demo_busy(mm))\n+\t\treturn -EBUSY; /* caf\xe9 */\n"
        "+\tmmu_notifier_invalidate_range_end(&range);\n+\treturn 0;\n+}\n"
        " int demo_other;\n"
    )
    mail.broken = (
        b"From: Eve \xff\xfe <eve@example.org>\n"
        b"To: " + LIST.encode() + b"\n"
        b"Subject: [PATCH] mm/demo: \xe9\xe8 broken\n"
        b"Date: Mon, 1 Jan 2024 11:00:00 +0000\n"
        b"Message-ID: <broken-1@example.org>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n" + buggy_body.encode("latin-1")
    )
    return mail


def maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for raw in messages:
        box.add(raw)
    return path


def add_to_maildir(path: Path, messages: list[bytes]) -> None:
    box = mailbox.Maildir(str(path), create=False)
    for raw in messages:
        box.add(raw)


class PublicInbox:
    """A public-inbox v2 style archive: git/N.git bare epochs, each commit adds one file `m`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.epoch = -1
        self.new_epoch()

    def new_epoch(self) -> None:
        self.epoch += 1
        git.Repo.init(self.path / "git" / f"{self.epoch}.git", bare=True,
                      initial_branch="master")

    def _git(self, *args: str, data: bytes | None = None) -> str:
        env = dict(os.environ, GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.org",
                   GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@example.org")
        done = subprocess.run(["git", "-C", str(self.path / "git" / f"{self.epoch}.git"),
                               *args], input=data, capture_output=True, check=True, env=env)
        return done.stdout.decode().strip()

    def add(self, messages: list[bytes]) -> None:
        for raw in messages:
            blob = self._git("hash-object", "-w", "--stdin", data=raw)
            tree = self._git("mktree", data=f"100644 blob {blob}\tm\n".encode())
            try:
                parent = ["-p", self._git("rev-parse", "--verify", "-q", "refs/heads/master")]
            except subprocess.CalledProcessError:
                parent = []
            commit = self._git("commit-tree", tree, *parent, "-m", "msg")
            self._git("update-ref", "refs/heads/master", commit)


class Smtp:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.port = port

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content or b"",
                                                      policy=email.policy.default))
        return "250 OK"

    def __enter__(self) -> Smtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def bot_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp / "xdg"), PYTHONPATH=str(ROOT))
    env.pop("NOTIFIER_REVIEW_BOT_TEST_HOOK", None)
    env.update(extra)
    return env


def bot_args(state: Path, sources: list[Path], *extra: str) -> list[str]:
    return [sys.executable, "-m", "reviewer", "bot", "--once", "--state", str(state),
            "--from", BOT_FROM, "--wait", "0", *[str(s) for s in sources], *extra]


def run_bot(tmp: Path, state: Path, sources: list[Path], *extra: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(bot_args(state, sources, *extra), capture_output=True, text=True,
                          env=env or bot_env(tmp), cwd=str(tmp), timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def wait_for(path: Path, seconds: float = 120.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def outbox_messages(path: Path) -> list[email.message.Message]:
    out = []
    for sub in ("new", "cur"):
        folder = path / sub
        if folder.is_dir():
            for name in sorted(os.listdir(folder)):
                out.append(email.message_from_bytes((folder / name).read_bytes(),
                                                    policy=email.policy.default))
    return out


def buggy_single(name: str = "single") -> bytes:
    """A well-formed single patch with an unbalanced start/end, outside any series."""
    body = (
        "Skip busy mms.\n---\n"
        f"diff --git a/mm/demo_{name}.c b/mm/demo_{name}.c\n"
        f"--- a/mm/demo_{name}.c\n+++ b/mm/demo_{name}.c\n@@ -1,3 +1,14 @@\n"
        " #include <linux/mm.h>\n \n"
        f"+static int demo_{name}(struct mm_struct *mm, unsigned long s, unsigned long e)\n"
        "+{\n+\tstruct mmu_notifier_range range;\n+\n"
        "+\tmmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, s, e);\n"
        "+\tmmu_notifier_invalidate_range_start(&range);\n"
        "+\tif (demo_busy(mm))\n+\t\treturn -EBUSY;\n"
        "+\tmmu_notifier_invalidate_range_end(&range);\n+\treturn 0;\n+}\n"
        " int demo_other;\n"
    )
    return (
        "From: Carl Coder <carl@example.org>\n"
        f"To: {LIST}\n"
        f"Subject: [PATCH] mm/demo: skip busy mms in demo_{name}\n"
        "Date: Mon, 1 Jan 2024 12:00:00 +0000\n"
        f"Message-ID: <{name}-1@example.org>\n"
        "\n" + body
    ).encode()

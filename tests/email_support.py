"""Helpers for the mailing-list reply tests: fixture series reviewed, deterministic settings.

The demo-mirror series (fixtures/series/demo-mirror, made by make_demo_mirror.py, our own
writing) is reviewed in fragment mode from its patch files, or in tree mode from a git repository
built in tmp_path with `git am`.  Dates and Message-IDs come from counters so rendered replies can
be compared with golden files.
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import itertools
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import git
from sources_support import init_repo

from reviewer.analysis.knowledge import load_knowledge
from reviewer.engine.review import Report, review_series
from reviewer.engine.rule import RunOptions
from reviewer.images.select import provider_for_files
from reviewer.sources import series_from_files, series_from_range
from reviewer.voices.email_reply import ReplySettings

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / "fixtures" / "series"
DEMO = SERIES / "demo-mirror"
GOLDEN = Path(__file__).resolve().parent / "golden" / "email"
SEEDS = ROOT.parent / "shared" / "seeds"
SENDER = "Rev Iewer <rev@example.net>"


def demo_patches() -> list[str]:
    return [str(p) for p in sorted(DEMO.glob("*.patch"))]


def options() -> RunOptions:
    return RunOptions(knowledge=load_knowledge([], None))


def review_files(paths: list[str]) -> Report:
    series = series_from_files(paths)
    return review_series(series, provider_for_files(series, None, None), options())


def settings(**kw) -> ReplySettings:
    """Settings whose Date and Message-ID headers are the same on every run."""
    counter = itertools.count(1)
    start = datetime(2026, 3, 4, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    minutes = itertools.count(0)
    kw.setdefault("from_addr", SENDER)
    return ReplySettings(
        date_factory=lambda: start + timedelta(minutes=next(minutes)),
        msgid_factory=lambda: f"<reply-{next(counter)}@example.net>",
        **kw,
    )


def demo_module():
    spec = importlib.util.spec_from_file_location("make_demo_mirror",
                                                  SERIES / "make_demo_mirror.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_repo(path: Path) -> git.Repo:
    """The driver committed, the four demo patches applied by `git am`; user is Ada Example."""
    demo = demo_module()
    repo = init_repo(path)
    (path / "drivers/demo").mkdir(parents=True)
    (path / "drivers/demo/mirror.c").write_text(demo.MIRROR_C)
    (path / "drivers/demo/mirror_dev.c").write_text(demo.MIRROR_DEV_C)
    repo.git.add(".")
    repo.git.commit("-q", "-m", "drivers/demo: add the mirror driver")
    repo.git.am("-q", *demo_patches()[1:])
    return repo


def review_range(path: Path, rev_range: str) -> Report:
    series, provider = series_from_range(str(path), rev_range)
    return review_series(series, provider, options())


def as_text(msg: EmailMessage) -> str:
    return msg.as_bytes(policy=email.policy.default.clone(linesep="\n")).decode("utf-8")


def parse(text: str | bytes) -> EmailMessage:
    data = text.encode("utf-8") if isinstance(text, str) else text
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()

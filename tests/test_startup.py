"""Start-up of the per-patch commands (issue 8): what `b4-check` imports, the dataclass code cache.

b4 starts one process per patch, so `b4-check` must not import what it does not use (the stdlib's
`email.policy`, `json` unless `--json`, gitpython, jinja2); the mail reader must still read
headers exactly as `email.policy.default` does.  `reviewer._codecache` keeps the code that
`dataclasses` generates between runs: the classes it makes must be the classes `dataclasses`
makes without it, a bad cache file must not matter, and a failed command must write nothing.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

from workflow_support import REPO_ROOT, run_tool, tool_env

from reviewer.sources import mail

EXAMPLE = REPO_ROOT / "fixtures" / "examples" / "demo-remap-leak.patch"

DATACLASS_SCRIPT = """\
import sys
from reviewer import _codecache
if sys.argv[1] == "cached":
    _codecache.install()
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Point:
    x: int
    tags: list = field(default_factory=list, compare=False)

@dataclass(order=True)
class Rank:
    level: int = 0
    name: str = "low"

p = Point(1)
print(repr(p), p == Point(1, ["a"]), hash(p) == hash(Point(1)), Rank(1) < Rank(2, "x"))
print(Point.__init__.__annotations__, Rank.__init__.__defaults__, Rank.__doc__)
try:
    p.x = 2
except Exception as exc:
    print(type(exc).__name__)
print("compiled" if _codecache._missed else "from cache")
_codecache.save()
"""


def _modules_loaded(args: list[str], cwd: Path, stdin: bytes) -> set[str]:
    """Modules a command imports beyond what the interpreter itself starts with."""
    probe = ("import sys, runpy\nsys.argv = ['notifier-review'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('reviewer', run_name='__main__')\n"
             "except SystemExit:\n    pass\nsys.stderr.write(' '.join(sorted(sys.modules)))\n")
    env = tool_env(cwd)
    base = subprocess.run([sys.executable, "-c", "import sys, runpy\n"
                           "sys.stderr.write(' '.join(sorted(sys.modules)))"],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=60)
    run = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, input=stdin,
                         capture_output=True, env=env, timeout=120)
    loaded = set(run.stderr.decode().split()) - set(base.stderr.split())
    assert "reviewer.engine.review" in loaded, run.stderr.decode()[-2000:]
    return loaded


def test_b4_check_imports_only_what_it_uses(tmp_path: Path) -> None:
    loaded = _modules_loaded(["b4-check"], tmp_path, EXAMPLE.read_bytes())
    # a plain format-patch mail is read without the email package (reviewer.sources.plainmail);
    # the tree-sitter-c grammar is loaded without its package's importlib.resources; argparse
    # is not let import shutil; the configuration lookup does without pathlib
    for heavy in ("email", "email.policy", "json", "git", "jinja2", "importlib.resources",
                  "tempfile", "shutil", "pathlib"):
        assert heavy not in loaded, heavy
    with_json = _modules_loaded(["b4-check", "--json"], tmp_path, EXAMPLE.read_bytes())
    assert "json" in with_json


def test_check_of_patch_files_does_not_read_git_history(tmp_path: Path) -> None:
    loaded = _modules_loaded(["check", "--fail-on", "never", str(EXAMPLE)], tmp_path, b"")
    assert "reviewer.sources.gitrange" not in loaded
    assert "reviewer.sources.patchfile" in loaded


TRICKY = [
    b"From: =?UTF-8?Q?J=C3=A9r=C3=B4me_Example?= <j@example.org>\n"
    b"Subject: =?UTF-8?B?W1BBVENIXSBtbS9kZW1vOiBmaXggdGhlIGTDqW1v?=\n =?UTF-8?Q?_notifier?=\n"
    b"Date: Tue, 3 Jan 2023 10:00:00 -0800\nMessage-ID: <abc@x>\n"
    b"To: a@x.org, \"Doe, Jane\" <jane@y.org>\nCc: bob@z.org (Bob Z), Ada Q. Example <a@q>\n\nb\n",
    b"From: x@y\nSubject: [PATCH] a\nDate: yesterday-ish\nMessage-ID: not an id\n"
    b"In-Reply-To: <p@q>\n <r@s>\nReferences: <a@b>\r\n <c@d>\n\nbody\n",
    b"From: M\xfcller <m@x>\nSubject: [PATCH 1/2] caf\xe9\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 -0000\n\nx\n",
    b"From: =?utf-8?q?broken <a@b>\nSubject: =?x-unknown?q?abc?= and =?utf-8?b?!!!?=\n"
    b"To: undisclosed-recipients:;\nCc: group: a@b, c@d;\nMessage-Id: <a b@c>\n\nbody\n",
    b"From:\nSubject:\nDate:\nTo: a@b\nTo: c@d\nSubject: second\n\nbody\n",
]


def test_headers_are_read_as_policy_default_reads_them() -> None:
    names = ("Subject", "From", "Date", "Message-ID", "In-Reply-To", "References", "To", "Cc")
    for data in TRICKY:
        ours = email.message_from_bytes(data)
        default = email.message_from_bytes(data, policy=email.policy.default)
        for name in names:
            try:
                expected = [str(v) for v in default.get_all(name, [])]
            except Exception as exc:  # the registry rejects it either way
                expected = [type(exc).__name__]
            try:
                got = [str(v) for v in mail.header_values(ours, name)]
            except Exception as exc:
                got = [type(exc).__name__]
            assert got == expected, (name, data)


def test_dataclasses_from_the_cache_are_the_same_classes(tmp_path: Path) -> None:
    env = tool_env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"))

    def run(mode: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", DATACLASS_SCRIPT, mode], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    plain = run("plain")
    first = run("cached")
    assert first[-1] == "compiled"
    files = list((tmp_path / "cache" / "notifier-review").glob("dataclasses-*.marshal"))
    assert len(files) == 1
    second = run("cached")
    assert second[-1] == "from cache"
    assert plain[:-1] == first[:-1] == second[:-1]
    assert "<class 'int'>" in plain[1]  # real annotations: no __future__ flag leaked in
    files[0].write_bytes(b"\x00not marshal at all")
    third = run("cached")
    assert third[:-1] == plain[:-1] and third[-1] == "compiled"


def test_a_failed_command_writes_no_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    failed = run_tool(["check", "missing.patch"], cwd=tmp_path, env=tool_env(home))
    assert failed.returncode == 2
    assert not (home / ".cache").exists()
    ok = run_tool(["rules"], cwd=tmp_path, env=tool_env(home))
    assert ok.returncode == 0
    assert list((home / ".cache" / "notifier-review").glob("dataclasses-*.marshal"))


def test_knowledge_cache_is_reused_and_old_files_are_pruned(tmp_path: Path, monkeypatch) -> None:
    """The merged tables are kept between runs; a cache file of tables that changed a month
    ago is removed when a new one is written, a recent one is kept."""
    import marshal
    import os
    import time

    from reviewer.analysis import knowledge as kn

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    where = tmp_path / "cache" / "notifier-review"
    where.mkdir(parents=True)
    stale, recent = where / "knowledge-stale.marshal", where / "knowledge-recent.marshal"
    for f in (stale, recent):
        f.write_bytes(b"")
    old = time.time() - kn.STALE_SECONDS - 3600
    os.utime(stale, (old, old))
    extra = tmp_path / "mine.toml"
    extra.write_text('[[acquire]]\nnames = ["demo_lock"]\ngroup = "spinlock"\nkind = "lock"\n'
                     'context = "atomic"\nkey = "arg0"\nsuccess = "always"\n')
    first = kn.load_knowledge([str(extra)])
    assert "demo_lock" in first.acquires
    written = sorted(where.glob("knowledge-*.marshal"))
    names = [p.name for p in written]
    assert "knowledge-stale.marshal" not in names and "knowledge-recent.marshal" in names
    (new,) = [p for p in written if p.name != "knowledge-recent.marshal"]
    # the next run reads the file, not the tables: a name put only in the file is seen
    sections = marshal.loads(new.read_bytes())
    sections["acquire"][-1]["names"] = ["demo_cached_lock"]
    new.write_bytes(marshal.dumps(sections))
    again = kn.load_knowledge([str(extra)])
    assert "demo_cached_lock" in again.acquires and "demo_lock" not in again.acquires

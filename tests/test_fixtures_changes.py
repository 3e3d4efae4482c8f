"""Table-driven fixtures for rules that judge a change, not a file: a put the patch removes, a
range the patch shrinks.

Every `fixtures/changes/<family>/<case>.before.c` is committed in a real git repository, then
its `<case>.after.c` over it, and the commit is reviewed as `notifier-review check` reviews a
range.  The after image carries the expectations, clang-tidy style: a line with
`/* expect: RULE-ID */` must produce exactly those findings and every other line none.  A case
without any `expect:` is a change the rules must stay silent on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sources_support import commit, init_repo
from test_fixtures_c import expected

from reviewer.analysis.knowledge import load_knowledge
from reviewer.engine.review import review_series
from reviewer.engine.rule import RunOptions
from reviewer.model import FileChange, Hunk, HunkLine
from reviewer.sources.gitrange import series_from_range

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "changes"
CASES = sorted(p for p in ROOT.rglob("*.before.c"))


def _after(before: Path) -> Path:
    return before.with_name(before.name.replace(".before.c", ".after.c"))


@pytest.mark.parametrize("before", CASES, ids=[str(p.relative_to(ROOT)) for p in CASES])
def test_change(tmp_path: Path, before: Path) -> None:
    after = _after(before)
    rel = f"drivers/demo/{before.name.replace('.before.c', '.c')}"
    repo = init_repo(tmp_path / "repo")
    base = commit(repo, {rel: before.read_text()}, "demo: the code before")
    commit(repo, {rel: after.read_text()}, "demo: the change under review")
    series, provider = series_from_range(str(tmp_path / "repo"), f"{base.hexsha}..HEAD")
    report = review_series(series, provider, RunOptions(knowledge=load_knowledge()))
    got = {(f.line, f.rule) for f in report.findings}
    assert not report.functions_bounded
    assert got == expected(after), "\n".join(
        f"{f.line}: {f.rule}: {f.message}" for f in report.findings)


def test_every_case_has_both_sides() -> None:
    assert CASES, "no change fixtures found"
    assert all(_after(p).is_file() for p in CASES)


@pytest.mark.parametrize(("lines", "only_comments"), [
    ([("+", "\t/* why the lock is dropped here */")], True),
    ([("+", "/*"), ("+", " * A new block comment,"), ("+", " */")], True),
    ([("+", "\t// a line comment"), ("+", "")], True),
    ([("+", "\t/* a */ demo_call();")], False),
    ([("+", "\t*ptr = 0;")], False),
    ([("+", "/*"), ("+", " * never closed")], False),
    ([("-", "\tdemo_call();")], False),
])
def test_comment_only_changes_are_told(lines: list[tuple[str, str]], only_comments: bool) -> None:
    """A file whose change is only comments is not even parsed: the test that says so."""
    hunk = Hunk(1, 2, 1, 2 + len(lines))
    hunk.lines = [HunkLine(" ", "{", 1, 1), *(HunkLine(k, t, None, 2) for k, t in lines),
                  HunkLine(" ", "}", 2, 3)]
    change = FileChange("drivers/demo/a.c", "drivers/demo/a.c", hunks=[hunk])
    assert change.adds_only_comments() is only_comments

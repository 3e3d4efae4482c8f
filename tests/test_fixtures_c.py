"""Table-driven fixture test, clang-tidy style: expected findings are written in the C fixtures.

Every `fixtures/c/**/*.c` file is scanned with all rule families.  A line carrying
`/* expect: RULE-ID */` (several ids separated by commas) must produce exactly those findings;
every other line must produce none.  An optional `// kernel: X.Y` line at the top sets the
kernel version the fixture is written for.  So each fixture checks both what must fire and what
must stay silent, for every family at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewer.analysis.knowledge import load_knowledge, parse_version
from reviewer.engine.review import scan_file
from reviewer.engine.rule import RunOptions

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "c"
FIXTURES = sorted(ROOT.rglob("*.c"))
EXPECT = re.compile(r"expect:\s*([\w,\- ]+?)\s*\*/")
KERNEL = re.compile(r"^//\s*kernel:\s*(\S+)", re.M)


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            for rule in m.group(1).split(","):
                out.add((i, rule.strip()))
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT)) for p in FIXTURES])
def test_fixture(path: Path) -> None:
    m = KERNEL.search(path.read_text())
    version = parse_version(m.group(1)) if m else None
    options = RunOptions(knowledge=load_knowledge(version=version), version=version)
    result = scan_file(str(path), options)
    got = {(f.line, f.rule) for f in result.findings}
    assert not result.bounded, f"path bound hit in {result.bounded}"
    assert got == expected(path), "\n".join(
        f"{f.line}: {f.rule}: {f.message}" for f in result.findings
    )


def test_fixtures_exist() -> None:
    assert FIXTURES, "no C fixtures found"

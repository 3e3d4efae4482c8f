"""The slicer keeps what a function's review needs: same findings, same lines, fewer bytes.

For every function of every C fixture, the file is sliced for that function's lines and the
function is analysed in the slice; its findings (rule, line, message) must be exactly those of
the same function analysed in the whole file.  Unit cases cover the outline (functions with
trailing annotations, tables, `#if` lines kept, unbalanced braces refused).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_fixtures_c import FIXTURES, KERNEL, ROOT

from reviewer.analysis.knowledge import load_knowledge, parse_version
from reviewer.c.facts import FileFacts, Piece
from reviewer.c.parse import parse_c
from reviewer.c.slicing import outline, slice_for
from reviewer.engine.analyse import analyse_functions
from reviewer.engine.rule import RunOptions


def _facts(src: bytes, options: RunOptions) -> FileFacts:
    return FileFacts("demo.c", [Piece(parse_c(src), 0)], options.knowledge)


def _findings(facts: FileFacts, name: str, options: RunOptions) -> set[tuple[str, int, str]]:
    res = analyse_functions(facts, [name], options)
    return {(f.rule, f.line, f.message) for f in res.findings}


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(ROOT)) for p in FIXTURES])
def test_slice_gives_the_same_findings(path: Path) -> None:
    text = path.read_text()
    m = KERNEL.search(text)
    version = parse_version(m.group(1)) if m else None
    options = RunOptions(knowledge=load_knowledge(version=version), version=version)
    src = text.encode()
    whole = _facts(src, options)
    for name, (fd, _piece) in whole.defs.items():
        lines = set(range(fd.start_line, fd.end_line + 1))
        sliced_src = slice_for(src, lines)
        assert sliced_src is not None, f"{path.name}: no outline"
        assert sliced_src.count(b"\n") == src.count(b"\n")
        sliced = _facts(sliced_src, options)
        assert sliced.has(name)
        assert _findings(sliced, name, options) == _findings(whole, name, options), name


DEMO = b"""#include <linux/mm.h>
#ifdef CONFIG_DEMO
static int demo_count;
#endif

static void demo_unlock(struct demo *d) __releases(&d->lock)
{
	spin_unlock(&d->lock);
}

static int demo_helper(struct demo *d)
{
	return d->n;
}

static int demo_other(struct demo *d)
{
	return 2;
}

int demo_main(struct demo *d)
{
	return demo_helper(d);
}

static const struct demo_ops demo_ops = {
	.main = demo_main,
};

static const struct demo_ops demo_unused_ops = {
	.other = demo_other,
};
"""


def test_outline_names_items() -> None:
    items = outline(DEMO)
    assert items is not None
    assert [(i.kind, i.name) for i in items] == [
        ("function", "demo_unlock"), ("function", "demo_helper"), ("function", "demo_other"),
        ("function", "demo_main"), ("initializer", "demo_ops"),
        ("initializer", "demo_unused_ops")]


def test_slice_keeps_callees_tables_and_directives() -> None:
    line = DEMO.decode().splitlines().index("int demo_main(struct demo *d)") + 1
    out = slice_for(DEMO, {line + 2})
    assert out is not None
    assert out.count(b"\n") == DEMO.count(b"\n")
    text = out.decode()
    assert "demo_helper(struct demo *d)" in text and "int demo_main" in text
    assert ".main = demo_main" in text
    assert "demo_other" not in text and "demo_unlock" not in text
    assert "#ifdef CONFIG_DEMO" in text and "static int demo_count;" in text


def test_a_table_declared_with_its_struct_stays_whole() -> None:
    src = (b"static struct {\n\tint n;\n} demo_table = {\n\t.n = 1,\n};\n\n"
           b"static int demo_a(void)\n{\n\treturn demo_table.n;\n}\n\n"
           b"static int demo_b(void)\n{\n\treturn 2;\n}\n")
    out = slice_for(src, {9})
    assert out is not None
    assert b"} demo_table = {" in out and b"demo_b" not in out


def test_unbalanced_braces_are_refused() -> None:
    src = b"#if A\nint f(void) {\n#else\nint f(int x) {\n#endif\n\treturn 0;\n}\n"
    assert slice_for(src, {6}) is None

"""Unit tests of the CFG builder and the path walker on small functions (issue 2, C understanding).

The CFG must cover if/else, switch with fallthrough and default, loops with break/continue,
goto/labels, return, do/while(0) and calls that never return; the walker must keep symbolic
values, consistent branch facts and conditional acquisitions, and a user table must extend the
knowledge without Python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reviewer.analysis.knowledge import load_knowledge
from reviewer.analysis.walker import Walk
from reviewer.c.cfg import build_cfg
from reviewer.c.facts import FileFacts, Piece
from reviewer.c.parse import functions, parse_c

REPO_ROOT = Path(__file__).resolve().parents[1]


def cfg_of(src: str):
    parsed = parse_c(src.encode())
    (fd,) = functions(parsed)
    return build_cfg(fd.body, parsed.text, is_scoped_guard=parsed.is_scoped_guard), parsed


def returns_reachable(src: str) -> set[int]:
    """Lines of return statements reachable from entry."""
    cfg, _ = cfg_of(src)
    seen, stack = set(), [cfg.entry]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(s for s, _ in cfg.node(n).succs)
    return {cfg.node(n).line for n in seen if cfg.node(n).kind == "return"}


def test_switch_fallthrough_goto_and_noreturn() -> None:
    src = """int f(int x)
{
	switch (x) {
	case 1:
		a();
		fallthrough;
	case 2:
		return 2;
	default:
		break;
	}
	if (x > 9)
		goto out;
	if (x < 0)
		BUG();
	do {
		if (x)
			break;
	} while (0);
	return 0;
out:
	return 1;
	return 99;
}
"""
    lines = returns_reachable(src)
    assert lines == {8, 20, 22}  # the return after `return 1;` is dead


def test_noreturn_ends_the_path() -> None:
    cfg, _ = cfg_of("void f(int x)\n{\n\tif (x)\n\t\tpanic(\"x\");\n\tg();\n}\n")
    kinds = [n.kind for n in cfg.nodes]
    assert "noreturn" in kinds


def test_loop_macro_body_is_attached() -> None:
    cfg, _ = cfg_of("void f(struct list_head *h)\n{\n\tstruct item *p;\n\n"
                    "\tlist_for_each_entry(p, h, node) {\n\t\tif (p->x)\n\t\t\tbreak;\n\t}\n}\n")
    heads = [n for n in cfg.nodes if n.loop_head]
    assert heads and heads[0].line == 5


def walk(src: str, name: str, knowledge=None):
    k = knowledge or load_knowledge()
    facts = FileFacts("t.c", [Piece(parse_c(src.encode()))], k)
    return Walk(facts.unit(name), k, [], facts.summary).run()


def test_symbolic_copy_and_consistent_conditions() -> None:
    src = """void f(struct vm_area_struct *vma, bool cow)
{
	unsigned long a = vma->vm_start;

	if (cow)
		mmu_notifier_invalidate_range_start(vma->vm_mm, a, vma->vm_end);
	g();
	if (cow)
		mmu_notifier_invalidate_range_end(vma->vm_mm, vma->vm_start, vma->vm_end);
}
"""
    w = walk(src, "f")
    assert not w.bounded
    assert all(not st.held for st, _, _ in w.exit_states)
    assert len(w.exit_states) == 2  # cow true and cow false, never mixed


def test_user_table_extends_knowledge(tmp_path: Path) -> None:
    table = tmp_path / "mydrv.toml"
    table.write_text("""
[[acquire]]
names = ["mydrv_inval_begin"]
group = "mmu_notifier_range"
kind = "range"
context = "sleeping"
key = "all"
success = "always"

[[release]]
names = ["mydrv_inval_done"]
group = "mmu_notifier_range"
key = "all"
""")
    src = tmp_path / "drv.c"
    src.write_text("int mydrv_zap(struct mydrv *d)\n{\n\tmydrv_inval_begin(d);\n"
                   "\tif (d->dead)\n\t\treturn -ENODEV;\n\tmydrv_inval_done(d);\n\treturn 0;\n}\n")
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    plain = subprocess.run([sys.executable, "-m", "reviewer", "scan", str(src)],
                           capture_output=True, text=True, env=env)
    assert plain.returncode == 0, plain.stdout
    extended = subprocess.run([sys.executable, "-m", "reviewer", "scan", str(src), "--table",
                               str(table)], capture_output=True, text=True, env=env)
    assert extended.returncode == 1
    assert "drv.c:5: error: [bracketing-unbalanced] mydrv_zap()" in extended.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[[acquire]\nnames = 1\n")
    broken = subprocess.run([sys.executable, "-m", "reviewer", "scan", str(src), "--table",
                             str(bad)], capture_output=True, text=True, env=env)
    assert broken.returncode == 2 and "bad.toml" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_knowledge_cache_follows_table_changes(tmp_path: Path, monkeypatch) -> None:
    """The merged tables are cached between runs; editing a table is seen at once."""
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    table = tmp_path / "t.toml"
    table.write_text('[[release]]\nnames = ["my_unlock_a"]\ngroup = "spinlock"\nkey = "arg0"\n')
    first = load_knowledge([str(table)])
    assert "my_unlock_a" in first.releases
    assert list((tmp_path / "cache" / "notifier-review").iterdir())  # the cache was written
    again = load_knowledge([str(table)])
    assert "my_unlock_a" in again.releases
    table.write_text('[[release]]\nnames = ["my_unlock_b"]\ngroup = "spinlock"\nkey = "arg0"\n')
    os.utime(table, ns=(1, 1))
    changed = load_knowledge([str(table)])
    assert "my_unlock_b" in changed.releases and "my_unlock_a" not in changed.releases

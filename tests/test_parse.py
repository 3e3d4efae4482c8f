"""Tests for parsing kernel C and listing its functions (reviewer.c.parse)."""

from __future__ import annotations

from reviewer.c import parse as parse_mod
from reviewer.c.parse import ParsedFile, functions, parse_c, parse_cached

KERNEL_LIKE = b"""\
// SPDX-License-Identifier: GPL-2.0
/* A kernel-like file written for these tests. */
#include <linux/mm.h>

static DEFINE_MUTEX(demo_lock);
static LIST_HEAD(demo_list);

struct demo {
	struct list_head node;
	unsigned long start;
	int v[] __counted_by(n);
};

static struct page *__must_check demo_page(struct mm_struct *mm,
						unsigned long addr)
{
	return NULL;
}

static inline void __user *demo_ptr(void __user *p, const char *fmt, ...)
{
	return p;
}

#ifdef CONFIG_DEMO
int demo_walk(struct mm_struct *mm, int (*cb)(struct demo *d, void *arg), void *arg)
{
	struct demo *d;
	int ret = 0;

	mutex_lock(&demo_lock);
	list_for_each_entry(d, &demo_list, node) {
		ret = cb(d, arg);
		if (ret)
			break;
	}
	mutex_unlock(&demo_lock);
	return ret;
}
#else
static int demo_walk(struct mm_struct *mm, void *cb, void *arg)
{
	scoped_guard(mutex, &demo_lock)
		return 0;
	return 1;
}
#endif

EXPORT_SYMBOL_GPL(demo_page);

SYSCALL_DEFINE2(demo, unsigned long, start, size_t, len)
{
	return 0;
}

static void demo_unbraced(struct list_head *head)
{
	struct demo *d, *n;

	list_for_each_entry_safe(d, n, head, node)
		kfree(container_of(&d->node, struct demo, node));
}
"""


def test_parsed_file_keeps_both_texts_and_reads_the_original() -> None:
    parsed = parse_c(KERNEL_LIKE)
    assert isinstance(parsed, ParsedFile)
    assert parsed.src == KERNEL_LIKE
    assert len(parsed.normalized) == len(KERNEL_LIKE)
    assert parsed.normalized != KERNEL_LIKE
    assert not parsed.root.has_error
    fn = next(f for f in functions(parsed) if f.name == "demo_page")
    assert "__must_check" in parsed.text(fn.node)
    assert parsed.line(fn.node) == fn.start_line == 14


def test_functions_found_everywhere_with_their_details() -> None:
    fns = functions(parse_c(KERNEL_LIKE))
    assert [f.name for f in fns] == [
        "demo_page", "demo_ptr", "demo_walk", "demo_walk", "sys_demo", "demo_unbraced",
    ]
    assert not any(f.has_error for f in fns)
    page = fns[0]
    assert page.is_static and page.return_type == "struct page *"
    assert page.params == [("struct mm_struct *", "mm"), ("unsigned long", "addr")]
    assert (page.start_line, page.end_line) == (14, 18)
    assert page.body.type == "compound_statement"
    ptr = fns[1]
    assert ptr.return_type == "void *"
    assert ptr.params == [("void __user *", "p"), ("const char *", "fmt"), ("...", "")]
    walk = fns[2]
    assert not walk.is_static and walk.return_type == "int"
    assert walk.params[1] == ("int (*)(struct demo *d, void *arg)", "cb")
    assert fns[3].is_static
    sysc = fns[4]
    assert sysc.params == [("unsigned long", "start"), ("size_t", "len")]
    assert sysc.return_type == "long"


def test_macro_declarations_are_not_functions() -> None:
    src = b"static DEFINE_MUTEX(lock);\nDEFINE_STATIC_SRCU(srcu);\nstatic LIST_HEAD(l);\n"
    assert functions(parse_c(src)) == []


def test_loops_and_guards_are_recognisable_from_the_tree() -> None:
    parsed = parse_c(KERNEL_LIKE)
    loops, guards = [], []
    stack = [parsed.root]
    while stack:
        n = stack.pop()
        if n.type == "while_statement":
            loops.append(n)
        if n.type == "if_statement" and parsed.is_scoped_guard(n):
            guards.append(n)
        stack.extend(n.children)
    assert sorted(parsed.head_word(n) for n in loops) == [
        "list_for_each_entry", "list_for_each_entry_safe"]
    assert all(parsed.is_macro_loop(n) for n in loops)
    (guard,) = guards
    assert parsed.head_word(guard) == "scoped_guard"
    assert parsed.text(guard.child_by_field_name("consequence")) == "return 0;"
    unbraced = next(n for n in loops if parsed.head_word(n) == "list_for_each_entry_safe")
    assert parsed.text(unbraced.child_by_field_name("body")).startswith("kfree(container_of(")


def test_function_with_residual_error_is_flagged() -> None:
    src = b"int f(void)\n{\n\tx = (a + ;\n\treturn 0;\n}\nint g(void)\n{\n\treturn 0;\n}\n"
    fns = {f.name: f for f in functions(parse_c(src))}
    assert fns["f"].has_error and not fns["g"].has_error


def test_cache_parses_a_blob_once_and_stays_bounded() -> None:
    parse_mod.clear_cache()
    a = parse_cached("blob-a", KERNEL_LIKE)
    assert parse_cached("blob-a", bytes(KERNEL_LIKE)) is a
    changed = parse_cached("blob-a", KERNEL_LIKE + b"\n")
    assert changed is not a and changed.src.endswith(b"\n\n")
    for i in range(parse_mod.CACHE_SIZE + 10):
        parse_cached(f"blob-{i}", b"int x;\n")
    assert parse_mod.cache_size() == parse_mod.CACHE_SIZE
    first = parse_cached("blob-0", b"int x;\n")
    again = parse_cached("blob-0", b"int x;\n")
    assert first is again
    parse_mod.clear_cache()

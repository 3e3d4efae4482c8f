"""Tests for the kernel-C normalisation in front of tree-sitter-c (reviewer.c.normalize)."""

from __future__ import annotations

import time

import pytest
import tree_sitter

from reviewer.c.normalize import normalize, normalize_with_sites, scoped_guard_sites
from reviewer.c.parse import PARSER_LANGUAGE


def _tree(src: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(PARSER_LANGUAGE).parse(src)


def _nodes(node: tree_sitter.Node, kind: str) -> list[tree_sitter.Node]:
    found, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == kind:
            found.append(n)
        stack.extend(n.children)
    return found


def _same_layout(a: bytes, b: bytes) -> bool:
    return len(a) == len(b) and [i for i, c in enumerate(a) if c == 10] == [
        i for i, c in enumerate(b) if c == 10
    ]


def _fn(body: str) -> bytes:
    return ("static int f(struct mm_struct *mm)\n{\n" + body + "\n\treturn 0;\n}\n").encode()


# (case id, source, node kind that must exist, text that must be inside that node's body/child)
LOOP_CASES = [
    ("list braced", _fn("\tlist_for_each_entry(p, &h->list, node) {\n\t\tfoo(p);\n\t}"),
     "while_statement", b"foo(p)"),
    ("list unbraced", _fn("\tlist_for_each_entry(p, &h->list, node)\n\t\tfoo(p);"),
     "while_statement", b"foo(p)"),
    ("safe", _fn("\tlist_for_each_entry_safe(p, n, &h, node) {\n\t\tkfree(p);\n\t}"),
     "while_statement", b"kfree(p)"),
    ("hlist rcu 4 args", _fn("\thlist_for_each_entry_rcu(s, &mm->hl, hlist,\n"
                             "\t\t\t\t lockdep_is_held(&l)) {\n\t\tbar(s);\n\t}"),
     "while_statement", b"bar(s)"),
    ("for_each_vma", _fn("\tVMA_ITERATOR(vmi, mm, 0);\n\tfor_each_vma(vmi, vma)\n\t\tcount++;"),
     "while_statement", b"count++"),
    ("xa_for_each", _fn("\txa_for_each(&xa, idx, entry) {\n\t\tput(entry);\n\t}"),
     "while_statement", b"put(entry)"),
    ("interval tree foreach unbraced",
     _fn("\tvma_interval_tree_foreach(vma, &m->i_mmap, a, b)\n\t\tflush(vma);"),
     "while_statement", b"flush(vma)"),
    ("after if", _fn("\tif (mm)\n\t\tfor_each_online_cpu(cpu)\n\t\t\tflush(cpu);"),
     "while_statement", b"flush(cpu)"),
    ("nested", _fn("\tfor_each_node(n)\n\t\tfor_each_zone_in(n, z) {\n\t\t\tz->x = 0;\n\t\t}"),
     "while_statement", b"z->x = 0"),
    ("unknown braced", _fn("\tmy_walk_entries(a, b) {\n\t\tz(a);\n\t}"),
     "while_statement", b"z(a)"),
    ("scoped guard braced", _fn("\tscoped_guard(mutex, &mm->lock) {\n\t\tz(mm);\n\t}"),
     "if_statement", b"z(mm)"),
    ("scoped guard unbraced", _fn("\tscoped_guard(spinlock, &l)\n\t\tz(mm);"),
     "if_statement", b"z(mm)"),
    ("scoped cond guard",
     _fn("\tscoped_cond_guard(mutex_intr, return -EINTR, &l) {\n\t\tz(mm);\n\t}"),
     "if_statement", b"z(mm)"),
]


@pytest.mark.parametrize("src,kind,inner", [c[1:] for c in LOOP_CASES],
                         ids=[c[0] for c in LOOP_CASES])
def test_statement_macros_get_their_body(src: bytes, kind: str, inner: bytes) -> None:
    norm = normalize(src)
    assert _same_layout(src, norm)
    root = _tree(norm).root_node
    assert not root.has_error, str(root)
    stmts = _nodes(root, kind)
    assert stmts, str(root)
    inner_stmt = min(stmts, key=lambda n: n.end_byte - n.start_byte)
    body = inner_stmt.child_by_field_name("body") or inner_stmt.child_by_field_name("consequence")
    assert body is not None
    assert inner in src[body.start_byte:body.end_byte]


def test_scoped_guard_sites_point_at_the_if() -> None:
    src = _fn("\tscoped_guard(mutex, &l) {\n\t\tz();\n\t}\n\tlist_for_each(p, h)\n\t\tq(p);")
    res = normalize_with_sites(src)
    assert scoped_guard_sites(src) == res.scoped_guards
    (guard,) = res.scoped_guards
    assert src[guard:].startswith(b"scoped_guard")
    assert res.text[guard:].startswith(b"if ")
    (loop,) = res.loops
    assert src[loop:].startswith(b"list_for_each") and res.text[loop:].startswith(b"while ")
    ifs = _nodes(_tree(res.text).root_node, "if_statement")
    assert [n.start_byte for n in ifs] == [guard]


CLEAN_CASES = [
    ("must_check pointer", b"static struct page *__must_check f(void)\n{\n\treturn 0;\n}\n"),
    ("always_inline", b"static __always_inline int f(int a)\n{\n\treturn a;\n}\n"),
    ("init", b"static int __init f(void)\n{\n\treturn 0;\n}\n"),
    ("noinline_for_stack", b"static noinline_for_stack long f(void)\n{\n\treturn 0;\n}\n"),
    ("user rcu iomem", b"static long f(char __user *buf, void __iomem *io,\n"
                       b"\t      struct x __rcu **pp)\n{\n\treturn 0;\n}\n"),
    ("acquires prototype", b"void f(spinlock_t *l) __acquires(l);\n"
                           b"void g(spinlock_t *l)\n\t__releases(l)\n{\n\tspin_unlock(l);\n}\n"),
    ("counted_by", b"struct s {\n\tint n;\n\tint v[] __counted_by(n);\n};\n"),
    ("attribute after declarator", b"int x __attribute__((aligned(8)));\n"),
    ("container_of", _fn("\tstruct foo *p = container_of(n, struct foo, node);")),
    ("list_first_entry_or_null",
     _fn("\tp = list_first_entry_or_null(&h, struct foo, node);")),
    ("list_entry pointer type", _fn("\tp = list_entry(n, struct foo *, node);")),
    ("rb_entry", _fn("\tp = rb_entry(rb, union bar, rb);")),
    ("offsetof", _fn("\tx = offsetof(struct foo, bar) + sizeof_field(struct foo, bar);")),
    ("kmem_cache", b"static void f(void)\n{\n\tc = KMEM_CACHE(vm_area_struct, SLAB_PANIC);\n"
                   b"\td = KMEM_CACHE(struct anon_vma, 0);\n}\n"),
    ("min_t", _fn("\tx = min_t(unsigned long, a, b) + max_t(unsigned, c, d);")),
    ("guard", _fn("\tguard(mutex)(&mm->lock);\n\tz();")),
    ("static ratelimit", _fn("\tstatic DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 10);")),
    ("typeof decl", _fn("\ttypeof(mm->x) y = mm->x;")),
    ("alignof expr", _fn("\tn = __alignof__(mm->a[0]);")),
    ("bitmap", _fn("\tDECLARE_BITMAP(map, 64) = { 0 };")),
    ("case range", _fn("\tswitch (c) {\n\tcase 0 ... 9:\n\t\tbreak;\n\t}")),
    ("ifdef in expression",
     _fn("\tx = a |\n#ifdef CONFIG_X\n\t\tb |\n#else\n\t\tc |\n#endif\n\t\td;")),
    ("ifdef before else", _fn("\tif (a)\n\t\tx();\n#ifdef CONFIG_X\n\telse if (b)\n\t\ty();\n"
                              "#endif\n\telse\n\t\tz();")),
    ("endif after else", _fn("#ifdef CONFIG_X\n\tif (a) {\n\t\tx();\n\t} else\n#endif\n\t\ty();")),
    ("initcall without semicolon", b"static int __init f(void)\n{\n\treturn 0;\n}\n"
                                   b"late_initcall(f)\n\nint g(void)\n{\n\treturn 1;\n}\n"),
    ("syscall", b"SYSCALL_DEFINE3(mprotect, unsigned long, start, size_t, len,\n"
                b"\t\tunsigned long, prot)\n{\n\treturn do_it(start, len, prot);\n}\n"),
]


@pytest.mark.parametrize("src", [c[1] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES])
def test_kernel_idioms_parse_clean(src: bytes) -> None:
    norm = normalize(src)
    assert _same_layout(src, norm)
    root = _tree(norm).root_node
    assert not root.has_error, norm.decode() + "\n" + str(root)


def test_must_check_function_keeps_its_name() -> None:
    src = b"static struct page *__must_check f(void)\n{\n\treturn 0;\n}\n"
    defs = _nodes(_tree(normalize(src)).root_node, "function_definition")
    assert len(defs) == 1
    assert b"f(void)" in src[defs[0].start_byte:defs[0].end_byte]


UNTOUCHED = [
    ("string", b'const char *s = "list_for_each_entry(a, b, c) { __user struct x, }";\n'),
    ("comment", b"/* list_for_each_entry(a, b, c) {\n * container_of(p, struct x, m) __rcu */\n"),
    ("line comment", b"// scoped_guard(mutex, &l) { __must_check }\nint x;\n"),
    ("char", b"char c = '(';\nint y;\n"),
    ("define", b"#define each(p) list_for_each_entry(p, &h, n) {\n"
               b"#define CO(p) container_of(p, struct x, m) __user\n"),
    ("sizeof and casts", b"int f(void)\n{\n\treturn sizeof(struct x) + (struct y *)p - "
                         b"typeof(struct z);\n}\n"),
    ("plain call statement", b"void f(void)\n{\n\tfor_each_thing_do(a);\n}\n"),
    ("function named for_each", b"static void walk_for_each(int a)\n{\n}\n"),
]


@pytest.mark.parametrize("src", [c[1] for c in UNTOUCHED], ids=[c[0] for c in UNTOUCHED])
def test_literals_comments_and_directives_are_untouched(src: bytes) -> None:
    assert normalize(src) == src


def test_offsets_preserved_with_crlf_and_multiline_annotations() -> None:
    src = (b"static int f(void)\r\n\t__releases(\r\n\t\tl)\r\n{\r\n"
           b"\tlist_for_each_entry(p,\r\n\t\th, m)\r\n\t\tg(p);\r\n\treturn 0;\r\n}\r\n")
    norm = normalize(src)
    assert _same_layout(src, norm)
    assert [i for i, c in enumerate(src) if c == 13] == [i for i, c in enumerate(norm) if c == 13]
    assert not _tree(norm).root_node.has_error


def test_linear_time_on_a_large_file() -> None:
    one = _fn("\tlist_for_each_entry(p, &h, n) {\n\t\tq = container_of(p, struct x, m);\n\t}\n"
              "\tx = min_t(unsigned long, a, b);")
    big = b"".join(one.replace(b" f(", b" f%d(" % i) for i in range(2000))  # ~16k lines
    t0 = time.perf_counter()
    norm = normalize(big)
    elapsed = time.perf_counter() - t0
    assert len(norm) == len(big)
    assert elapsed < 5.0
    assert not _tree(norm).root_node.has_error

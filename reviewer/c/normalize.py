"""Kernel-C normalisation in front of tree-sitter-c (first step of the C stage, `reviewer.c`).

tree-sitter-c knows ISO C, not the kernel's macro dialect.  `normalize(src)` rewrites the few
idioms that break its trees, in place and byte for byte: the output has exactly the length of the
input and every newline at the same offset, so every tree-sitter position (byte, row, column) is
also a position in the user's file.  Nothing inside comments, string or character literals, or
preprocessor lines is touched.

The rewrites (all of them replace bytes by spaces or by a keyword padded with spaces):

* iterator macros (`list_for_each_entry(p, h, m)`, `for_each_vma(vmi, vma)`, any identifier
  with `for_each` or `foreach` in it, plus `EXTRA_ITERATORS`) at the head of a statement, with a
  braced or unbraced body, become `while` padded with spaces:
  `while               (p, h, m) { ... }`, so the body is the loop's child.  Any other
  `name(args) {` at the head of a statement inside a function (an unknown iterator) is treated
  the same way.
* `scoped_guard(name, args) stmt` (and `scoped_cond_guard`) becomes `if          (name, args) stmt`;
  the CFG recognises it as a guard, not a branch, by the original bytes at the statement start
  (`reviewer.c.parse.ParsedFile.is_scoped_guard`/`head_word`) or `Normalized.scoped_guards`.
* annotation macros (`ANNOTATIONS`, and `ANNOTATIONS_WITH_ARGS` together with their argument
  list, and `__attribute__((...))`) are blanked.
* `SYSCALL_DEFINEn(name, type, arg, ...)` (and `COMPAT_`) at column 0 becomes the header
  `long name(type  arg, ...)` of a function definition named `name`.
* smaller idioms: `static DEFINE_X(...);` inside a body loses `static`; `typeof(e) v;` declares
  an `int`; `alignof` becomes `sizeof`; `DECLARE_BITMAP(m, n)` becomes `long m[n]`; GNU case
  ranges `case A ... B:` become `case A | B:`; a file-scope `initcall(fn)` with no `;` is blanked;
  `#if` groups that tree-sitter cannot place (inside an expression or initialiser, between `else`
  or `if (...)` and its statement) keep their first branch only.
* a type passed as a macro argument (`container_of(p, struct X, m)`, `min_t(unsigned long, a, b)`)
  loses the `struct`/`union`/`enum` keyword (and any `*`) or the extra words of a multi-word
  primitive type, so the argument parses as an identifier.

The scan is linear: one regex pass masks comments, literals and preprocessor lines, one pass
matches parentheses, and each rewrite looks only at its own neighbourhood.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# Annotation macros that are blanked where they stand (sparse, section, inlining, linkage...).
ANNOTATIONS: tuple[str, ...] = (
    "__must_check", "__user", "__kernel", "__rcu", "__iomem", "__percpu", "__force", "__bitwise",
    "__safe", "__nocast", "__private", "__init", "__exit", "__always_inline", "noinline",
    "noinline_for_stack", "__weak", "__sched", "__cold", "__hot", "__maybe_unused",
    "__always_unused", "__used", "__ref", "__refdata", "__meminit", "__meminitdata",
    "__meminitconst", "__memexit", "__init_memblock", "__initdata_memblock", "__initdata",
    "__initconst", "__exitdata", "__read_mostly", "__ro_after_init", "asmlinkage", "__visible",
    "notrace", "noinstr", "__cpuidle", "__latent_entropy", "__kprobes", "__irq_entry",
    "__init_or_module", "__nocfi", "__noreturn", "__noclone", "__naked", "__flatten", "__malloc",
    "__pure", "__packed", "__randomize_layout", "__no_randomize_layout", "__designated_init",
    "__cacheline_aligned", "__cacheline_aligned_in_smp", "____cacheline_aligned",
    "____cacheline_aligned_in_smp", "____cacheline_internodealigned_in_smp",
    "__page_aligned_data", "__page_aligned_bss", "__nosavedata", "__no_kcsan",
    "__no_sanitize_address", "__no_kasan", "__no_profile", "__no_stack_protector",
    "__attribute_const__", "__noendbr", "__deprecated", "__nonstring", "__bpf_kfunc", "__lockfunc",
    "__ksym", "__net_init", "__net_exit", "__devinit", "__devexit", "__cpuinit", "__gnu_inline",
    "__no_context_analysis", "__always_inline_for_stack", "__initcall",
)

# Annotation macros blanked together with their parenthesised argument list.
ANNOTATIONS_WITH_ARGS: tuple[str, ...] = (
    "__releases", "__acquires", "__must_hold", "__cond_acquires", "__cond_releases",
    "__acquires_shared", "__releases_shared", "__must_hold_shared", "__cond_acquires_shared",
    "__guarded_by", "__pt_guarded_by", "__counted_by", "__counted_by_le", "__counted_by_be",
    "__sized_by", "__aligned", "__section", "__printf", "__scanf", "__alloc_size",
    "__assume_aligned", "__free", "__cleanup", "__compiletime_error", "__compiletime_warning",
    "__diag_ignore", "__no_sanitize_or_inline", "__attribute__", "__attribute",
    "__designated_init_attr", "__vector_size",
)

# Iterator-like statement macros whose names do not contain "for_each".
EXTRA_ITERATORS: tuple[str, ...] = (
    "do_each_pid_task", "do_each_pid_thread", "for_next_zone_zonelist_nodemask",
)

# Statement macros that hold a lock for their body.
SCOPED_GUARDS: tuple[str, ...] = ("scoped_guard", "scoped_cond_guard")

# Callees whose parenthesised operand is a type that tree-sitter-c already understands.
TYPE_OPERATORS: frozenset[bytes] = frozenset({
    b"sizeof", b"typeof", b"__typeof__", b"__typeof", b"typeof_unqual", b"_Alignof", b"alignof",
    b"__alignof__", b"offsetof", b"__builtin_offsetof", b"va_arg", b"_Generic", b"__auto_type",
})

# Keywords that are never a macro name at the head of a statement.
C_KEYWORDS: frozenset[bytes] = frozenset({
    b"if", b"else", b"while", b"for", b"do", b"switch", b"case", b"default", b"return", b"goto",
    b"break", b"continue", b"sizeof", b"typeof", b"__typeof__", b"asm", b"__asm__", b"__asm",
    b"volatile", b"_Static_assert", b"static_assert", b"struct", b"union", b"enum", b"defined",
})

_MASK_RE = re.compile(
    rb"""
      //[^\n]*                                     # line comment
    | /\*.*?(?:\*/|\Z)                             # block comment
    | "(?:\\.|\\\n|[^"\\\n])*"?                    # string literal
    | '(?:\\.|[^'\\\n])*'?                         # character literal
    | ^[ \t]*\#(?:[^\n\\]|\\.|\\\n)*               # preprocessor line with continuations
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)
_WS = b" \t\r\n\f\v"
_SIG_RE = re.compile(rb"[^ \t\r\n\f\v]")
_DIRECTIVE_RE = re.compile(rb"[ \t]*#[ \t]*(\w*)")
_IDENT_RE = re.compile(rb"[A-Za-z_]\w*")
_PAREN_RE = re.compile(rb"[()]")


def _words(names: tuple[str, ...]) -> bytes:
    return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True)).encode()


_FIRST_BYTES = bytes(sorted({ord(n[0]) for n in ANNOTATIONS}))
# the lookahead on the first letter lets the alternation be tried at few offsets (2x faster)
_ANNOT_RE = re.compile(rb"\b(?=[" + re.escape(_FIRST_BYTES) + rb"])(?:" + _words(ANNOTATIONS)
                       + rb")\b")
_ANNOT_ARGS_RE = re.compile(rb"\b(?:" + _words(ANNOTATIONS_WITH_ARGS) + rb")\s*\(")
_HEAD_RE = re.compile(rb"\b[A-Za-z_]\w*(?=\s*\()")
_TAG_ARG_RE = re.compile(rb"\b(?:struct|union|enum)\s+[A-Za-z_]\w*((?:\s*\*)*)\s*(?=[,)])")
_MULTIWORD_ARG_RE = re.compile(
    rb"\b(?:(?:unsigned|signed)\s+(?:long\s+long|long\s+int|long|int|short|char)"
    rb"|long\s+long|long\s+int|short\s+int|long\s+double)(?=\s*[,)])"
)
_BARE_SIGN_RE = re.compile(rb"\b(?:unsigned|signed)(?=\s*[,)])")
_STMT_KEYWORD_RE = re.compile(rb"\b(?:return|goto|break|continue)\b")
_ANNOT_FAMILY_RE = re.compile(rb"\b__no_[a-z_]+\b(?!\s*\()")
_STATIC_MACRO_RE = re.compile(rb"\bstatic(\s+)[A-Z][A-Z0-9_]*\s*\(")
_TYPEOF_DECL_RE = re.compile(rb"\b(?:typeof|__typeof__|__typeof)\s*\(")
_ALIGNOF_RE = re.compile(rb"\b(?:__alignof__|__alignof|_Alignof|alignof)\b")
_BITMAP_RE = re.compile(rb"\bDECLARE_BITMAP\s*\(\s*[A-Za-z_]\w*\s*(,)")
_CASE_RANGE_RE = re.compile(rb"\bcase\b[^:;{}]*?(\.\.\.)")
_TOP_CALL_RE = re.compile(rb"^[A-Za-z_]\w*\s*\(", re.MULTILINE)
_SYSCALL_RE = re.compile(
    rb"^(?:COMPAT_)?SYSCALL_DEFINE[1-6]\s*(\()\s*[A-Za-z_]\w*\s*(,)", re.MULTILINE
)


# A literal every match of these contains: when it is absent the scan is skipped (most files).
_NEEDLES: dict[re.Pattern[bytes], bytes] = {
    _BARE_SIGN_RE: b"signed", _ANNOT_FAMILY_RE: b"__no_", _TYPEOF_DECL_RE: b"typeof",
    _ALIGNOF_RE: b"lignof", _BITMAP_RE: b"DECLARE_BITMAP", _CASE_RANGE_RE: b"...",
    _SYSCALL_RE: b"SYSCALL_DEFINE",
}


def _finditer(regex: re.Pattern[bytes], buf: bytes) -> Iterator[re.Match[bytes]]:
    needle = _NEEDLES.get(regex)
    if needle is not None and needle not in buf:
        return iter(())
    return regex.finditer(buf)


_BLANK_TABLE = bytes(c if c in (0x0A, 0x0D) else 0x20 for c in range(256))


@dataclass
class Normalized:
    """The normalised bytes and where the statement-level rewrites happened.

    `loops` and `scoped_guards` hold the byte offsets of rewritten statement heads (the start of
    the `while`/`if` keyword, which is also the start of the tree-sitter statement node).
    """

    text: bytes
    loops: list[int] = field(default_factory=list)
    scoped_guards: list[int] = field(default_factory=list)


@dataclass
class _Directive:
    start: int
    end: int
    word: bytes  # if, ifdef, ifndef, elif, else, endif, define, ...


def _mask(src: bytes) -> tuple[bytearray, list[_Directive]]:
    """Copy of `src` with comments, literals and preprocessor lines blanked (newlines kept),
    and the preprocessor lines found on the way."""
    out = bytearray(src)
    directives: list[_Directive] = []
    for m in _MASK_RE.finditer(src):
        start, end = m.span()
        first = src[start:start + 1]
        _blank(out, start, end, src)
        if first in (b'"', b"'"):
            out[start] = 0x30  # a literal stays an expression atom: "0   "
        elif first not in (b"/",):
            word = _DIRECTIVE_RE.match(src, start)
            directives.append(_Directive(start, end, word.group(1) if word else b""))
    return out, directives


def _blank(out: bytearray, start: int, end: int, src: bytes) -> None:
    """Replace out[start:end] by spaces, keeping every newline of src where it is."""
    chunk = src[start:end]
    if b"\n" in chunk or b"\r" in chunk:
        out[start:end] = chunk.translate(_BLANK_TABLE)
    else:
        out[start:end] = b" " * (end - start)


def _match_parens(masked: bytes | bytearray) -> dict[int, int]:
    """Offset of each '(' -> offset of its ')' (unbalanced ones are left out)."""
    close_of: dict[int, int] = {}
    stack: list[int] = []
    for m in _PAREN_RE.finditer(masked):
        pos = m.start()
        if masked[pos] == 0x28:
            stack.append(pos)
        elif stack:
            close_of[stack.pop()] = pos
    return close_of


class _Normalizer:
    def __init__(self, src: bytes) -> None:
        self.src = src
        masked, self.directives = _mask(src)
        self.masked = bytes(masked)
        self.out = bytearray(src)
        self.fixed_groups = 0
        self.close_of = _match_parens(self.masked)
        self.open_of = {c: o for o, c in self.close_of.items()}
        if self.conditional_groups():
            self.close_of = _match_parens(self.masked)
            self.open_of = {c: o for o, c in self.close_of.items()}
        self.loops: list[int] = []
        self.guards: list[int] = []
        self.syscall_heads: list[int] = []
        self.syscall_spans: list[tuple[int, int]] = []

    # --- neighbourhood helpers over the masked view -------------------------------------------
    def prev_sig(self, pos: int) -> int:
        """Offset of the last non-blank byte before pos (-1 if none)."""
        m = self.masked
        i = pos - 1
        while i >= 0:  # in chunks: masked comments make long blank stretches
            if m[i] not in _WS:
                return i
            lo = max(0, i - 255)
            kept = len(m[lo:i + 1].rstrip(_WS))
            if kept:
                return lo + kept - 1
            i = lo - 1
        return -1

    def next_sig(self, pos: int) -> int:
        """Offset of the first non-blank byte at or after pos (len if none)."""
        found = _SIG_RE.search(self.masked, pos)
        return found.start() if found is not None else len(self.masked)

    def word_before(self, end: int) -> bytes:
        """The identifier that ends at offset end (exclusive), or b''."""
        m = self.masked
        i = end
        while i > 0 and (chr(m[i - 1]).isalnum() or m[i - 1] == 0x5F):
            i -= 1
        return m[i:end] if i < end and not chr(m[i]).isdigit() else b""

    def column(self, pos: int) -> int:
        nl = self.masked.rfind(b"\n", 0, pos)
        return pos - nl - 1

    def blank(self, start: int, end: int) -> None:
        _blank(self.out, start, end, self.src)

    # --- conditional compilation inside statements and expressions ---------------------------
    def conditional_groups(self) -> int:
        """Flatten `#if` groups that tree-sitter cannot place (inside an expression or an
        initialiser, between `else`/`if (...)`/a label and its statement, before an `else`):
        the directives are blanked, the first branch is kept and the other branches are blanked
        (as if the first condition held).  Groups that would lose a function body are left."""
        groups: list[list[_Directive]] = []
        stack: list[list[_Directive]] = []
        for d in self.directives:
            if d.word in (b"if", b"ifdef", b"ifndef"):
                stack.append([d])
            elif d.word in (b"elif", b"else", b"elifdef", b"elifndef") and stack:
                stack[-1].append(d)
            elif d.word == b"endif" and stack:
                group = stack.pop()
                group.append(d)
                groups.append(group)
        if not groups:
            return 0
        depth_at = self.paren_depths([d.start for d in self.directives])
        out_masked = bytearray(self.masked)
        done_until = -1
        fixed = 0
        for group in sorted(groups, key=lambda g: g[0].start):
            if group[0].start < done_until:
                continue
            if not any(self.troublesome(d, depth_at.get(d.start, 0)) for d in group):
                continue
            cut_start, cut_end = group[1].start, group[-1].start
            if len(group) > 2 and _FUNCTION_OPEN_RE.search(self.src, cut_start, cut_end):
                continue
            for d in group:
                self.blank(d.start, d.end)
            if len(group) > 2:
                self.blank(cut_start, cut_end)
                _blank(out_masked, cut_start, cut_end, self.src)
            done_until = group[-1].end
            fixed += 1
        self.masked = bytes(out_masked)
        return fixed

    def paren_depths(self, offsets: list[int]) -> dict[int, int]:
        """Open-parenthesis depth at each offset (offsets sorted)."""
        depths: dict[int, int] = {}
        events = _PAREN_RE.finditer(self.masked)
        depth = 0
        nxt = next(events, None)
        for off in offsets:
            while nxt is not None and nxt.start() < off:
                depth = depth + 1 if nxt.group() == b"(" else max(0, depth - 1)
                nxt = next(events, None)
            depths[off] = depth
        return depths

    def troublesome(self, d: _Directive, paren_depth: int) -> bool:
        if d.word not in _CONDITIONALS:
            return False
        if paren_depth > 0:
            return True
        p = self.prev_sig(d.start)
        if p < 0:
            return False
        c = self.masked[p]
        if c in b";{}":
            n = self.next_sig(d.end)
            return self.masked[n:n + 4] == b"else" and not _is_word_byte(self.masked, n + 4)
        if c == 0x29:  # ')'
            opener = self.open_of.get(p)
            if opener is None:
                return True
            line_start = self.masked.rfind(b"\n", 0, opener) + 1
            return self.masked[line_start] in _WS  # a column-0 line is a function header
        if c == 0x3A:  # ':' of a label (a case label is fine)
            return self.is_label_colon(p)
        return True

    def is_label_colon(self, colon: int) -> bool:
        w_end = self.prev_sig(colon) + 1
        word = self.word_before(w_end)
        if not word or word == b"default":
            return False
        before = self.prev_sig(w_end - len(word))
        return before < 0 or self.masked[before] in b";{}:"

    # --- rewrites ------------------------------------------------------------------------------
    def annotations(self) -> None:
        spans: list[tuple[int, int]] = []
        for regex in (_ANNOT_RE, _ANNOT_FAMILY_RE):
            spans.extend(m.span() for m in _finditer(regex, self.masked))
        for m in _ANNOT_ARGS_RE.finditer(self.masked):
            close = self.close_of.get(m.end() - 1)
            if close is not None:
                spans.append((m.start(), close + 1))
        if not spans:
            return
        masked = bytearray(self.masked)
        for start, end in spans:
            self.blank(start, end)
            _blank(masked, start, end, self.masked)
        self.masked = bytes(masked)

    def at_statement_head(self, pos: int) -> bool:
        """Whether the identifier at pos starts a statement inside a function body."""
        if self.column(pos) == 0:
            return False  # kernel style: column 0 is file scope
        p = self.prev_sig(pos)
        if p < 0:
            return False
        c = self.masked[p]
        if c in b";{}:":
            return not (c == 0x3A and self.masked[p - 1:p] == b":")
        if c == 0x29:  # ')': the head of an if/for/while/iterator/guard
            opener = self.open_of.get(p)
            if opener is None:
                return False
            word = self.word_before(self.prev_sig(opener) + 1)
            return word in (b"if", b"while", b"for") or self.is_iterator(word) \
                or word in _SCOPED
        word = self.word_before(p + 1)
        return word in (b"else", b"do")

    @staticmethod
    def is_iterator(word: bytes) -> bool:
        return b"for_each" in word or b"foreach" in word or word in _EXTRA

    def statement_macros(self) -> None:
        masked = self.masked
        for m in _HEAD_RE.finditer(masked):
            word = m.group()
            if word in C_KEYWORDS:
                continue
            start = m.start()
            open_pos = self.next_sig(m.end())
            close = self.close_of.get(open_pos)
            if close is None:
                continue
            is_guard = word in _SCOPED
            is_iter = self.is_iterator(word)
            after = self.next_sig(close + 1)
            nxt = masked[after:after + 1]
            if not (is_guard or is_iter) and nxt != b"{":
                continue
            if nxt in (b";", b")", b",", b"") or masked[after:after + 2] in (b"->", b"=="):
                continue
            if nxt in b"=.[?|&^<>!%/" and nxt != b"":
                continue
            if self.next_sig(open_pos + 1) == close:
                continue  # `name() {` has nothing to put in a condition
            if not self.at_statement_head(start):
                continue
            keyword = b"if" if is_guard else b"while"
            if len(word) < len(keyword):
                continue
            self.out[start:m.end()] = keyword + b" " * (len(word) - len(keyword))
            if is_guard:
                self.guards.append(start)
                self.blank_statement_keywords(open_pos, close)
            else:
                self.loops.append(start)

    def blank_statement_keywords(self, open_pos: int, close: int) -> None:
        """`scoped_cond_guard(m, return -EINTR, &l)`: the fail action must read as an expression."""
        for m in _STMT_KEYWORD_RE.finditer(self.masked, open_pos, close):
            self.blank(*m.span())

    def syscalls(self) -> None:
        """`SYSCALL_DEFINE2(name, t1, a1, t2, a2) {` -> `long ... name(t1  a1, t2  a2) {`."""
        for m in _finditer(_SYSCALL_RE, self.masked):
            open_pos, comma = m.start(1), m.start(2)
            close = self.close_of.get(open_pos)
            if close is None:
                continue
            head = open_pos - m.start()
            self.out[m.start():open_pos + 1] = b"long" + b" " * (head - 3)
            self.out[comma] = 0x28
            depth, separators = 0, []
            for i in range(comma + 1, close):
                c = self.masked[i]
                if c == 0x28:
                    depth += 1
                elif c == 0x29:
                    depth -= 1
                elif c == 0x2C and depth == 0:
                    separators.append(i)
            for i in separators[0::2]:
                self.out[i] = 0x20
            self.syscall_heads.append(m.start())
            self.syscall_spans.append((open_pos, close))

    def small_idioms(self) -> None:
        """Declarations and expressions that only need a keyword swapped or dropped."""
        m_ = self.masked
        for m in _STATIC_MACRO_RE.finditer(m_):
            # `static DEFINE_RATELIMIT_STATE(rs, ...);` in a body: a call statement
            close = self.close_of.get(m.end() - 1)
            if close is not None and self.column(m.start()) > 0 \
                    and m_[self.next_sig(close + 1):][:1] == b";":
                self.blank(m.start(), m.start() + 6)
        for m in _finditer(_TYPEOF_DECL_RE, m_):
            # `typeof(x.y) name;` as a declaration: the type becomes `int`
            close = self.close_of.get(m.end() - 1)
            p = self.prev_sig(m.start())
            if close is None or (p >= 0 and m_[p] not in b";{}"):
                continue
            n = self.next_sig(close + 1)
            if _is_word_byte(m_, n) or m_[n:n + 1] == b"*":
                self.blank(m.start(), close + 1)
                self.out[m.start():m.start() + 3] = b"int"
        for m in _finditer(_ALIGNOF_RE, m_):
            # alignof of an expression does not parse; sizeof takes both
            self.out[m.start():m.end()] = b"sizeof".ljust(m.end() - m.start())
        for m in _finditer(_BITMAP_RE, m_):
            # `DECLARE_BITMAP(map, N)` -> `long map[N]`
            open_pos = self.next_sig(m.start() + len(b"DECLARE_BITMAP"))
            close = self.close_of.get(open_pos)
            if close is None:
                continue
            self.out[m.start():open_pos + 1] = b"long".ljust(open_pos + 1 - m.start())
            self.out[m.start(1)] = 0x5B
            self.out[close] = 0x5D
        for m in _finditer(_CASE_RANGE_RE, m_):
            # GNU `case A ... B:` -> `case A  |  B:`
            self.out[m.start(1):m.end(1)] = b" | "
        for m in _TOP_CALL_RE.finditer(m_):
            # `postcore_initcall(fn)` at file scope without a ';': blanked
            close = self.close_of.get(m.end() - 1)
            if close is None or m.group().startswith((b"SYSCALL_DEFINE", b"COMPAT_SYSCALL")):
                continue
            eol = m_.find(b"\n", close)
            if eol < 0 or m_[close + 1:eol].strip():
                continue
            n = self.next_sig(eol)
            p = self.prev_sig(m.start())
            if n < len(m_) and m_[n] in b"{;,=" or (p >= 0 and m_[p] not in b";}"):
                continue
            self.blank(m.start(), close + 1)

    def enclosing_callee(self, pos: int) -> bytes | None:
        """The identifier in front of the '(' that encloses pos, if that '(' opens a call."""
        m = self.masked
        depth = 0
        i = pos - 1
        limit = max(0, pos - 4000)
        while i >= limit:
            c = m[i]
            if c == 0x29:
                depth += 1
            elif c == 0x28:
                if depth == 0:
                    word = self.word_before(self.prev_sig(i) + 1)
                    return word or None
                depth -= 1
            elif c in b";{}":
                return None
            i -= 1
        return None

    def type_arguments(self) -> None:
        masked = self.masked
        for regex in (_TAG_ARG_RE, _MULTIWORD_ARG_RE, _BARE_SIGN_RE):
            for m in _finditer(regex, masked):
                start = m.start()
                p = self.prev_sig(start)
                if p < 0 or masked[p] not in b"(,":
                    continue
                if any(a < start < b for a, b in self.syscall_spans):
                    continue
                callee = self.enclosing_callee(start)
                if callee is None or callee in TYPE_OPERATORS or callee in C_KEYWORDS:
                    continue
                self.rewrite_type(regex, m)

    def rewrite_type(self, regex: re.Pattern[bytes], m: re.Match[bytes]) -> None:
        start, end = m.span()
        if regex is _BARE_SIGN_RE:
            self.out[start:end] = b"int" + b" " * (end - start - 3)
            return
        words = list(_IDENT_RE.finditer(self.masked, start, end))
        if regex is _TAG_ARG_RE:
            self.blank(words[0].start(), words[0].end())
            stars = m.span(1)
            for i in range(*stars):
                if self.src[i] == 0x2A:
                    self.out[i] = 0x20
            return
        for w in words[:-1]:
            self.blank(*w.span())


_CONDITIONALS = frozenset({b"if", b"ifdef", b"ifndef", b"elif", b"else", b"endif",
                           b"elifdef", b"elifndef"})
_FUNCTION_OPEN_RE = re.compile(rb"^\{", re.MULTILINE)


def _is_word_byte(buf: bytes, i: int) -> bool:
    return i < len(buf) and (chr(buf[i]).isalnum() or buf[i] == 0x5F)


_SCOPED = frozenset(n.encode() for n in SCOPED_GUARDS)
_EXTRA = frozenset(n.encode() for n in EXTRA_ITERATORS)


def normalize_with_sites(src: bytes) -> Normalized:
    """Normalise `src` and report the offsets of rewritten loops and scoped guards."""
    n = _Normalizer(src)
    n.annotations()
    n.statement_macros()
    n.syscalls()
    n.type_arguments()
    n.small_idioms()
    out = bytes(n.out)
    assert len(out) == len(src)
    return Normalized(out, sorted(n.loops), sorted(n.guards))


def normalize(src: bytes) -> bytes:
    """Kernel C in, the same bytes with the idioms tree-sitter-c cannot read rewritten in place."""
    return normalize_with_sites(src).text


def scoped_guard_sites(src: bytes) -> list[int]:
    """Byte offsets of `scoped_guard`/`scoped_cond_guard` statements that became `if`."""
    return normalize_with_sites(src).scoped_guards

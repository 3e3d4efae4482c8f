"""Parsing kernel C with tree-sitter-c (the C stage, `reviewer.c`, after `normalize`).

`parse_c(src)` normalises the bytes (`reviewer.c.normalize`) and parses them; the resulting
`ParsedFile` keeps both the user's bytes and the normalised ones.  Positions are shared (the
normalisation preserves every offset), so node text is always read from the ORIGINAL bytes.
`parse_cached(ident, src)` keeps the last parses in a bounded LRU so one blob is parsed once per
run.  `functions(parsed)` lists the function definitions anywhere in the tree (also inside
`#ifdef` blocks), with name, parameters, return type and whether the parse of that function is
clean.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

import tree_sitter

from reviewer.c.grammar import language_pointer
from reviewer.c.normalize import Normalized, normalize_with_sites

PARSER_LANGUAGE = tree_sitter.Language(language_pointer())
CACHE_SIZE = 256

Node = tree_sitter.Node

_WORD_RE = re.compile(rb"[A-Za-z_]\w*")
_SPACES_RE = re.compile(r"\s+")
_SYSCALL_HEAD_RE = re.compile(rb"(COMPAT_)?SYSCALL_DEFINE\d")


@dataclass
class ParsedFile:
    """One C file: original bytes, normalised bytes and the tree of the normalised bytes."""

    src: bytes
    normalized: bytes
    tree: tree_sitter.Tree
    loops: list[int] = field(default_factory=list)
    scoped_guards: list[int] = field(default_factory=list)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, node: Node) -> str:
        """The node's source text as the user wrote it."""
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def line(self, node: Node) -> int:
        """1-based line where the node starts."""
        return node.start_point[0] + 1

    def end_line(self, node: Node) -> int:
        """1-based line where the node ends."""
        return node.end_point[0] + 1

    def head_word(self, node: Node) -> str:
        """The identifier the user wrote at the node's start (e.g. `list_for_each_entry` for a
        while_statement made from an iterator macro, `scoped_guard` for an if_statement made from
        a guard, `while`/`if` for real ones); '' if the node does not start with a word."""
        m = _WORD_RE.match(self.src, node.start_byte)
        return m.group().decode() if m else ""

    def is_macro_loop(self, node: Node) -> bool:
        """A while_statement that the user wrote as an iterator macro."""
        return node.type == "while_statement" and node.start_byte in self._loop_set

    def is_scoped_guard(self, node: Node) -> bool:
        """An if_statement that the user wrote as `scoped_guard(...)`/`scoped_cond_guard(...)`."""
        return node.type == "if_statement" and node.start_byte in self._guard_set

    def __post_init__(self) -> None:
        self._loop_set = frozenset(self.loops)
        self._guard_set = frozenset(self.scoped_guards)


@dataclass
class FunctionDef:
    """A function definition found in a parsed file."""

    name: str
    node: Node
    body: Node
    start_line: int
    end_line: int
    params: list[tuple[str, str]]
    return_type: str
    is_static: bool
    has_error: bool


def parse_c(src: bytes) -> ParsedFile:
    """Normalise and parse one C file."""
    norm: Normalized = normalize_with_sites(src)
    parser = tree_sitter.Parser(PARSER_LANGUAGE)
    tree = parser.parse(norm.text)
    return ParsedFile(src, norm.text, tree, norm.loops, norm.scoped_guards)


_cache: OrderedDict[str, ParsedFile] = OrderedDict()


def parse_cached(ident: str, src: bytes) -> ParsedFile:
    """`parse_c` with an LRU of CACHE_SIZE entries keyed by `ident` (e.g. a blob id).

    An entry whose bytes differ from `src` is parsed again, so a reused ident is never stale.
    """
    hit = _cache.get(ident)
    if hit is not None and (hit.src is src or hit.src == src):
        _cache.move_to_end(ident)
        return hit
    parsed = parse_c(src)
    _cache[ident] = parsed
    _cache.move_to_end(ident)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return parsed


def clear_cache() -> None:
    _cache.clear()


def cache_size() -> int:
    return len(_cache)


_COMMENTS = tree_sitter.Query(PARSER_LANGUAGE, "(comment) @c")


def comment_nodes(node: Node) -> list[Node]:
    """Every comment inside `node` (a C-level query, cheap on large functions)."""
    return tree_sitter.QueryCursor(_COMMENTS).captures(node).get("c", [])


def functions(parsed: ParsedFile) -> list[FunctionDef]:
    """Every named function definition in the file, in source order."""
    return functions_in_tree(parsed.root, parsed.src)


def functions_in_tree(root: Node, src: bytes) -> list[FunctionDef]:
    """Function definitions under `root`; text is read from `src` (the original bytes)."""
    found: list[FunctionDef] = []
    for node in _definitions(root):
        fn = _function(node, src)
        if fn is not None:
            found.append(fn)
    return found


def _definitions(root: Node) -> Iterator[Node]:
    """function_definition nodes anywhere (not inside the body of another definition)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            yield node
            if _declared_name(node) is not None:
                continue
        stack.extend(reversed(node.children))


def _declared_name(fn_node: Node) -> tuple[Node, Node, int] | None:
    """(name identifier, function_declarator, pointer depth) of a definition, or None."""
    decl = fn_node.child_by_field_name("declarator")
    stars = 0
    while decl is not None:
        if decl.type == "function_declarator":
            inner = decl.child_by_field_name("declarator")
            if inner is not None and inner.type == "identifier":
                return inner, decl, stars
            decl = inner
            continue
        if decl.type == "pointer_declarator":
            stars += 1
        if decl.type in ("pointer_declarator", "attributed_declarator"):
            decl = decl.child_by_field_name("declarator") or (
                decl.named_children[-1] if decl.named_children else None)
        elif decl.type == "parenthesized_declarator":
            decl = decl.named_children[0] if decl.named_children else None
        else:
            return None
    return None


def _text(src: bytes, node: Node) -> str:
    return src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _function(node: Node, src: bytes) -> FunctionDef | None:
    named = _declared_name(node)
    body = node.child_by_field_name("body")
    if named is None or body is None:
        return None
    ident, declarator, stars = named
    name = _text(src, ident)
    head = _SYSCALL_HEAD_RE.match(src, node.start_byte)
    if head is not None:
        name = ("compat_sys_" if head.group(1) else "sys_") + name
    is_static = False
    type_parts: list[str] = []
    for child in node.children:
        if child.type == "storage_class_specifier" and _text(src, child) == "static":
            is_static = True
        elif child.type == "type_qualifier":
            type_parts.append(_text(src, child))
    type_node = node.child_by_field_name("type")
    if head is not None:
        type_parts.append("long")
    elif type_node is not None:
        type_parts.append(_text(src, type_node))
    return_type = " ".join(type_parts) + (" " + "*" * stars if stars else "")
    return FunctionDef(
        name=name,
        node=node,
        body=body,
        start_line=node.start_point[0] + 1,
        end_line=node.end_point[0] + 1,
        params=_params(declarator, src, syscall=head is not None),
        return_type=return_type,
        is_static=is_static,
        has_error=node.has_error,
    )


def _params(declarator: Node, src: bytes, syscall: bool = False) -> list[tuple[str, str]]:
    plist = declarator.child_by_field_name("parameters")
    if plist is None:
        return []
    out: list[tuple[str, str]] = []
    for p in plist.named_children:
        if p.type == "variadic_parameter":
            out.append(("...", ""))
            continue
        if p.type not in ("parameter_declaration", "identifier"):
            continue
        ident = _param_ident(p)
        if ident is None:
            out.append((_tidy(_text(src, p)), ""))
            continue
        text = src[p.start_byte:ident.start_byte] + src[ident.end_byte:p.end_byte]
        if syscall:  # `SYSCALL_DEFINEn(name, type, arg, ...)`: the comma between type and arg
            text = text.replace(b",", b" ")
        out.append((_tidy(text.decode("utf-8", "replace")), _text(src, ident)))
    return out


def _param_ident(p: Node) -> Node | None:
    if p.type == "identifier":
        return p
    decl = p.child_by_field_name("declarator")
    while decl is not None:
        if decl.type == "identifier":
            return decl
        nxt = decl.child_by_field_name("declarator")
        if nxt is None and decl.type == "parenthesized_declarator" and decl.named_children:
            nxt = decl.named_children[0]
        decl = nxt
    return None


def _tidy(text: str) -> str:
    """'struct mm_struct  *' -> 'struct mm_struct *'; '(* )' -> '(*)'."""
    text = _SPACES_RE.sub(" ", text).strip()
    return text.replace("( ", "(").replace(" )", ")").replace("* *", "**")

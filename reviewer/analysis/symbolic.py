"""Symbolic values of C expressions along one path.

Flow position: understanding (used by the path walker).  An expression is turned into a canonical
string in which every variable is replaced by the value it holds on the current path: after
`addr = vma->vm_start;` the expression `addr` reads `vma->vm_start`, so a range started with
`addr` and ended with `vma->vm_start` is the same range.  Assignments that are not plain copies
(`x += PAGE_SIZE`, `x = f()`, `x++`) give the variable a fresh symbol named after the assignment
site (`x@L42`), so a loop that advances `start` makes it a different value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tree_sitter import Node

PURE_BINARY_OPS = frozenset({"+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"})
TRANSPARENT = frozenset({"parenthesized_expression", "cast_expression"})


def strip_parens(node: Node) -> Node:
    while node.type in TRANSPARENT:
        inner = node.child_by_field_name("value") if node.type == "cast_expression" else None
        if inner is None:
            named = node.named_children
            inner = named[-1] if named else None
        if inner is None:
            break
        node = inner
    return node


def callee_name(call: Node, text: Callable[[Node], str]) -> str:
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    fn = strip_parens(fn)
    if fn.type == "identifier":
        return text(fn)
    if fn.type == "call_expression":  # guard(mutex)(&lock)
        return callee_name(fn, text)
    return "".join(text(fn).split())


def call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [a for a in args.named_children if a.type != "comment"]


def lvalue_key(node: Node, text: Callable[[Node], str], env: Mapping[str, str]) -> str | None:
    """The env key an assignment target writes: `x`, `range.start`, `<canon(p)>->mm`."""
    node = strip_parens(node)
    if node.type == "identifier":
        return text(node)
    if node.type == "field_expression":
        base = node.child_by_field_name("argument")
        fld = node.child_by_field_name("field")
        op = node.child_by_field_name("operator")
        if base is None or fld is None:
            return None
        optext = text(op) if op is not None else ("->" if "->" in text(node) else ".")
        sbase = strip_parens(base)
        if optext == "." and sbase.type == "identifier":
            base_key = text(sbase)  # a struct variable is storage: its name is its identity
        else:
            base_key = canon(base, text, env)
        return f"{base_key}{optext}{text(fld)}"
    if node.type == "pointer_expression" and text(node).startswith("*"):
        inner = node.child_by_field_name("argument")
        return "*" + canon(inner, text, env) if inner is not None else None
    if node.type == "subscript_expression":
        return None
    return None


def canon(
    node: Node | None,
    text: Callable[[Node], str],
    env: Mapping[str, str],
    overrides: Mapping[int, str] | None = None,
) -> str:
    """Canonical text of `node` with the path's values substituted."""
    if node is None:
        return ""
    if overrides and node.id in overrides:
        return overrides[node.id]
    t = node.type
    if t in TRANSPARENT:
        return canon(strip_parens(node), text, env, overrides) if strip_parens(node) is not node \
            else "".join(text(node).split())
    if t == "identifier":
        name = text(node)
        return env.get(name, name)
    if t == "field_expression":
        key = lvalue_key(node, text, env)
        if key is not None and key in env:
            return env[key]
        if key is not None:
            return key
    if t == "pointer_expression":
        inner = node.child_by_field_name("argument")
        op = text(node)[:1]
        if inner is not None:
            inner = strip_parens(inner)
            if op == "&" and inner.type == "identifier":
                return "&" + text(inner)  # the address of a variable never changes
            key = "*" + canon(inner, text, env, overrides) if op == "*" else None
            if key is not None and key in env:
                return env[key]
            return op + canon(inner, text, env, overrides)
    if t == "call_expression":
        fn = node.child_by_field_name("function")
        args = call_args(node)
        name = "".join(text(fn).split()) if fn is not None else "?"
        return f"{name}(" + ",".join(canon(a, text, env, overrides) for a in args) + ")"
    if t == "binary_expression":
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        op = node.child_by_field_name("operator")
        return (
            canon(left, text, env, overrides)
            + (text(op) if op is not None else "?")
            + canon(right, text, env, overrides)
        )
    if t == "unary_expression":
        arg = node.child_by_field_name("argument")
        op = node.child_by_field_name("operator")
        return (text(op) if op is not None else "") + canon(arg, text, env, overrides)
    if t == "subscript_expression":
        arr = node.child_by_field_name("argument")
        idx = node.child_by_field_name("index")
        if arr is None:
            named = node.named_children
            arr = named[0] if named else None
            idx = named[1] if len(named) > 1 else None
        return canon(arr, text, env, overrides) + "[" + canon(idx, text, env, overrides) + "]"
    if t == "null" or (t == "identifier" and text(node) == "NULL"):
        return "NULL"
    return "".join(text(node).split())


def is_pure(node: Node) -> bool:
    """True when evaluating `node` has no side effects and calls nothing."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in ("call_expression", "assignment_expression", "update_expression",
                      "compound_statement", "comma_expression"):
            return False
        stack.extend(n.named_children)
    return True


def root_of(key: str) -> str:
    """The base variable a resource key hangs from: `&hmm->kref` -> `hmm`."""
    k = key.lstrip("&*(")
    for sep in ("->", ".", "[", "(", ","):
        pos = k.find(sep)
        if pos > 0:
            k = k[:pos]
    return k

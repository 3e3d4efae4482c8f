"""The view of one function that rules receive.

Flow position: understanding -> judgement.  A FunctionUnit bundles a function's AST, its CFG,
the file-level facts (ops tables, the file's other functions and their summaries) and the line
offset of the image piece it came from, so that rules never touch git, email or images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from reviewer.c.cfg import Cfg

if TYPE_CHECKING:
    from reviewer.c.facts import FileFacts


@dataclass
class FunctionUnit:
    name: str
    node: Node
    body: Node
    params: list[tuple[str, str]]  # (type text, name)
    return_type: str
    is_static: bool
    text: Callable[[Node], str]
    cfg: Cfg
    path: str
    facts: FileFacts
    line_base: int = 0  # added to tree line numbers: image pieces that start mid-file
    _locals: set[str] | None = field(default=None, repr=False)
    _types: dict[str, str] | None = field(default=None, repr=False)

    @property
    def start_line(self) -> int:
        return self.node.start_point[0] + 1 + self.line_base

    @property
    def end_line(self) -> int:
        return self.node.end_point[0] + 1 + self.line_base

    def param_names(self) -> list[str]:
        return [n for _, n in self.params]

    def param_type(self, name: str) -> str | None:
        for t, n in self.params:
            if n == name:
                return t
        return None

    def local_names(self) -> set[str]:
        """Parameters and variables declared in the body (a `static` local outlives the call,
        like a global, and is not one of them)."""
        if self._locals is None:
            names = set(self.param_names())
            stack = [self.body]
            while stack:
                n = stack.pop()
                if n.type == "declaration" and not any(
                    c.type == "storage_class_specifier" and self.text(c) == "static"
                    for c in n.children
                ):
                    for d in n.named_children:
                        ident = _declared_ident(d)
                        if ident is not None:
                            names.add(self.text(ident))
                stack.extend(n.named_children)
            self._locals = names
        return self._locals

    def local_type(self, name: str) -> str | None:
        """The declared type of a parameter or local variable, as written."""
        t = self.param_type(name)
        if t is not None:
            return t
        if self._types is None:  # one walk of the body for all names (rules ask often)
            types: dict[str, str] = {}
            stack = [self.body]
            while stack:
                n = stack.pop()
                if n.type == "declaration":
                    ty = n.child_by_field_name("type")
                    for d in n.named_children:
                        ident = _declared_ident(d)
                        if ident is not None and ty is not None:
                            stars = "*" * self.text(d).split("=")[0].count("*")
                            types.setdefault(self.text(ident),
                                             f"{' '.join(self.text(ty).split())} {stars}".strip())
                stack.extend(n.named_children)
            self._types = types
        return self._types.get(name)


def _declared_ident(d: Node) -> Node | None:
    while d is not None and d.type in ("init_declarator", "pointer_declarator", "array_declarator",
                                       "parenthesized_declarator", "attributed_declarator"):
        d = d.child_by_field_name("declarator")
    if d is not None and d.type == "identifier":
        return d
    return None


TextFn = Callable[[Node], str]

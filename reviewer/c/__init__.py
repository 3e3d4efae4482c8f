"""Kernel C understanding (stage `c` of the flow): normalisation, parsing, functions.

`normalize` rewrites kernel idioms in place (offsets preserved) so tree-sitter-c gives clean trees;
`parse` parses (with a per-run cache) and lists function definitions.  Control-flow graphs and
per-file facts build on `ParsedFile` and `FunctionDef`.
"""

from __future__ import annotations

from reviewer.c.normalize import Normalized, normalize, normalize_with_sites, scoped_guard_sites
from reviewer.c.parse import (
    FunctionDef,
    ParsedFile,
    functions,
    functions_in_tree,
    parse_c,
    parse_cached,
)

__all__ = [
    "FunctionDef",
    "Normalized",
    "ParsedFile",
    "functions",
    "functions_in_tree",
    "normalize",
    "normalize_with_sites",
    "parse_c",
    "parse_cached",
    "scoped_guard_sites",
]

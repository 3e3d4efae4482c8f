"""The C grammar is loaded without tree_sitter_c's package __init__ (issue 8, start-up time).

`reviewer.c.grammar` loads the compiled grammar on its own; it must be the very grammar the
package gives, a later `import tree_sitter_c` must still work and share it, and any surprise in
the package's layout must fall back to the plain import.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.machinery import PathFinder

import pytest
import tree_sitter

from reviewer.c import grammar

PROBE = """\
import sys
from reviewer.c.parse import PARSER_LANGUAGE, parse_c
assert "tree_sitter_c" not in sys.modules, "the package __init__ ran"
parsed = parse_c(b"int f(void) { return 0; }\\n")
assert not parsed.root.has_error
import tree_sitter, tree_sitter_c
plain = tree_sitter.Language(tree_sitter_c.language())
assert plain.node_kind_count == PARSER_LANGUAGE.node_kind_count
assert plain.abi_version == PARSER_LANGUAGE.abi_version
assert sys.modules["tree_sitter_c._binding"].language is tree_sitter_c.language
print("ok")
"""


def test_the_grammar_loaded_alone_is_the_package_grammar() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_an_unexpected_layout_falls_back_to_the_plain_import(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, grammar.BINDING, raising=False)
    monkeypatch.delitem(sys.modules, grammar.GRAMMAR_PACKAGE, raising=False)
    class NoSpec(PathFinder):
        @classmethod
        def find_spec(cls, *args: object, **kwargs: object) -> None:
            return None

    monkeypatch.setattr(grammar, "PathFinder", NoSpec)
    assert grammar._binding_alone() is None
    pointer = grammar.language_pointer()  # through `import tree_sitter_c`
    assert tree_sitter.Language(pointer).node_kind_count > 100

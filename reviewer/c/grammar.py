"""The tree-sitter C grammar, loaded without the grammar package's start-up cost.

Flow position: C understanding, before `parse`.  `tree_sitter_c/__init__.py` imports
`importlib.resources` (and through it pathlib, tempfile, shutil, lzma, bz2, random) to offer its
highlight and tag queries, which this tool never reads: about 12 ms of every process, and b4
starts one process per patch.  The compiled grammar is a plain extension module beside that
`__init__`, so it is found and loaded on its own here, with the import system's public finder
and loader, and entered in `sys.modules` under its own name: a later `import tree_sitter_c`
reuses it.  When the package is laid out any other way, the plain import is used.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder
from types import ModuleType

GRAMMAR_PACKAGE = "tree_sitter_c"
BINDING = f"{GRAMMAR_PACKAGE}._binding"


def _binding_alone() -> ModuleType | None:
    """The grammar's extension module, loaded without running its package's `__init__`."""
    loaded = sys.modules.get(BINDING)
    if loaded is not None:
        return loaded
    package = PathFinder.find_spec(GRAMMAR_PACKAGE)
    if package is None or not package.submodule_search_locations:
        return None
    spec = PathFinder.find_spec(BINDING, list(package.submodule_search_locations))
    if spec is None or spec.loader is None or not hasattr(spec.loader, "create_module"):
        return None
    module = spec.loader.create_module(spec)
    if module is None:
        return None
    module.__spec__ = spec
    spec.loader.exec_module(module)
    sys.modules[BINDING] = module
    return module


def language_pointer() -> object:
    """What `tree_sitter_c.language()` returns: the grammar, for `tree_sitter.Language`."""
    if GRAMMAR_PACKAGE not in sys.modules:
        try:
            binding = _binding_alone()
        except (ImportError, OSError):
            binding = None
        if binding is not None and hasattr(binding, "language"):
            return binding.language()
    import tree_sitter_c

    return tree_sitter_c.language()

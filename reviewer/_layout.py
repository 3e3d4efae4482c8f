"""Makes a source checkout look like the installed wheel.

The design card puts `rules/` and `templates/` at the top of the repository, while the wheel ships
them as `reviewer/rules` and `reviewer/templates` (a top-level import named `rules` would collide
in users' environments).  When `reviewer` is imported from a checkout, this registers the
top-level `rules/` folder as the package `reviewer.rules`, so code and tests see one layout.
Only `os.path` is used here: this runs at every start-up, and b4 starts one process per patch.
"""

from __future__ import annotations

import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _find(name: str) -> str:
    inside = os.path.join(PACKAGE_DIR, name)
    if os.path.isdir(inside):
        return inside
    return os.path.join(os.path.dirname(PACKAGE_DIR), name)


def templates_dir() -> str:
    """Where the shipped jinja2 templates are, installed or in a checkout."""
    return _find("templates")


def rules_dir() -> str:
    """Where the shipped rule families and knowledge tables are, installed or in a checkout."""
    return _find("rules")


def alias_source_checkout() -> None:
    if "reviewer.rules" in sys.modules or os.path.isdir(os.path.join(PACKAGE_DIR, "rules")):
        return
    rules = os.path.join(os.path.dirname(PACKAGE_DIR), "rules")
    init = os.path.join(rules, "__init__.py")
    if not os.path.isfile(init):
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "reviewer.rules", init, submodule_search_locations=[rules]
    )
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["reviewer.rules"] = module
    spec.loader.exec_module(module)
    parent = sys.modules.get("reviewer")
    if parent is not None:
        parent.rules = module  # type: ignore[attr-defined]

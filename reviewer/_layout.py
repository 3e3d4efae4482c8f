"""Makes a source checkout look like the installed wheel.

The design card puts `rules/` and `templates/` at the top of the repository, while the wheel ships
them as `reviewer/rules` and `reviewer/templates` (a top-level import named `rules` would collide
in users' environments).  When `reviewer` is imported from a checkout, this registers the
top-level `rules/` folder as the package `reviewer.rules`, so code and tests see one layout.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _checkout_dir(name: str) -> Path | None:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return None
    beside = PACKAGE_DIR.parent / name
    return beside if beside.is_dir() else None


def templates_dir() -> Path:
    """Where the shipped jinja2 templates are, installed or in a checkout."""
    inside = PACKAGE_DIR / "templates"
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / "templates"


def rules_dir() -> Path:
    inside = PACKAGE_DIR / "rules"
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / "rules"


def alias_source_checkout() -> None:
    if "reviewer.rules" in sys.modules:
        return
    rules = _checkout_dir("rules")
    if rules is None or not (rules / "__init__.py").is_file():
        return
    spec = importlib.util.spec_from_file_location(
        "reviewer.rules", rules / "__init__.py", submodule_search_locations=[str(rules)]
    )
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["reviewer.rules"] = module
    spec.loader.exec_module(module)
    parent = sys.modules.get("reviewer")
    if parent is not None:
        parent.rules = module  # type: ignore[attr-defined]

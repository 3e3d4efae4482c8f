"""Loads the rule families named in `reviewer.rules.FAMILY_MODULES`.

Flow position: judgement.  Each family module exposes `FAMILY`, a RuleFamily instance.
"""

from __future__ import annotations

import importlib

from reviewer.engine.rule import RuleFamily, RuleInfo


def families() -> list[RuleFamily]:
    import reviewer.rules as rules_pkg

    out = []
    for name in rules_pkg.FAMILY_MODULES:
        mod = importlib.import_module(f"reviewer.rules.{name}")
        out.append(mod.FAMILY)
    return out


def all_rules() -> list[RuleInfo]:
    return [r for fam in families() for r in fam.rules]


def find_rule(rule_id: str) -> RuleInfo | None:
    for r in all_rules():
        if r.id == rule_id:
            return r
    return None

"""Symbolic values back in the user's words, for messages.

Flow position: judgement -> voices.  The walker names values after the call or assignment that
made them (`hmm_get@L236c20`); a message should say `hmm`.  `in_words(key, st)` replaces each
such symbol by the variable that holds it on the path, or by "the result of f()".
"""

from __future__ import annotations

import re

from reviewer.analysis.state import State

SYMBOL = re.compile(r"(\w+)@(L\d+(c\d+)?|decl)")
WHOLE_SYMBOL = re.compile(r"\w+@(L\d+(c\d+)?|decl|join)")


def in_words(key: str, st: State) -> str:
    names: dict[str, str] = {}
    for var, val in st.env:
        # only plain symbols: an expression held by a variable (an address, a sum) is shown
        # as written, not as the variable's name
        if WHOLE_SYMBOL.fullmatch(val) and not any(s in var for s in ("->", ".", "[")):
            names.setdefault(val, var)
    out = key
    for sym, var in sorted(names.items(), key=lambda kv: -len(kv[0])):
        out = out.replace(sym, var)
    return SYMBOL.sub(lambda m: f"the result of {m.group(1)}()", out)

"""Rule families of notifier-review, shipped as the package `reviewer.rules`.

Flow position: judgement.  Each family is one module here (a docstring with the kernel reason,
an anti-pattern and the correct idiom) and the kernel API knowledge it needs lives in the TOML
tables beside it (`api.toml`, ...), which users extend with `--table FILE` without writing Python.
`reviewer.engine.registry` imports the family modules listed in FAMILY_MODULES.
"""

FAMILY_MODULES: tuple[str, ...] = (
    "bracketing", "atomic_sleep", "thp_range", "refcount", "null_check",
)

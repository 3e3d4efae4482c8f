"""Start-up: keeps the code `dataclasses` generates, so that a new process need not compile it.

Flow position: before every stage.  `reviewer.cli.main` installs it before it imports anything
that defines a dataclass, and saves it when a command has run without error.  b4 starts one
process per patch, and on Python 3.11 and 3.12 the stdlib `dataclasses` compiles the source
text of every method it generates (`__init__`, `__repr__`, `__eq__`, ...), one `compile` per
method: about 190 of them for the classes a review of one patch needs, 12 to 15 ms of the 120
to 150 ms such a run took here.  `install()` gives the `dataclasses` module an `exec` that
compiles each distinct text once and keeps the code objects between runs in a marshal file
beside the knowledge cache (`$XDG_CACHE_HOME/notifier-review`, else `~/.cache/notifier-review`).
The functions are the very code `dataclasses` would have made: the same text, compiled without
inherited `__future__` flags, run in the same namespaces.  The file names the interpreter that
wrote it and is ignored by any other; a missing, stale or unreadable file only means compiling
as before, and a read-only home means no file.  `NOTIFIER_REVIEW_NO_CODE_CACHE=1` leaves
`dataclasses` untouched.
"""

from __future__ import annotations

import builtins
import marshal
import os
import sys
from types import CodeType

FORMAT = "notifier-review dataclass code 1"
MAX_ENTRIES = 600  # more (texts of classes since changed pile up): keep only this run's

_cache: dict[str, CodeType] = {}
_used: set[str] = set()
_missed = False
_path: str | None = None  # set by install()


def cache_path() -> str | None:
    """The cache file for this interpreter; None without a home to keep it in."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no HOME: never a relative path under the user's directory
        return None
    tag = f"{sys.implementation.cache_tag}-{sys.hexversion:x}"
    return os.path.join(base, "notifier-review", f"dataclasses-{tag}.marshal")


def _load(path: str) -> dict[str, CodeType]:
    try:
        with open(path, "rb") as fh:
            data = marshal.loads(fh.read())  # load(fh) reads in small pieces: far slower
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not (isinstance(data, tuple) and len(data) == 3 and data[0] == FORMAT
            and data[1] == sys.version and isinstance(data[2], dict)):
        return {}
    return {t: c for t, c in data[2].items() if isinstance(t, str) and isinstance(c, CodeType)}


def save() -> None:
    """Write the cache when this process compiled anything new (no-op before install())."""
    if not _missed or _path is None:
        return
    keep = dict(_cache) if len(_cache) <= MAX_ENTRIES else {t: _cache[t] for t in _used}
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump((FORMAT, sys.version, keep), fh)
        os.replace(tmp, _path)
    except (OSError, ValueError):  # a read-only home: no cache, same result
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _make_exec(module_globals: dict):
    def cached_exec(source, globs=None, locs=None):
        global _missed
        if globs is None:  # exec() inside dataclasses would have used that module's globals
            globs = module_globals
        if isinstance(source, str):
            code = _cache.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
                _cache[source] = code
                _missed = True
            _used.add(source)
            source = code
        if locs is None:
            return builtins.exec(source, globs)
        return builtins.exec(source, globs, locs)

    return cached_exec


def install() -> None:
    """Make `dataclasses` reuse compiled method code across runs (once per process)."""
    global _path
    import dataclasses

    if os.environ.get("NOTIFIER_REVIEW_NO_CODE_CACHE"):
        return  # the stdlib as it is: every method compiled afresh
    if "exec" in vars(dataclasses):  # installed already, or not the module we know
        return
    _path = cache_path()
    if _path is not None:
        _cache.update(_load(_path))
    dataclasses.exec = _make_exec(vars(dataclasses))  # type: ignore[attr-defined]

"""Kernel API knowledge, loaded from the TOML tables in `rules/` and from users' `--table` files.

Flow position: understanding -> judgement.  The path walker asks this module what a call does
(acquires or releases which resource, keyed how, under which success condition); rule families
read their own sections (sleeping calls, callback contexts, never-NULL sources, ...).  Every fact
is data: a user extends it with a TOML file of the same shape, no Python needed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from dataclasses import dataclass, field
from typing import Any

from reviewer import _layout
from reviewer.errors import InputError

SUCCESS_KINDS = frozenset(
    {"always", "ret_zero", "ret_nonzero", "ret_nonnull", "ret_not_err", "ret_nonnull_not_err"}
)


def parse_version(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = str(text).strip().split(".")
    try:
        major = int(parts[0])
        minor = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    except ValueError:
        return None
    return (major, minor)


def version_text(v: tuple[int, int] | None) -> str:
    return f"{v[0]}.{v[1]}" if v else "unknown"


@dataclass(frozen=True)
class Acquire:
    name: str
    group: str
    kind: str
    context: str
    key: str
    success: str
    releases_first: bool = False


@dataclass(frozen=True)
class Release:
    name: str
    group: str
    key: str


@dataclass
class Knowledge:
    acquires: dict[str, Acquire] = field(default_factory=dict)
    releases: dict[str, Release] = field(default_factory=dict)
    guards: dict[str, str] = field(default_factory=dict)
    field_inits: dict[str, dict[str, Any]] = field(default_factory=dict)
    atomic_groups: set[str] = field(default_factory=set)
    group_kind: dict[str, str] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # raw tables for rule families
    version: tuple[int, int] | None = None
    sources: list[str] = field(default_factory=list)

    def section(self, name: str) -> Any:
        return self.sections.get(name, [])

    def names_in(self, section: str, key: str = "names") -> set[str]:
        """All names listed under `key` in the entries of a list section."""
        out: set[str] = set()
        for entry in self.section(section):
            if isinstance(entry, dict):
                out.update(entry.get(key, []))
        return out


def _applies(entry: dict[str, Any], version: tuple[int, int] | None) -> bool:
    since = parse_version(entry.get("since"))
    until = parse_version(entry.get("until"))
    if version is None:
        # unknown kernel: take the newest reading of entries that have a lower bound only,
        # and skip entries that describe an API that is gone
        return until is None
    if since and version < since:
        return False
    return not (until and version > until)


def _merge_sections(into: dict[str, Any], data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, list):
            into.setdefault(name, [])
            into[name].extend(value)
        elif isinstance(value, dict):
            into.setdefault(name, {})
            if isinstance(into[name], dict):
                into[name].update(value)
        else:
            into[name] = value


def _cache_file(paths: list[str]) -> str | None:
    """Where the merged tables of `paths` are kept between runs (b4 starts one process per
    patch; reading the TOML tables again each time costs more than the review of a small
    patch).  The name changes whenever a table file changes."""
    h = hashlib.sha1(b"notifier-review knowledge 1")
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None  # let the normal read report it
        h.update(f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}\n".encode())
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "notifier-review", f"knowledge-{h.hexdigest()[:20]}.marshal")


def _cached_sections(paths: list[str]) -> dict[str, Any]:
    cache = _cache_file(paths)
    if cache is not None:
        try:
            with open(cache, "rb") as fh:
                data = marshal.loads(fh.read())  # load(fh) reads in small pieces: far slower
            if isinstance(data, dict):
                return data
        except (OSError, EOFError, ValueError, TypeError):
            pass
    sections: dict[str, Any] = {}
    for path in paths:
        _merge_sections(sections, _read_table(path))
    if cache is not None:
        try:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            tmp = f"{cache}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                marshal.dump(sections, fh)
            os.replace(tmp, cache)
        except (OSError, ValueError):
            pass  # a read-only home: no cache, same result
        _prune(os.path.dirname(cache))
    return sections


STALE_SECONDS = 30 * 24 * 3600


def _prune(directory: str) -> None:
    """Drop cache files of tables that changed long ago (a new file is written whenever a
    table changes; a file still in use is only rewritten, at the cost of one TOML read)."""
    import time

    try:
        names = os.listdir(directory)
    except OSError:
        return
    now = time.time()
    for name in names:
        if not (name.startswith("knowledge-") and name.endswith(".marshal")):
            continue
        path = os.path.join(directory, name)
        try:
            if now - os.stat(path).st_mtime > STALE_SECONDS:
                os.unlink(path)
        except OSError:
            pass


def _read_table(path: str) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InputError(str(path), f"cannot read table: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not a valid TOML table: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not a valid TOML table: not UTF-8 text") from None


def load_knowledge(
    extra_tables: list[str] | None = None, version: tuple[int, int] | None = None
) -> Knowledge:
    """Load every shipped table, then the user's, and index them for the walker."""
    shipped = _layout.rules_dir()
    paths = [os.path.join(shipped, n) for n in sorted(os.listdir(shipped)) if n.endswith(".toml")]
    sources = [os.path.basename(p) for p in paths] + list(extra_tables or [])
    paths += list(extra_tables or [])
    sections = _cached_sections(paths)
    k = Knowledge(sections=sections, version=version, sources=sources)
    for entry in sections.get("acquire", []):
        if not _applies(entry, version):
            continue
        success = entry.get("success", "always")
        if success not in SUCCESS_KINDS:
            raise InputError("knowledge table", f"unknown success kind {success!r}")
        for name in entry.get("names", []):
            k.acquires[name] = Acquire(
                name,
                entry["group"],
                entry.get("kind", "lock"),
                entry.get("context", "none"),
                entry.get("key", "arg0"),
                success,
                bool(entry.get("releases_first", False)),
            )
        k.group_kind.setdefault(entry["group"], entry.get("kind", "lock"))
        if entry.get("context") == "atomic":
            k.atomic_groups.add(entry["group"])
    for entry in sections.get("release", []):
        if not _applies(entry, version):
            continue
        for name in entry.get("names", []):
            k.releases[name] = Release(name, entry["group"], entry.get("key", "arg0"))
    k.guards = dict(sections.get("guards", {}))
    for entry in sections.get("field_init", []):
        if _applies(entry, version):
            for name in entry.get("names", []):
                k.field_inits[name] = entry
    return k

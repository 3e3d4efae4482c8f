"""The project's `.notifier-review.toml`: which rules run, how loud, where, and what is accepted.

Flow position: command line, before the engine.  The file is found at the repository root (the
nearest directory upwards from `-C DIR` or the current directory that holds it, stopping at the
top of the git work tree), or named with `--config FILE`.  It may say:

    kernel = "6.1"                       # used when --kernel is not given
    tables = ["tools/our-api.toml"]      # extra knowledge tables, relative to this file
    baseline = ".notifier-review-baseline.toml"   # suppressions written by `baseline`

    [rules]                              # rule id or family -> on | off | warning | error
    "bracketing-range-mismatch" = "warning"
    null-check = "off"

    [paths]                              # globs relative to this file (fnmatch; a bare
    include = ["mm/*", "virt/*"]         # directory name covers everything below it)
    exclude = ["mm/damon/*"]

    [[suppress]]
    fingerprint = "0123456789abcdef"
    reason = "false positive: the range is ended by the caller"

Anything malformed is an InputError naming the file and the problem (one line, exit 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from reviewer.errors import InputError

CONFIG_NAME = ".notifier-review.toml"
BASELINE_NAME = ".notifier-review-baseline.toml"
RULE_VALUES = ("on", "off", "warning", "error")
_TOP_KEYS = {"kernel", "tables", "baseline", "rules", "paths", "suppress"}


@dataclass(frozen=True)
class Suppression:
    fingerprint: str
    reason: str
    rule: str = ""
    function: str = ""
    file: str = ""


@dataclass
class Config:
    path: str | None = None  # None: no file, defaults
    base: str = "."  # directory paths and globs are relative to
    kernel: str | None = None
    tables: list[str] = field(default_factory=list)
    rules: dict[str, str] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    suppressions: dict[str, Suppression] = field(default_factory=dict)
    baseline: str | None = None  # path of the baseline file (may not exist yet)

    @property
    def disabled(self) -> set[str]:
        return {k for k, v in self.rules.items() if v == "off"}

    @property
    def severity_overrides(self) -> dict[str, str]:
        return {k: v for k, v in self.rules.items() if v in ("warning", "error")}


def find_config(start: str | None) -> tuple[str | None, str]:
    """(the config file, the directory it governs) for `start` (default: the current one).

    The nearest directory upwards holding the file wins; the search stops at the top of the git
    work tree, which is then the directory a missing file would govern.
    """
    here = os.path.realpath(start or os.getcwd())  # os.path: pathlib costs start-up time
    d = here
    while True:
        candidate = os.path.join(d, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate, d
        if os.path.exists(os.path.join(d, ".git")):
            return None, d
        parent = os.path.dirname(d)
        if parent == d:
            return None, here
        d = parent


def _read_toml(path: str) -> dict:
    import tomllib  # only when there is a configuration file: it costs start-up time

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(path, "no such configuration file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, "not valid TOML: not UTF-8 text") from None


def _strings(path: str, key: str, value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(path, f"'{key}' must be a string or a list of strings")
    return list(value)


def _known_rule_names() -> set[str]:
    from reviewer.engine.registry import all_rules

    rules = all_rules()
    return {r.id for r in rules} | {r.family for r in rules}


def parse_suppressions(path: str, entries: object) -> dict[str, Suppression]:
    if not isinstance(entries, list):
        raise InputError(path, "'suppress' must be an array of tables ([[suppress]])")
    out: dict[str, Suppression] = {}
    for i, entry in enumerate(entries, 1):
        where = f"suppression #{i}"
        if not isinstance(entry, dict):
            raise InputError(path, f"{where} is not a table")
        fp = entry.get("fingerprint")
        if not isinstance(fp, str) or not fp.strip():
            raise InputError(path, f"{where} has no fingerprint")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(path, f"{where} ({fp}) has no reason; every suppression needs one")
        unknown = set(entry) - {"fingerprint", "reason", "rule", "function", "file"}
        if unknown:
            raise InputError(path, f"{where} has unknown key '{sorted(unknown)[0]}'")
        out[fp.strip()] = Suppression(
            fp.strip(), reason.strip(), str(entry.get("rule", "")),
            str(entry.get("function", "")), str(entry.get("file", "")))
    return out


def load_config(path: str | None) -> Config:
    """Read and check one config file; `None` gives the defaults."""
    if path is None:
        return Config()
    data = _read_toml(path)
    base = os.path.dirname(os.path.abspath(path))
    cfg = Config(path=path, base=base)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InputError(path, f"unknown key '{sorted(unknown)[0]}' "
                               f"(known: {', '.join(sorted(_TOP_KEYS))})")
    if "kernel" in data:
        from reviewer.analysis.knowledge import parse_version

        kernel = str(data["kernel"])
        if parse_version(kernel) is None:
            raise InputError(path, f"kernel: not a kernel version: {kernel!r} (want X.Y)")
        cfg.kernel = kernel
    cfg.tables = [os.path.join(base, t) for t in _strings(path, "tables", data.get("tables", []))]
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise InputError(path, "'rules' must be a table of rule or family = on|off|warning|error")
    if rules:
        known = _known_rule_names()
        for name, value in rules.items():
            if name not in known:
                raise InputError(path, f"rules: unknown rule or family '{name}' "
                                       "(see `notifier-review rules`)")
            if value not in RULE_VALUES:
                raise InputError(path, f"rules: '{name}' = {value!r}, want one of "
                                       + ", ".join(RULE_VALUES))
        cfg.rules = dict(rules)
    paths = data.get("paths", {})
    if not isinstance(paths, dict) or set(paths) - {"include", "exclude"}:
        raise InputError(path, "'paths' must be a table with 'include' and/or 'exclude'")
    cfg.include = _strings(path, "paths.include", paths.get("include", []))
    cfg.exclude = _strings(path, "paths.exclude", paths.get("exclude", []))
    cfg.suppressions = parse_suppressions(path, data.get("suppress", []))
    baseline = data.get("baseline", BASELINE_NAME)
    if not isinstance(baseline, str) or not baseline:
        raise InputError(path, "'baseline' must be a file name")
    cfg.baseline = os.path.join(base, baseline)
    if os.path.isfile(cfg.baseline):
        cfg.suppressions = {**load_baseline(cfg.baseline), **cfg.suppressions}
    return cfg


def load_baseline(path: str) -> dict[str, Suppression]:
    data = _read_toml(path)
    unknown = set(data) - {"suppress"}
    if unknown:
        raise InputError(path, f"unknown key '{sorted(unknown)[0]}' (a baseline holds only "
                               "[[suppress]] entries)")
    return parse_suppressions(path, data.get("suppress", []))


def add_engine_options(p, directory_help: str) -> None:
    """--kernel, --table, -C and the configuration options, for commands without a voice."""
    from reviewer.cli.common import add_config_options

    p.add_argument("--kernel", metavar="X.Y", help="kernel version the code is for")
    p.add_argument("--table", action="append", default=[], metavar="FILE",
                   help="extra knowledge table (TOML, same shape as rules/*.toml)")
    p.add_argument("-C", dest="directory", metavar="DIR", default=None, help=directory_help)
    add_config_options(p)


def config_for(args) -> Config:
    """The configuration the command line asks for (`--config`, `--no-config`, or the repo's)."""
    cached = getattr(args, "_config", None)
    if cached is not None:
        return cached
    if getattr(args, "no_config", False):
        cfg = Config()
    elif getattr(args, "config", None):
        cfg = load_config(args.config)
    else:
        found, root = find_config(getattr(args, "directory", None))
        cfg = load_config(found)
        if found is None:
            cfg.base = root
            candidate = os.path.join(root, BASELINE_NAME)
            cfg.baseline = candidate
            if os.path.isfile(candidate):
                cfg.suppressions = load_baseline(candidate)
    args._config = cfg
    return cfg

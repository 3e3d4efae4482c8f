"""Entry point of `notifier-review`: parses the command line and dispatches to a subcommand.

Flow position: command line.  Every error a user can cause ends here as one line on standard
error and exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from reviewer import __version__, _codecache
from reviewer.errors import EXIT_BAD_INPUT, ReviewError

# subcommand name -> module; each module has add_parser(subparsers) and run(args) -> int
SUBCOMMANDS: dict[str, str] = {
    "check": "reviewer.cli.cmd_check",
    "scan": "reviewer.cli.cmd_scan",
    "rules": "reviewer.cli.cmd_rules",
    "explain": "reviewer.cli.cmd_explain",
    "bot": "reviewer.cli.cmd_bot",
    "baseline": "reviewer.cli.cmd_baseline",
    "hook": "reviewer.cli.cmd_hook",
    "install-hook": "reviewer.cli.cmd_install_hook",
    "b4-check": "reviewer.cli.cmd_b4",
}


def _columns() -> int:
    """The help width argparse would use (what shutil.get_terminal_size() says, less 2), found
    without importing `shutil`: argparse makes a formatter for every add_argument() call and
    each one imports shutil to ask, which costs start-up time in every per-patch process."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns - 2


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width if width is not None else _columns())


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # one line, exit 2
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _chosen(argv: list[str]) -> str | None:
    for arg in argv:
        if arg.startswith("-"):
            continue
        return arg if arg in SUBCOMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; when `argv` names a subcommand, only that subcommand's module is imported
    and only its parser is built (b4 starts one process per patch, so start-up time counts;
    the others would not show in the help or in any error for a command line naming one)."""
    parser = _Parser(
        prog="notifier-review",
        description="Review Linux kernel patches for mmu_notifier / HMM mistakes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _chosen(argv) if argv is not None else None
    for name, module in SUBCOMMANDS.items():
        if chosen is None or name == chosen:
            importlib.import_module(module).add_parser(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    _codecache.install()  # before the subcommand's modules define their dataclasses
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        status = int(args.run(args))
    except ReviewError as exc:
        sys.stderr.write(f"notifier-review: {exc.one_line()}\n")
        return exc.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("notifier-review: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    _codecache.save()  # only after a run without error: a failed command leaves no files
    return status

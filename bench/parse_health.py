"""Parse-health benchmark for the C stage (reviewer.c): how well tree-sitter-c sees kernel C.

Usage: python bench/parse_health.py DIR [--worst N] [--no-recurse]

Parses every *.c file under DIR twice, once as plain tree-sitter-c and once after the kernel
normalisation pass (reviewer.c.normalize), and prints the number of files, the number of function
definitions found (a `function_definition` node with a name) and the share of those with no
ERROR or MISSING node anywhere in their subtree, plus the time each pass took.  Functions that the
raw parse lost entirely (found only after normalisation) are counted separately.  `--worst N`
lists the files with the most unhealthy functions after normalisation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.c.normalize import normalize  # noqa: E402
from reviewer.c.parse import PARSER_LANGUAGE, functions_in_tree  # noqa: E402


def _health(tree_sitter_tree, src: bytes) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(all function keys, healthy function keys); a key is (name, end line)."""
    found: set[tuple[str, int]] = set()
    healthy: set[tuple[str, int]] = set()
    for fn in functions_in_tree(tree_sitter_tree.root_node, src):
        key = (fn.name, fn.end_line)
        found.add(key)
        if not fn.has_error:
            healthy.add(key)
    return found, healthy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--worst", type=int, default=0, metavar="N")
    ap.add_argument("--no-recurse", action="store_true", help="only DIR/*.c")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"parse_health: {args.dir}: not a directory", file=sys.stderr)
        return 2
    import tree_sitter

    parser = tree_sitter.Parser(PARSER_LANGUAGE)
    files = sorted(args.dir.glob("*.c") if args.no_recurse else args.dir.rglob("*.c"))
    raw_all = raw_ok = norm_all = norm_ok = lost = 0
    t_raw = t_norm = t_pass = 0.0
    per_file: list[tuple[int, str]] = []
    for path in files:
        src = path.read_bytes()
        t0 = time.perf_counter()
        raw_found, raw_healthy = _health(parser.parse(src), src)
        t1 = time.perf_counter()
        norm = normalize(src)
        t2 = time.perf_counter()
        norm_found, norm_healthy = _health(parser.parse(norm), src)
        t3 = time.perf_counter()
        t_raw += t1 - t0
        t_pass += t2 - t1
        t_norm += t3 - t1
        raw_all += len(raw_found)
        raw_ok += len(raw_healthy)
        norm_all += len(norm_found)
        norm_ok += len(norm_healthy)
        lost += len(norm_found - raw_found)
        per_file.append((len(norm_found) - len(norm_healthy), str(path.relative_to(args.dir))))

    def share(ok: int, total: int) -> str:
        return f"{100.0 * ok / total:.1f}%" if total else "n/a"

    print(f"files: {len(files)}")
    print(f"raw:        {raw_all} function definitions, {raw_ok} clean ({share(raw_ok, raw_all)})"
          f" in {t_raw:.2f}s")
    print(f"normalised: {norm_all} function definitions, {norm_ok} clean"
          f" ({share(norm_ok, norm_all)}) in {t_norm:.2f}s (normalise pass {t_pass:.2f}s)")
    print(f"functions the raw parse lost entirely: {lost}")
    if norm_all:
        print(f"raw clean share over the normalised count: {share(raw_ok, norm_all)}")
    if args.worst:
        for bad, name in sorted(per_file, reverse=True)[: args.worst]:
            if bad:
                print(f"  {bad:4d} unhealthy  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

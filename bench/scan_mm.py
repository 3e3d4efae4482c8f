"""Scan of a whole kernel directory (mm/ of linux-source-6.1 by default): speed, memory, noise.

Usage:
  python bench/scan_mm.py [--source DIR] [--dir mm] [--jobs 2] [--rounds 3]

Runs `notifier-review scan DIR/ --format json -j N` (as a separate process, --rounds times) on an
extraction of linux-source-6.1 (`--source`, default /work/kernel/linux-source-6.1 when present,
else the needed parts are unpacked from /usr/src/linux-source-6.1.tar.xz as bench/kernel_series.py
does) and prints the median wall time, functions per second, the peak resident memory of the
scan (its workers included: wait4 rusage of the child, which covers the children it waited for),
the findings per rule and the share of functions that were skipped or bounded (from the JSON
`stats`).  Targets (issue 8, 2-core machine): under 15 s with -j 2, under 400 MB, at most 1%
bounded or skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_series import _unpack  # noqa: E402
from series_vs_checkpatch import compile_bytecode, load, reviewer_cmd, run  # noqa: E402

DEFAULT_SOURCE = Path("/work/kernel/linux-source-6.1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE if DEFAULT_SOURCE.is_dir()
                    else None, help="extraction of linux-source-6.1 (default: %(default)s)")
    ap.add_argument("--dir", default="mm", help="directory of the tree to scan (default: mm)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    compile_bytecode()
    print(f"start: {load()} on {os.cpu_count()} CPUs")
    tmp = None
    source = args.source
    if source is None:
        tmp = Path(tempfile.mkdtemp(prefix="nr-scan-"))
        _unpack(tmp)
        source = tmp
    try:
        target = source / args.dir
        files = sorted(target.rglob("*.c"))
        size = sum(f.stat().st_size for f in files)
        cmd = [*reviewer_cmd(), "scan", f"{target}/", "--format", "json", "--fail-on", "never",
               "-j", str(args.jobs)]
        print(f"{' '.join(cmd)}\n{len(files)} files, {size / 1e6:.1f} MB")
        times, rss, out = [], 0, None
        for _ in range(args.rounds):
            r = run(cmd, source)
            if r.status != 0:
                sys.exit(r.out.decode("utf-8", "replace")[-2000:])
            times.append(r.seconds)
            rss = max(rss, r.maxrss_kb)
            out = json.loads(r.out)
        assert out is not None
        st = out["stats"]
        analysed = st["functions_analysed"]
        skipped, bounded = len(st["functions_skipped"]), len(st["functions_bounded"])
        wall = statistics.median(times)
        rules = Counter(f["rule"] for f in out["findings"])
        print(f"wall time (median of {args.rounds}): {wall:.1f} s  "
              f"[{', '.join(f'{t:.1f}' for t in times)}]")
        print(f"functions analysed: {analysed}, {analysed / wall:.0f} per second")
        print(f"peak RSS: {rss / 1024:.0f} MB (largest single process)")
        print(f"findings: {len(out['findings'])} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(rules.items())) or 'none'})")
        share = (skipped + bounded) / analysed * 100 if analysed else 0.0
        print(f"skipped {skipped}, bounded {bounded}: {share:.2f}% of functions")
        print(f"end: {load()}")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

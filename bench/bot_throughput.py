"""Bot throughput: 1,000 generated messages (about 100 series) through one `bot --once` run.

Usage: python bench/bot_throughput.py [--series N] [--patches M] [--keep DIR]

Writes N series (default 100) of a cover letter and M-1 patches each (default M = 10, so 1,000
messages) into a fresh Maildir: kernel-like C of our own, every fifth series with an early return
between `mmu_notifier_invalidate_range_start()` and `..._end()`.  Then runs the real command
`notifier-review bot --once --wait 0 --outbox DIR` as a subprocess, and prints messages per
second, series reviewed, replies written and the peak memory of the bot process
(resource.getrusage of children, ru_maxrss).
"""

from __future__ import annotations

import argparse
import mailbox
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = "linux-mm@kvack.example"


def _function(s: int, p: int, buggy: bool) -> list[str]:
    bail = ["\tif (!pte)", "\t\treturn -EFAULT;"] if buggy else [
        "\tif (!pte) {", "\t\tret = -EFAULT;", "\t\tgoto out;", "\t}"]
    tail = ["\tmmu_notifier_invalidate_range_end(&range);", "\treturn 0;"] if buggy else [
        "out:", "\tmmu_notifier_invalidate_range_end(&range);", "\treturn ret;"]
    return [
        "",
        f"static int bench_{s}_{p}_zap(struct mm_struct *mm, unsigned long start,",
        "\t\t\t unsigned long end)",
        "{",
        "\tstruct mmu_notifier_range range;",
        "\tpte_t *pte;",
        "\tint ret = 0;",
        "",
        "\tmmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, start, end);",
        "\tmmu_notifier_invalidate_range_start(&range);",
        f"\tpte = bench_lookup_{p}(mm, start);",
        *bail,
        "\tbench_clear(pte);",
        *tail,
        "}",
    ]


def _patch(s: int, p: int, total: int, buggy: bool) -> bytes:
    path = f"mm/bench_{s}.c"
    added = _function(s, p, buggy)
    start = 3 + (p - 1) * 20
    diff = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}",
            f"@@ -{start},3 +{start},{3 + len(added)} @@",
            " int bench_marker;", " ", " /* more below */", *(f"+{ln}" for ln in added)]
    head = [f"From: Dev {s} <dev{s}@example.org>", f"To: {LIST}",
            f"Subject: [PATCH {p}/{total}] mm/bench{s}: zap helper {p}",
            "Date: Mon, 1 Jan 2024 10:00:00 +0000",
            f"Message-ID: <bench-{s}-{p}@example.org>",
            f"In-Reply-To: <bench-{s}-0@example.org>", f"References: <bench-{s}-0@example.org>"]
    body = [f"Add zap helper {p}.", "---", *diff, "-- ", "2.43.0", ""]
    return ("\n".join(head) + "\n\n" + "\n".join(body)).encode()


def _cover(s: int, total: int) -> bytes:
    return (f"From: Dev {s} <dev{s}@example.org>\nTo: {LIST}\n"
            f"Subject: [PATCH 0/{total}] mm/bench{s}: zap helpers\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
            f"Message-ID: <bench-{s}-0@example.org>\n\nSome helpers.\n").encode()


def generate(box: Path, series: int, per_series: int) -> int:
    md = mailbox.Maildir(str(box), create=True)
    count = 0
    total = per_series - 1
    for s in range(series):
        msgs = [_cover(s, total)] + [_patch(s, p, total, buggy=(s % 5 == 0 and p == 2))
                                     for p in range(1, total + 1)]
        for raw in reversed(msgs):  # newest first, as a busy list delivers them
            md.add(raw)
            count += 1
    return count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--patches", type=int, default=10, help="messages per series, with cover")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    box = work / "Maildir"
    count = generate(box, args.series, args.patches)
    env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(work / "xdg"))
    cmd = [sys.executable, "-m", "reviewer", "bot", "--once", "--wait", "0", "--rate", "0",
           "--state", str(work / "bot.sqlite"), "--outbox", str(work / "outbox"), str(box)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return done.returncode
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    replies = len(os.listdir(work / "outbox" / "new"))
    summary = done.stderr.strip().splitlines()[-1]
    print(f"messages: {count} in {args.series} series")
    print(f"time: {elapsed:.2f} s  ->  {count / elapsed:.0f} messages/s")
    print(f"replies written: {replies} (expected {len(range(0, args.series, 5))})")
    print(f"peak memory of the bot process: {peak_kb / 1024:.1f} MiB (ru_maxrss)")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Side-by-side timing of notifier-review and the kernel's own checkpatch.pl on one patch series.

Usage:
  python bench/series_vs_checkpatch.py [--source DIR] [--patches 30] [--rounds 5] [--jobs 2]
  python bench/series_vs_checkpatch.py --sizes [--source DIR] [--rounds 3]

Builds a temporary git repository from linux-source-6.1 (bench/kernel_series.py: `--source DIR`
reuses an extraction such as /work/kernel/linux-source-6.1, otherwise the needed directories are
unpacked from /usr/src/linux-source-6.1.tar.xz, installed with apt-get when absent), commits a
generated series of patches editing real functions of mm/ and of drivers using mmu notifiers
(some with an injected defect of each rule family), writes it out with `git format-patch`, and
then times, alternating within each round:
  (a)  `notifier-review check base..HEAD`           the whole range in one process
  (a2) the same with `-j N`                        (when --jobs > 1)
  (b)  `notifier-review b4-check` once per patch    as b4 calls its check command, a new process
       per patch with the patch on standard input; `notifier-review check PATCH` inside the
       repository (blob-index images) when the b4-check subcommand does not exist
  (c)  `./scripts/checkpatch.pl PATCH` per patch    inside the tree, as kernel developers run it
It prints the median of the rounds for each, the ratios (a)/(c) and (b)/(c) (and (b)/(c) apart on
the patches that change code and on those that only add comments), the peak resident
memory of each kind of process (wait4 rusage of each child; the overall RUSAGE_CHILDREN maxrss
too) and the findings of (a) per family.

`--sizes` times series of 10, 30 and 100 patches (the first 10, 30 and 100 commits of one
generated series) with (a) and (c), to show that the cost follows the size of the change.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_series import format_patches, git, make_repo, make_series  # noqa: E402


@dataclass
class Run:
    seconds: float
    maxrss_kb: int
    status: int
    out: bytes


@dataclass
class Kind:
    label: str
    totals: list[float] = field(default_factory=list)
    maxrss_kb: int = 0
    findings: Counter = field(default_factory=Counter)
    per_patch: list[list[float]] = field(default_factory=list)  # each round's per-patch times

    def add(self, runs: list[Run]) -> None:
        self.totals.append(sum(r.seconds for r in runs))
        self.per_patch.append([r.seconds for r in runs])
        self.maxrss_kb = max([self.maxrss_kb] + [r.maxrss_kb for r in runs])

    def median_of(self, which: list[int]) -> float:
        """Median over rounds of the time the patches numbered `which` took together."""
        return statistics.median(sum(rnd[i] for i in which) for rnd in self.per_patch)

    @property
    def median(self) -> float:
        return statistics.median(self.totals)


def run(cmd: list[str], cwd: Path, stdin: Path | None = None) -> Run:
    """Run one process; wall time and its own peak RSS (from wait4)."""
    with tempfile.TemporaryFile() as out, contextlib.ExitStack() as stack:
        fin = stack.enter_context(open(stdin, "rb")) if stdin is not None else subprocess.DEVNULL
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdin=fin, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return Run(dt, usage.ru_maxrss, p.returncode, out.read())


REVIEWER: list[str] = []  # the command line of the tool under test, set by main()


def reviewer_cmd() -> list[str]:
    if REVIEWER:
        return REVIEWER
    exe = shutil.which("notifier-review")
    return [exe] if exe else [sys.executable, "-m", "reviewer"]


def install_in_venv(where: Path) -> list[str]:
    """Install this checkout as a user would (`pip install .` into a fresh virtual environment)
    and return its `notifier-review`: the figures are then those of an ordinary install, not of
    a development environment (an editable install adds a meta-path finder to every start-up,
    and a base interpreter may carry site hooks of its own)."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    root = Path(__file__).resolve().parents[1]
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(root)], check=True,
                   stdout=subprocess.DEVNULL)
    return [str(venv / "bin" / "notifier-review")]


def compile_bytecode() -> None:
    """Byte-compile the reviewer as `pip install` would (an editable install under
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module in every process)."""
    import reviewer.rules

    import reviewer

    for pkg in (reviewer, reviewer.rules):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(pkg.__file__).parent)],
                       check=True, stdout=subprocess.DEVNULL)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def has_b4_check(cmd: list[str], repo: Path) -> bool:
    return run([*cmd, "b4-check", "--help"], repo).status == 0


def per_patch_cmd(cmd: list[str], patch: Path, b4: bool) -> tuple[list[str], Path | None]:
    if b4:
        return [*cmd, "b4-check"], patch
    return [*cmd, "check", "--fail-on", "never", str(patch)], None


def check_ok(r: Run, what: str) -> None:
    if r.status not in (0, 1):
        text = r.out.decode("utf-8", "replace")[-2000:]
        sys.exit(f"{what} failed with status {r.status}:\n{text}")


def findings_of(out: bytes) -> Counter:
    data = json.loads(out)
    return Counter(f["family"] for f in data["findings"])


def measure(repo: Path, patches: list[Path], rev_range: str, rounds: int, jobs: int,
            per_patch: bool = True) -> dict[str, Kind]:
    cmd = reviewer_cmd()
    b4 = has_b4_check(cmd, repo)
    kinds = {"a": Kind(f"(a)  notifier-review check {rev_range}")}
    if jobs > 1:
        kinds["a2"] = Kind(f"(a2) notifier-review check -j {jobs} {rev_range}")
    if per_patch:
        kinds["b"] = Kind("(b)  notifier-review " + ("b4-check < PATCH" if b4 else
                                                      "check PATCH") + ", once per patch")
    kinds["c"] = Kind("(c)  ./scripts/checkpatch.pl PATCH, once per patch")
    range_cmd = [*cmd, "check", "--fail-on", "never", "--format", "json", rev_range]
    for rnd in range(rounds):
        order = list(kinds)
        if rnd % 2:  # alternate which goes first
            order.reverse()
        for key in order:
            if key == "a":
                r = run(range_cmd, repo)
                check_ok(r, "check of the range")
                kinds[key].add([r])
                kinds[key].findings = findings_of(r.out)
            elif key == "a2":
                r = run([*range_cmd, "-j", str(jobs)], repo)
                check_ok(r, "check -j of the range")
                kinds[key].add([r])
            elif key == "b":
                runs = []
                for p in patches:
                    argv, stdin = per_patch_cmd(cmd, p, b4)
                    r = run(argv, repo, stdin)
                    check_ok(r, f"per-patch check of {p.name}")
                    runs.append(r)
                kinds[key].add(runs)
            else:
                runs = []
                for p in patches:
                    r = run(["./scripts/checkpatch.pl", str(p)], repo)
                    runs.append(r)  # checkpatch exits 1 when it has something to say
                kinds[key].add(runs)
    return kinds


def comment_only(patch: Path) -> bool:
    """The patch only adds comments (or blank lines): what `b4-check` passes without loading
    its engine, told by the tool's own reading of the patch."""
    from reviewer.sources.patchfile import series_from_files

    series = series_from_files([str(patch)])
    return not any(c.reviewable for p in series.patches for c in p.files)


def report_split(kinds: dict[str, Kind], patches: list[Path]) -> None:
    """(b) against (c) separately on the patches that change code and on comment-only ones,
    so that a series' mix does not hide the per-patch cost of a real change."""
    if "b" not in kinds or not kinds["b"].per_patch:
        return
    groups = {"change code": [i for i, p in enumerate(patches) if not comment_only(p)],
              "only add comments": [i for i, p in enumerate(patches) if comment_only(p)]}
    for what, which in groups.items():
        if not which:
            continue
        b, c = kinds["b"].median_of(which), kinds["c"].median_of(which)
        print(f"  (b)/(c) on the {len(which)} patches that {what}: "
              f"{b / len(which) * 1000:.0f} ms vs {c / len(which) * 1000:.0f} ms per patch "
              f"= {b / c:.2f}")


def report(kinds: dict[str, Kind], n: int, rounds: int) -> None:
    c = kinds["c"].median
    print(f"series of {n} patches, {rounds} rounds, medians:")
    for key, k in kinds.items():
        extra = ""
        if key in ("b", "c"):
            extra = f"  ({k.median / n * 1000:.0f} ms per patch)"
        ratio = f"  = {k.median / c:.2f}x checkpatch" if key != "c" else ""
        print(f"  {k.label}: {k.median:.2f} s{extra}{ratio}; peak RSS {k.maxrss_kb / 1024:.0f} MB")
    fams = kinds["a"].findings
    total = sum(fams.values())
    detail = ", ".join(f"{f} {c}" for f, c in sorted(fams.items())) or "none"
    print(f"  findings of (a): {total} ({detail})")
    print(f"  ratio (a)/(c) = {kinds['a'].median / c:.2f} (target <= 0.30)")
    if "b" in kinds:
        print(f"  ratio (b)/(c) = {kinds['b'].median / c:.2f} (target <= 1.00)")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"  peak RSS of any child so far (RUSAGE_CHILDREN): {peak / 1024:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path,
                    help="directory holding an extraction of linux-source-6.1 (default: unpack "
                         "the Debian tarball)")
    ap.add_argument("--patches", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2, help="also time (a) with -j N (1: do not)")
    ap.add_argument("--sizes", action="store_true", help="time series of 10, 30 and 100 patches")
    ap.add_argument("--keep", action="store_true", help="keep the temporary repository")
    ap.add_argument("--installed", action="store_true",
                    help="time the notifier-review on PATH instead of a fresh `pip install .` "
                         "into a virtual environment")
    args = ap.parse_args(argv)
    print(f"start: {load()} on {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp(prefix="nr-bench-"))
    if args.installed:
        compile_bytecode()
    else:
        REVIEWER[:] = install_in_venv(tmp)
    print(f"tool under test: {' '.join(reviewer_cmd())}")
    try:
        repo = tmp / "linux"
        t0 = time.perf_counter()
        make_repo(repo, args.source)
        print(f"repository with the 6.1 tree made in {time.perf_counter() - t0:.0f} s: {repo}",
              file=sys.stderr)
        sizes = (10, 30, 100) if args.sizes else (args.patches,)
        made = make_series(repo, max(sizes))
        kinds_made = Counter(k for k, _ in made)
        print(f"series: {len(made)} patches ({dict(kinds_made)})", file=sys.stderr)
        for n in sizes:
            rev_range = "base..HEAD" if n == max(sizes) else f"base..HEAD~{max(sizes) - n}"
            patches = format_patches(repo, rev_range, tmp / f"patches-{n}")
            changed = git(repo, "diff", "--shortstat", rev_range).strip()
            print(f"\n== {n} patches: {changed}")
            kinds = measure(repo, patches, rev_range, args.rounds,
                            args.jobs if not args.sizes else 1, per_patch=not args.sizes)
            report(kinds, n, args.rounds)
            report_split(kinds, patches)
            if args.sizes:
                a = kinds["a"].median
                print(f"  (a) per patch: {a / n * 1000:.0f} ms")
        print(f"\nend: {load()}")
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

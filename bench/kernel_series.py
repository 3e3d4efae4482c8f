"""Bench support: a git repository made from a real kernel tree, and a generated patch series.

Flow position: outside the tool (bench/).  `make_repo` copies the parts of linux-source-6.1 the
benchmarks need (mm/, include/, virt/, the drivers that use mmu notifiers, scripts/checkpatch.pl
and its data files, the top-level files checkpatch looks for) into a temporary git repository and
commits them.  The source is a directory already holding an extraction, or the Debian tarball
/usr/src/linux-source-6.1.tar.xz (installed with apt-get when absent), of which only those
directories are unpacked.  `make_series` then commits N patches that edit real functions of mm/
and of those drivers: most are harmless (a comment, an `unlikely()`), some inject a defect of
each rule family (an early return inside an open notifier range, a sleeping call under a
spinlock, a one-page range for a huge page, a dropped reference, a pointless NULL test of a
notifier callback argument).  Every edit keeps the file syntactically C.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.c.parse import functions, parse_c  # noqa: E402

TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
TOP = "linux-source-6.1"
DRIVERS = (
    "drivers/xen", "drivers/iommu", "drivers/infiniband/core", "drivers/infiniband/hw/hfi1",
    "drivers/infiniband/hw/mlx5", "drivers/misc/sgi-gru", "drivers/gpu/drm/amd/amdgpu",
    "drivers/gpu/drm/nouveau",
)
NEEDED = ("Makefile", "COPYING", "CREDITS", "Kbuild", "MAINTAINERS", "README", "mm", "include",
          "virt", "scripts/checkpatch.pl", "scripts/spelling.txt",
          "scripts/const_structs.checkpatch", *DRIVERS)
# checkpatch.pl's top_of_kernel_tree() wants these to exist; the big ones stay empty here
TREE_MARKERS_FILES = ("COPYING", "CREDITS", "Kbuild", "MAINTAINERS", "README")
TREE_MARKERS_DIRS = ("Documentation", "arch", "fs", "init", "ipc", "kernel", "lib")
AUTHOR = {"GIT_AUTHOR_NAME": "Bench Author", "GIT_AUTHOR_EMAIL": "bench@example.org",
          "GIT_COMMITTER_NAME": "Bench Author", "GIT_COMMITTER_EMAIL": "bench@example.org",
          "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
FAMILIES = ("bracketing", "atomic-sleep", "thp-range", "refcount", "null-check")


def git(repo: Path, *args: str, quiet: bool = True) -> str:
    env = dict(os.environ, **AUTHOR)
    out = subprocess.run(["git", "-c", "core.quotepath=false", "-c", "commit.gpgsign=false",
                          "-c", "core.looseCompression=1", *args], cwd=repo, env=env,
                         check=True, capture_output=True, text=True)
    return out.stdout


# -- the tree ---------------------------------------------------------------------------------
def ensure_tarball() -> Path:
    if TARBALL.exists():
        return TARBALL
    print(f"{TARBALL} missing: installing linux-source-6.1 with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "linux-source-6.1"], check=True)
    if not TARBALL.exists():
        sys.exit(f"apt-get did not provide {TARBALL}")
    return TARBALL


def _unpack(dest: Path) -> None:
    tarball = ensure_tarball()
    wanted = tuple(f"{TOP}/{n}" for n in NEEDED)
    print(f"unpacking the needed parts of {tarball} (a minute or so)", file=sys.stderr)
    with tarfile.open(tarball, "r:xz") as tf:
        for member in tf:
            name = member.name
            if not any(name == w or name.startswith(w + "/") for w in wanted):
                continue
            if not (member.isfile() or member.isdir()):
                continue  # links: not needed here
            member.name = name[len(TOP) + 1:]
            tf.extract(member, dest, filter="data")


def _copy(source: Path, dest: Path) -> None:
    for rel in NEEDED:
        src = source / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, symlinks=True, dirs_exist_ok=True)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def make_repo(dest: Path, source: Path | None) -> Path:
    """A git repository at `dest` holding the needed parts of the 6.1 tree in one commit."""
    dest.mkdir(parents=True, exist_ok=True)
    if source is not None:
        _copy(source, dest)
    else:
        _unpack(dest)
    for name in TREE_MARKERS_FILES:
        (dest / name).touch()
    for name in TREE_MARKERS_DIRS:
        (dest / name).mkdir(exist_ok=True)
        (dest / name / ".keep").touch()
    if not (dest / "scripts" / "checkpatch.pl").exists():
        sys.exit("the source has no scripts/checkpatch.pl")
    git(dest, "init", "-q", "-b", "master")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "Linux 6.1 (parts needed by the benchmarks)")
    git(dest, "tag", "base")
    return dest


# -- the series -------------------------------------------------------------------------------
@dataclass
class Func:
    path: str
    name: str
    start: int  # 0-based index of the first line of the definition
    end: int  # 0-based index of the closing brace line
    return_type: str
    params: list[tuple[str, str]]


Editor = Callable[[list[str], Func], str | None]  # edits lines in place, returns a subject verb


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _ret(rt: str, err: str = "-EINTR") -> str:
    rt = rt.replace("static", "").replace("inline", "").strip()
    if rt == "void":
        return "return;"
    if rt.endswith("*"):
        return "return NULL;"
    if rt == "bool":
        return "return false;"
    if rt == "vm_fault_t":
        return "return VM_FAULT_RETRY;"
    if rt.startswith("unsigned") or rt in ("size_t", "pgoff_t"):
        return "return 0;"
    return f"return {err};"


def _body_open(lines: list[str], fn: Func) -> int | None:
    """Index of the line that opens the function body."""
    for i in range(fn.start, fn.end):
        if lines[i].rstrip().endswith("{"):
            return i
    return None


def _after_decls(lines: list[str], fn: Func) -> int | None:
    """Index after which a statement may go: the blank line ending the declarations, or `{`."""
    open_i = _body_open(lines, fn)
    if open_i is None:
        return None
    for i in range(open_i + 1, min(fn.end, open_i + 25)):
        if not lines[i].strip():
            return i
        if lines[i].rstrip().endswith(("{", "(", ",")) and "=" not in lines[i]:
            break
    return open_i


def _single_stmt(lines: list[str], i: int) -> bool:
    """Line i is a whole statement whose removal keeps the code C."""
    prev = lines[i - 1].rstrip()
    nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
    return lines[i].rstrip().endswith(";") and (
        prev.endswith((";", "{", "}")) or not prev.strip()) and not nxt.startswith("else")


def edit_comment(lines: list[str], fn: Func) -> str | None:
    open_i = _body_open(lines, fn)
    if open_i is None:
        return None
    lines.insert(open_i + 1, f"\t/* {fn.name}(): callers rely on the notifier range below. */")
    return "document what callers rely on"


_IF_NOT = re.compile(r"^(\s*)if \(!([A-Za-z_][\w>.-]*)\)$")


def edit_unlikely(lines: list[str], fn: Func) -> str | None:
    for i in range(fn.start, fn.end):
        m = _IF_NOT.match(lines[i].rstrip())
        if m and "unlikely" not in lines[i]:
            lines[i] = f"{m.group(1)}if (unlikely(!{m.group(2)}))"
            return f"mark the !{m.group(2)} case unlikely"
    return None


_START = re.compile(r"^(\s*)mmu_notifier_invalidate_range_start\(.*\);\s*$")


def edit_bracketing(lines: list[str], fn: Func) -> str | None:
    body = "\n".join(lines[fn.start:fn.end])
    if "mmu_notifier_invalidate_range_end(" not in body:
        return None
    for i in range(fn.start, fn.end):
        m = _START.match(lines[i])
        if m:
            ind = m.group(1)
            lines[i + 1:i + 1] = [f"{ind}if (fatal_signal_pending(current))",
                                  f"{ind}\t{_ret(fn.return_type)}"]
            return "bail out early on a fatal signal"
    return None


_SPIN = re.compile(r"^(\s*)spin_lock(_irq|_bh)?\(.*\);\s*$")


def edit_atomic_sleep(lines: list[str], fn: Func) -> str | None:
    for i in range(fn.start, fn.end):
        m = _SPIN.match(lines[i])
        if m:
            lines.insert(i + 1, f"{m.group(1)}cond_resched();")
            return "let others run while walking"
    return None


_THP_SWAPS = (("HPAGE_PMD_SIZE", "PAGE_SIZE"), ("vma_address_end(&pvmw)", "address + PAGE_SIZE"),
              ("folio_size(folio)", "PAGE_SIZE"), ("page_size(page)", "PAGE_SIZE"))


def edit_thp_range(lines: list[str], fn: Func) -> str | None:
    for i in range(fn.start, fn.end):
        if "mmu_notifier_range_init" not in lines[i] and "range.end =" not in lines[i]:
            continue
        j = i
        while j < fn.end and not lines[j].rstrip().endswith(";"):
            j += 1
        for k in range(i, j + 1):
            for old, new in _THP_SWAPS:
                if old in lines[k]:
                    lines[k] = lines[k].replace(old, new, 1)
                    return "notify only the page that changes"
    return None


_PUT = re.compile(r"^\s*(mmput|mmdrop|put_page|folio_put|mmu_notifier_put|mmput_async|"
                  r"put_task_struct|kref_put)\(.*\);\s*$")
_GETS = ("mmget_not_zero(", "get_task_mm(", "mmgrab(", "get_page(", "folio_get(", "kref_get(",
         "mmu_notifier_get(", "get_task_struct(", "mmget(", "folio_try_get(")


def edit_refcount(lines: list[str], fn: Func) -> str | None:
    body = "\n".join(lines[fn.start:fn.end])
    if not any(g in body for g in _GETS):
        return None
    for i in range(fn.end - 1, fn.start, -1):
        if _PUT.match(lines[i]) and _single_stmt(lines, i):
            del lines[i]
            return "drop a put the callers no longer need"
    return None


_NOTIFIER_ARG = re.compile(r"struct mmu_(interval_)?notifier(_range)? \*")


def edit_null_check(lines: list[str], fn: Func) -> str | None:
    target = next((name for ty, name in fn.params if _NOTIFIER_ARG.search(ty) and name), None)
    if target is None:
        return None
    at = _after_decls(lines, fn)
    if at is None:
        return None
    ret = _ret(fn.return_type, "0")
    lines[at + 1:at + 1] = [f"\tif (!{target})", f"\t\t{ret}", ""]
    return f"be defensive about a NULL {target}"


EDITORS: dict[str, list[Editor]] = {
    "clean": [edit_comment, edit_unlikely],
    "bracketing": [edit_bracketing],
    "atomic-sleep": [edit_atomic_sleep],
    "thp-range": [edit_thp_range],
    "refcount": [edit_refcount],
    "null-check": [edit_null_check],
}


def target_files(repo: Path) -> list[str]:
    """C files of mm/ and the drivers that mention mmu notifiers (sorted)."""
    out = []
    for top in ("mm", *DRIVERS):
        for p in sorted((repo / top).rglob("*.c")):
            text = p.read_bytes()
            if b"mmu_notifier" in text or b"mmu_interval_notifier" in text:
                out.append(str(p.relative_to(repo)))
    return sorted(set(out))


def _functions(repo: Path, path: str) -> tuple[list[str], list[Func]]:
    data = (repo / path).read_bytes()
    lines = data.decode("utf-8", "replace").split("\n")
    fns = [Func(path, fd.name, fd.start_line - 1, fd.end_line - 1, fd.return_type, fd.params)
           for fd in functions(parse_c(data)) if not fd.has_error]
    return lines, fns


def _subject_prefix(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    if parts[0] == "mm":
        return "mm/" + "/".join(parts[1:]) if len(parts) > 2 else f"mm/{parts[-1]}"
    return ("drm/" if "drm" in parts else "") + parts[-2]


def plan(n: int) -> list[str]:
    """The kind of each patch: a defect of every family in each block of ten, the rest clean."""
    kinds = []
    block = ["clean", "bracketing", "clean", "atomic-sleep", "clean", "thp-range", "clean",
             "refcount", "clean", "null-check"]
    for i in range(n):
        kinds.append(block[i % len(block)])
    return kinds


def _try_edit(repo: Path, files: list[str], kind: str, used: set[tuple[str, str, str]],
              rng: random.Random) -> tuple[str, str, str] | None:
    order = list(files)
    rng.shuffle(order)
    for path in order:
        lines, fns = _functions(repo, path)
        rng.shuffle(fns)
        for fn in fns:
            if (path, fn.name, kind) in used:
                continue
            editors = list(EDITORS[kind])
            rng.shuffle(editors)
            for editor in editors:
                trial = list(lines)
                verb = editor(trial, fn)
                if verb is None:
                    continue
                (repo / path).write_text("\n".join(trial), encoding="utf-8")
                used.add((path, fn.name, kind))
                return path, fn.name, verb
    return None


def make_series(repo: Path, n: int, seed: int = 1) -> list[tuple[str, str]]:
    """Commit `n` patches on top of the current HEAD; returns (kind, subject) per patch."""
    rng = random.Random(seed)
    files = target_files(repo)
    used: set[tuple[str, str, str]] = set()
    made: list[tuple[str, str]] = []
    for i, kind in enumerate(plan(n)):
        edit = _try_edit(repo, files, kind, used, rng)
        if edit is None:  # that family ran out of places: a clean edit instead
            kind = "clean"
            edit = _try_edit(repo, files, kind, used, rng)
            if edit is None:
                sys.exit("no function left to edit")
        path, fname, verb = edit
        touched = [path]
        if i % 4 == 3:  # some patches touch a second file
            more = _try_edit(repo, [f for f in files if f != path], "clean", used, rng)
            if more is not None:
                touched.append(more[0])
        subject = f"{_subject_prefix(path)}: {fname}: {verb}"
        message = (f"{subject}\n\nThis is generated patch {i + 1} of {n} of the benchmark series "
                   f"({kind}).\n\nSigned-off-by: Bench Author <bench@example.org>\n")
        git(repo, "add", *touched)
        git(repo, "commit", "-q", "-m", message)
        made.append((kind, subject))
    return made


def format_patches(repo: Path, rev_range: str, out_dir: Path) -> list[Path]:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    names = git(repo, "format-patch", "-o", str(out_dir), rev_range).split()
    return [Path(p) for p in names]

"""The terse text voice: `FILE:LINE: SEVERITY: [rule] function(): message`, checkpatch-like.

Flow position: voices.  A header per patch, the path notes indented under each finding, and a
closing summary line with the mode (tree or fragment) the review ran in.
"""

from __future__ import annotations

from collections.abc import Iterable

from reviewer.engine.findings import Finding
from reviewer.engine.review import Report


def finding_lines(f: Finding, with_path: bool = True, total: int | None = None) -> list[str]:
    lines = [f"{f.file}:{f.line}: {f.severity}: [{f.rule}] {f.function}(): {f.message}"]
    if with_path:
        for step in f.path:
            where = f"{step.file}:{step.line}" if step.file != f.file else f"line {step.line}"
            lines.append(f"    {where}: {step.note}")
    if f.fixed_by is not None:
        lines.append(f"    (removed later in the series by patch {f.fixed_by}"
                     + (f"/{total})" if total else ")"))
    if f.suppressed:
        lines.append(f"    (suppressed: {f.suppressed})")
    return lines


def _count(findings: Iterable[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    return f"{errors} error{'s' if errors != 1 else ''}, " \
           f"{warnings} warning{'s' if warnings != 1 else ''}"


def render_text(report: Report) -> str:
    out: list[str] = []
    shown = [f for f in report.findings if not f.suppressed]
    if report.mode == "scan":
        out.append(f"notifier-review: scan of {report.files_scanned} files, "
                   f"kernel {report.kernel}")
        for f in shown:
            out += finding_lines(f)
    else:
        total = len(report.results)
        out.append(f"notifier-review: mode {report.mode}, kernel {report.kernel}")
        for res in report.results:
            p = res.patch
            ident = f" ({p.commit[:12]})" if p.commit else ""
            label = f"[{p.index}/{p.total}] " if p.index is not None and p.total else ""
            out.append(f"--- {label}{p.clean_subject or p.subject}{ident}")
            pf = [f for f in res.findings if not f.suppressed]
            if not pf:
                out.append("    no findings")
            for f in pf:
                out += finding_lines(f, total=total)
    for note in report.notes:
        out.append(f"note: {note}")
    if report.functions_bounded:
        out.append("note: path exploration was bounded in "
                   + ", ".join(report.functions_bounded[:10])
                   + (" ..." if len(report.functions_bounded) > 10 else "")
                   + "; findings there may be incomplete")
    if report.functions_skipped:
        out.append("note: not analysed (the hunks do not show them whole or they do not parse): "
                   + ", ".join(report.functions_skipped[:10])
                   + (" ..." if len(report.functions_skipped) > 10 else ""))
    what = (f"{report.files_scanned} files" if report.mode == "scan"
            else f"{len(report.results)} patch{'es' if len(report.results) != 1 else ''}")
    out.append(f"total: {_count(shown)} in {what}, {report.functions_analysed} functions "
               f"analysed (mode: {report.mode})")
    return "\n".join(out) + "\n"

"""The JSON voice: one object with the mode, the patches and a flat list of findings.

Flow position: voices.  The schema is documented in the README ("JSON output").
"""

from __future__ import annotations

import json

from reviewer.engine.review import Report


def report_dict(report: Report) -> dict:
    patches = []
    for res in report.results:
        p = res.patch
        patches.append({
            "index": p.index,
            "total": p.total,
            "subject": p.subject,
            "commit": p.commit,
            "message_id": p.message_id,
        })
    return {
        "mode": report.mode,
        "kernel": report.kernel,
        "patches": patches,
        "findings": [f.to_json() for f in report.findings if not f.suppressed],
        "suppressed": [f.to_json() for f in report.findings if f.suppressed],
        "notes": report.notes,
        "stats": {
            "files_scanned": report.files_scanned,
            "functions_analysed": report.functions_analysed,
            "functions_skipped": report.functions_skipped,
            "functions_bounded": report.functions_bounded,
        },
    }


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=False) + "\n"

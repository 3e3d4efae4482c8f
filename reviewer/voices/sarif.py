"""The SARIF voice: a SARIF 2.1.0 log for code-scanning dashboards and editors.

Flow position: voices.  One run; the tool's driver lists every rule of the registry (id, summary
as the short description, the kernel reason as the full description and help, the bad and good
examples in the help's markdown, the default severity as the default level, the family as a
property).  Each finding is a result with its location (file, line, the function as a logical
location), the path that leads to it as a code flow, its line-independent fingerprint in
`partialFingerprints`, and, when a suppression matched, a `suppressions` entry carrying the reason.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePosixPath

from reviewer import __version__
from reviewer.engine.findings import Finding
from reviewer.engine.review import Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "notifierReview/v1"


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def _uri(path: str) -> dict:
    if os.path.isabs(path):
        return {"uri": PurePosixPath(path).as_uri()}
    return {"uri": path.replace(os.sep, "/"), "uriBaseId": "SRCROOT"}


def _physical(path: str, line: int) -> dict:
    return {"artifactLocation": _uri(path), "region": {"startLine": max(int(line), 1)}}


def rule_descriptors() -> list[dict]:
    from reviewer.engine.registry import all_rules

    out = []
    for r in all_rules():
        reason = " ".join(r.reason.split())
        markdown = (f"{reason}\n\nBad:\n\n```c\n{r.bad.rstrip()}\n```\n\n"
                    f"Good:\n\n```c\n{r.good.rstrip()}\n```\n")
        out.append({
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": reason},
            "help": {"text": reason, "markdown": markdown},
            "defaultConfiguration": {"level": _level(r.severity)},
            "properties": {"family": r.family, "tags": [r.family]},
        })
    return out


def _result(f: Finding, rule_index: dict[str, int]) -> dict:
    res: dict = {
        "ruleId": f.rule,
        "level": _level(f.severity),
        "message": {"text": " ".join(f.message.split())},
        "locations": [{
            "physicalLocation": _physical(f.file, f.line),
            "logicalLocations": [{"name": f.function, "kind": "function"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"family": f.family},
    }
    if f.rule in rule_index:
        res["ruleIndex"] = rule_index[f.rule]
    if f.path:
        res["codeFlows"] = [{
            "threadFlows": [{
                "locations": [
                    {"location": {"physicalLocation": _physical(s.file, s.line),
                                  "message": {"text": s.note}}}
                    for s in f.path
                ],
            }],
        }]
    if f.patch is not None:
        res["properties"]["patch"] = f.patch
    if f.fixed_by is not None:
        res["properties"]["fixedByPatch"] = f.fixed_by
    if f.suppressed:
        res["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": f.suppressed}]
    return res


def sarif_log(report: Report, root: str | None = None) -> dict:
    rules = rule_descriptors()
    index = {r["id"]: i for i, r in enumerate(rules)}
    run: dict = {
        "tool": {"driver": {
            "name": "notifier-review",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": rules,
        }},
        "originalUriBaseIds": {"SRCROOT": {
            "uri": PurePosixPath(os.path.abspath(root or os.getcwd())).as_uri() + "/"}},
        "results": [_result(f, index) for f in report.findings],
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"message": {"text": note}, "level": "note"} for note in report.notes
            ],
        }],
        "properties": {"mode": report.mode, "kernel": report.kernel,
                       "functionsAnalysed": report.functions_analysed},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report, args=None) -> str:
    root = getattr(args, "directory", None) if args is not None else None
    return json.dumps(sarif_log(report, root), indent=2) + "\n"

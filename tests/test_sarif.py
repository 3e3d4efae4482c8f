"""`--format sarif` (issue 6): SARIF 2.1.0 with rule metadata, locations, code flows for the path
and the fingerprint in partialFingerprints, validated against the SARIF schema.

The schema is tests/data/sarif-2.1.0-subset.schema.json: no installed package ships the official
schema file, so it is a subset written from the SARIF 2.1.0 specification for the objects the tool
emits, closed (additionalProperties false) so a misplaced property fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import git
import jsonschema
import pytest
from sources_support import commit
from workflow_support import BUG_RULE, DATA, ZAP_CLEAN, bug_tree, run_tool

from reviewer.engine.registry import all_rules


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return bug_tree(tmp_path)


def _sarif(root: Path, *args: str) -> tuple[int, dict]:
    proc = run_tool([*args, "--format", "sarif"], root)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def test_check_range_as_sarif(tree: Path, validator) -> None:
    rc, log = _sarif(tree, "check", "HEAD~1..HEAD")
    validator.validate(log)
    assert rc == 1 and log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    (res,) = run["results"]
    rule = rules[res["ruleIndex"]]
    assert res["ruleId"] == rule["id"] == BUG_RULE
    assert rule["defaultConfiguration"]["level"] == "error" and rule["help"]["text"]
    assert "Bad:" in rule["help"]["markdown"] and "Good:" in rule["help"]["markdown"]
    loc = res["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == "mm/zap.c"
    assert loc["physicalLocation"]["region"]["startLine"] == 13
    assert loc["logicalLocations"][0]["name"] == "demo_zap"
    steps = res["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps] == [10, 12, 13]
    assert all(s["location"]["message"]["text"] for s in steps)
    # the same fingerprint as the JSON voice
    data = json.loads(run_tool(["check", "HEAD~1..HEAD", "--format", "json"], tree).stdout)
    assert res["partialFingerprints"]["notifierReview/v1"] == data["findings"][0]["fingerprint"]


def test_scan_with_a_suppression_as_sarif(tree: Path, validator) -> None:
    fp = json.loads(run_tool(["scan", "mm", "--format", "json"], tree).stdout)[
        "findings"][0]["fingerprint"]
    (tree / ".notifier-review.toml").write_text(
        f'[[suppress]]\nfingerprint = "{fp}"\nreason = "accepted for now"\n')
    rc, log = _sarif(tree, "scan", "mm")
    validator.validate(log)
    (res,) = log["runs"][0]["results"]
    assert rc == 0
    assert res["suppressions"] == [{"kind": "external", "status": "accepted",
                                    "justification": "accepted for now"}]


def test_clean_run_is_valid_sarif_with_no_results(tree: Path, validator) -> None:
    commit(git.Repo(tree), {"mm/zap.c": ZAP_CLEAN}, "mm: zap: revert")  # removes, adds nothing
    rc, log = _sarif(tree, "check", "HEAD~1..HEAD")
    validator.validate(log)
    assert rc == 0 and log["runs"][0]["results"] == []


def test_the_schema_catches_what_it_should(validator) -> None:
    """The subset schema is not a rubber stamp."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                          "results": [{"ruleId": "r", "level": "fatal",
                                                       "message": {"text": "m"}}]}]}
    assert not validator.is_valid(bad)
    bad["runs"][0]["results"][0]["level"] = "error"
    assert validator.is_valid(bad)
    bad["runs"][0]["results"][0]["codeFlows"] = [{"threadFlows": []}]
    assert not validator.is_valid(bad)

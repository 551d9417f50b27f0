"""KCIDB JSON (schema v5): one checkout, one build, a test per scenario run, and
for KNOWN runs the known issue and an incident linking the test to it.

Valid against kcidb-io's schema as produced, so a shard's file can be
submitted to KernelCI unchanged (`kcidb-submit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.paths import digest
from harness.results.text import clean
from harness.verdict import FAIL, KNOWN, RunResult

if TYPE_CHECKING:
    from harness.results import RunMeta

ORIGIN = "harness"
SCHEMA_VERSION = {"major": 5, "minor": 3}
# Entries are versioned in the known-issue files only by their text; KCIDB wants a number.
ISSUE_VERSION = 1


def kcidb_document(results: list[RunResult], meta: "RunMeta") -> dict:
    checkout_id = f"{ORIGIN}:{digest(meta.kernel_source, meta.git_commit)}"
    build_id = f"{ORIGIN}:{digest(meta.kernel_source, meta.git_commit, meta.bzimage, meta.config_path)}"
    checkout = {"id": checkout_id, "origin": ORIGIN, "comment": meta.kernel_source[:1000]}
    if meta.git_commit:
        checkout["git_commit_hash"] = meta.git_commit
    build = {
        "id": build_id,
        "checkout_id": checkout_id,
        "origin": ORIGIN,
        "architecture": "x86_64",
        "config_name": "harness",
        "status": "PASS",
        "duration": round(meta.build_seconds, 3),
    }
    if meta.compiler:
        build["compiler"] = meta.compiler
    tests = []
    issues: dict[str, dict] = {}
    incidents: list[dict] = []
    for r in results:
        test = {
            "id": f"{ORIGIN}:{meta.run_id}:{r.scenario}:{r.index}",
            "build_id": build_id,
            "origin": ORIGIN,
            # KCIDB paths are dot-separated identifiers; scenario names use dashes.
            "path": "harness." + r.scenario.replace("-", "_"),
            # KCIDB has no KNOWN: the test failed; the incident below links it to its issue.
            "status": FAIL if r.verdict == KNOWN else r.verdict,
            "duration": round(r.duration, 3),
            "comment": clean(r.message, 1000),
            "misc": {"titles": r.titles, "oracle_failures": r.oracle_failures, "error_kind": r.error_kind},
        }
        if r.reproduced:
            test["misc"]["reproduced"] = r.reproduced
        if r.report:
            test["log_excerpt"] = clean(r.report, 16 * 1024)
        tests.append(test)
        for k in r.known:
            issue_id = f"{ORIGIN}:{k['id']}"
            if issue_id not in issues:
                issues[issue_id] = _issue(issue_id, k)
            incidents.append({
                "id": f"{test['id']}:{k['id']}",
                "origin": ORIGIN,
                "issue_id": issue_id,
                "issue_version": ISSUE_VERSION,
                "test_id": test["id"],
                "build_id": build_id,
                "present": True,
            })
    doc = {"version": SCHEMA_VERSION, "checkouts": [checkout], "builds": [build], "tests": tests}
    if issues:
        doc["issues"] = list(issues.values())
        doc["incidents"] = incidents
    return doc


def _issue(issue_id: str, k: dict) -> dict:
    issue = {
        "id": issue_id,
        "version": ISSUE_VERSION,
        "origin": ORIGIN,
        "comment": clean(k.get("comment", ""), 1000),
        # The built code is at fault: these are kernel bugs, not the harness's.
        "culprit": {"code": True, "tool": False, "harness": False},
    }
    if k.get("report_url"):
        issue["report_url"] = k["report_url"]
    return issue

"""KCIDB JSON (schema v5): one checkout, one build, a test per scenario run.

Valid against kcidb-io's schema as produced, so a shard's file can be
submitted to KernelCI unchanged (`kcidb-submit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.paths import digest
from harness.results.text import clean
from harness.verdict import RunResult

if TYPE_CHECKING:
    from harness.results import RunMeta

ORIGIN = "harness"
SCHEMA_VERSION = {"major": 5, "minor": 3}


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
    for r in results:
        test = {
            "id": f"{ORIGIN}:{meta.run_id}:{r.scenario}:{r.index}",
            "build_id": build_id,
            "origin": ORIGIN,
            # KCIDB paths are dot-separated identifiers; scenario names use dashes.
            "path": "harness." + r.scenario.replace("-", "_"),
            "status": r.verdict,
            "duration": round(r.duration, 3),
            "comment": clean(r.message, 1000),
            "misc": {"titles": r.titles, "oracle_failures": r.oracle_failures, "error_kind": r.error_kind},
        }
        if r.report:
            test["log_excerpt"] = clean(r.report, 16 * 1024)
        tests.append(test)
    return {"version": SCHEMA_VERSION, "checkouts": [checkout], "builds": [build], "tests": tests}

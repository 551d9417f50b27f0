"""junit.xml: a test case per scenario run; FAIL -> failure (message = title), ERROR -> error,
KNOWN -> skipped (message = the known issue's id and the title), SKIP -> skipped."""

from __future__ import annotations

from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.results.text import clean
from harness.verdict import ERROR, FAIL, KNOWN, SKIP, RunResult


def junit_case(r: RunResult) -> TestCase:
    case = TestCase(
        name=f"{r.scenario}#{r.index}",
        classname=f"harness.{r.scenario}",
        elapsed_sec=round(r.duration, 3),
        file=r.console_log or None,
    )
    if r.verdict == FAIL:
        case.add_failure_info(message=clean(r.message, 1000), output=clean(r.report))
    elif r.verdict == ERROR:
        case.add_error_info(message=clean(f"{r.error_kind} error: {r.message}", 1000), output=clean(r.report))
    elif r.verdict == KNOWN:
        # junit has no "known failure": skipped, with the issue named, as pytest's xfail reads there.
        ids = ", ".join(k["id"] for k in r.known)
        first = (r.signatures or [r.message])[0]
        case.add_skipped_info(message=clean(f"known issue {ids}: {first}", 1000), output=clean(r.report))
    elif r.verdict == SKIP:
        case.add_skipped_info(message=clean(r.message, 1000))
    return case


def write_junit(path: Path, results: list[RunResult], suite_name: str) -> None:
    suite = TestSuite(f"harness.{suite_name}", [junit_case(r) for r in results])
    path.write_text(to_xml_report_string([suite], encoding="utf-8"))

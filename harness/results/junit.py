"""junit.xml: a test case per scenario run; FAIL -> failure (message = title), ERROR -> error."""

from __future__ import annotations

from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.metrics import run_metrics
from harness.results.text import clean
from harness.verdict import ERROR, FAIL, SKIP, RunResult


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
    elif r.verdict == SKIP:
        case.add_skipped_info(message=clean(r.message, 1000))
    # The scenario's declared metrics (harness/metrics.py), one "key=value" a line, for CI to chart.
    measured = run_metrics(r)
    if measured:
        case.stdout = "\n".join(f"metric {k}={v:g}" for k, v in measured.items())
    return case


def write_junit(path: Path, results: list[RunResult], suite_name: str) -> None:
    suite = TestSuite(f"harness.{suite_name}", [junit_case(r) for r in results])
    path.write_text(to_xml_report_string([suite], encoding="utf-8"))

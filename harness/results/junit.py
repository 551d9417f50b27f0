"""junit.xml: a test case per scenario run; FAIL -> failure (message = title), ERROR -> error,
KNOWN -> skipped (message = the known issue's id and the title), SKIP -> skipped."""

from __future__ import annotations

from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.metrics import run_metrics
from harness.results.text import clean
from harness.verdict import RunResult, Verdict


# How each verdict marks its case (PASS: not at all).
_MARK = {
    Verdict.FAIL: lambda c, r: c.add_failure_info(message=clean(r.message, 1000), output=clean(r.report)),
    Verdict.ERROR: lambda c, r: c.add_error_info(message=clean(f"{r.error_kind} error: {r.message}", 1000),
                                                 output=clean(r.report)),
    Verdict.SKIP: lambda c, r: c.add_skipped_info(message=clean(r.message, 1000)),
    # junit has no "known failure": skipped, naming the issue, as pytest's xfail reads there.
    Verdict.KNOWN: lambda c, r: c.add_skipped_info(message=clean(_known_line(r), 1000), output=clean(r.report)),
}


def _known_line(r: RunResult) -> str:
    ids = ", ".join(k["id"] for k in r.known)
    return f"known issue {ids}: {(r.signatures or [r.message])[0]}"


def junit_case(r: RunResult) -> TestCase:
    case = TestCase(
        name=r.item,
        classname=f"harness.{r.scenario}",
        elapsed_sec=round(r.duration, 3),
        file=r.console_log or None,
    )
    mark = _MARK.get(r.verdict)
    if mark is not None:
        mark(case, r)
    # The scenario's declared metrics (harness/metrics.py), one "key=value" a line, for CI to chart.
    measured = run_metrics(r)
    if measured:
        case.stdout = "\n".join(f"metric {k}={v:g}" for k, v in measured.items())
    return case


def write_junit(path: Path, results: list[RunResult], suite_name: str) -> None:
    suite = TestSuite(f"harness.{suite_name}", [junit_case(r) for r in results])
    path.write_text(to_xml_report_string([suite], encoding="utf-8"))

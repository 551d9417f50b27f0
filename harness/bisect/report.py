"""A BisectResult rendered: the text summary, the JSON document, junit."""

from __future__ import annotations

import json
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness import known
from harness.bisect.model import BAD, BAD_ENDPOINT, GOOD_ENDPOINT, SKIP, BisectResult, Step
from harness.results.text import clean

_ROLE = {BAD_ENDPOINT: "BAD", GOOD_ENDPOINT: "GOOD"}


def _runs(step: Step) -> str:
    return f"{len(step.runs)}/{step.planned_runs}"


def _labels(result: BisectResult, step: str = "") -> list[str]:
    """ "BAD"/"GOOD" for the endpoints, ``step`` + 1, 2... for the bisection steps, in order."""
    labels, n = [], 0
    for s in result.steps:
        if s.role in _ROLE:
            labels.append(_ROLE[s.role])
        else:
            n += 1
            labels.append(f"{step}{n}")
    return labels


def _titles(step: Step, scenario: str, issues: list[known.KnownIssue]) -> str:
    """The step's titles; known issues are marked only: their signatures still count as bad."""
    if step.verdict == SKIP:
        return step.reason
    return "; ".join(t + (f" [known: {k}]" if (k := known.known_signature(scenario, t, issues)) else "")
                     for t in step.titles) or "-"


def text(result: BisectResult, meta: dict, width: int = 110) -> str:
    """What a person reads: answer first, then the per-step log."""
    lines = []
    if result.culprit:
        lines.append(f"culprit: {result.culprit.commit} {result.culprit.subject}")
        lines.append(f"confidence: {result.confidence:.3f}")
    else:
        lines.append(f"no single culprit: skipped commits leave {len(result.candidates)} candidates:")
        lines += [f"  {c.commit} {c.subject}" for c in result.candidates]
    lines.append(f"target: {result.target} ({result.target.kind})")
    lines.append(
        f"reproduction rate: {result.rate:.2f} ({result.reproduced}/{result.endpoint_runs} runs at BAD); "
        f"{result.runs_per_step} runs per step"
    )
    lines.append(f"scenario: {meta.get('scenario', '?')}, {meta.get('duration', '?')} s per run; "
                 f"{result.bisect_steps} bisection steps after the endpoints")
    rows = [("step", "commit", "verdict", "runs", "time", "titles")]
    issues, scenario = known.load(), meta.get("scenario", "")
    for label, s in zip(_labels(result), result.steps):
        rows.append((label, s.commit[:12], s.verdict, _runs(s), f"{s.seconds:.0f}s", _titles(s, scenario, issues)))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    room = max(20, width - sum(w) - 10)
    for r in rows:
        t = r[5] if len(r[5]) <= room else r[5][: room - 1] + "…"
        lines.append(f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]:>{w[3]}}  {r[4]:>{w[4]}}  {t}")
    if meta.get("results"):
        lines.append(f"logs: {meta['results']}")
    return "\n".join(lines)


def document(result: BisectResult, meta: dict) -> dict:
    """The JSON document (``--json`` and bisect.json)."""
    return {"bisect": meta, **result.to_dict()}


def write_json(path: Path, result: BisectResult, meta: dict) -> None:
    path.write_text(json.dumps(document(result, meta), indent=2) + "\n")


def junit(result: BisectResult, meta: dict) -> str:
    """One case per commit tested (bad -> failure, skip -> skipped) and one for the answer."""
    suite_name = f"harness.bisect-{meta.get('id', '')}".rstrip("-")
    cases = []
    for label, s in zip(_labels(result, step="step "), result.steps):
        case = TestCase(
            name=f"{label} {s.commit[:12]} {clean(s.subject, 200)}",
            classname=f"harness.bisect.{meta.get('scenario', 'scenario')}",
            elapsed_sec=s.seconds,
            file=s.log_dir or None,
        )
        detail = clean("\n".join(f"run {r.index}: {r.verdict} {'; '.join(r.signatures) or r.message}"
                                 f" ({r.log})" for r in s.runs))
        if s.verdict == BAD:
            case.add_failure_info(message=clean(f"{result.target} ({s.reason})", 1000), output=detail)
        elif s.verdict == SKIP:
            case.add_skipped_info(message=clean(f"skipped: {s.reason}", 1000))
        cases.append(case)
    answer = TestCase(name="culprit", classname="harness.bisect", elapsed_sec=sum(s.seconds for s in result.steps))
    if result.culprit:
        answer.stdout = clean(f"{result.culprit.commit} {result.culprit.subject}\nconfidence {result.confidence:.3f}")
    else:
        answer.add_error_info(
            message=f"no single culprit: {len(result.candidates)} candidates left by skipped commits",
            output=clean("\n".join(f"{c.commit} {c.subject}" for c in result.candidates)),
        )
    cases.append(answer)
    return to_xml_report_string([TestSuite(suite_name, cases)], encoding="utf-8")


def write_junit(path: Path, result: BisectResult, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit(result, meta))

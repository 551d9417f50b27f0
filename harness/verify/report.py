"""A verify's outcome, rendered: LKP-style text table, JSON, junit.

The table follows LKP's parent-vs-commit layout: a column per side with
"runs showing it : runs", the p-value, then the row's name, so long report
titles never push the numbers out of line.
"""

from __future__ import annotations

import json
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness import known
from harness.metrics import MetricRow
from harness.results.text import clean
from harness.verify.compare import BASELINE, PATCHED, VERDICT_ERROR, Row
from harness.verify.core import Outcome


def fmt_p(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _row_name(r: Row) -> str:
    return f"{r.scenario}: {r.signature}"


def _known_marks(rows: list[Row]) -> dict[Row, str]:
    """Each row's shipped known issue, "" for none: statistics unchanged, only marked.
    The list is read once per rendering, not once per row."""
    issues = known.load()
    return {r: known.known_signature(r.scenario, r.signature, issues) for r in rows}


def _metric_name(m: MetricRow) -> str:
    return m.signature.removeprefix(f"metric: {m.scenario} ")


def _verdict_line(o: Outcome) -> str:
    c = o.comparison
    if c.verdict == VERDICT_ERROR:
        return f"verdict: error ({c.error_side} side): {c.error}"
    if c.introduced or c.metrics_worse:
        what = [f"{_row_name(r)} ({r.baseline}:{r.baseline_runs} -> {r.patched}:{r.patched_runs})" for r in c.introduced]
        what += [m.signature for m in c.metrics_worse]
        return f"verdict: regression: {len(what)} signature(s) introduced on patched: {'; '.join(what)}"
    if c.fixed or c.metrics_better:
        what = [f"{_row_name(r)} ({r.baseline}:{r.baseline_runs} -> {r.patched}:{r.patched_runs})" for r in c.fixed]
        what += [m.signature for m in c.metrics_better]
        return f"verdict: fixes: {len(what)} signature(s) significantly less frequent or better on patched: {'; '.join(what)}"
    return f"verdict: no-change (no signature new or significantly different at p < {c.alpha:g})"


def text(o: Outcome) -> str:
    c = o.comparison
    req = o.request
    marks = _known_marks(c.rows)
    lines = [f"verify: {len(o.patches)} patch{'es' * (len(o.patches) != 1)} on {o.tree}"]
    for p in o.patches:
        lines.append(f"  {p.label}" + (f" ({p.applied_with})" if p.applied_with else ""))
    lines.append(f"checkpatch: {o.checkpatch.summary}")
    lines.append(f"runs: {req.sizing.describe()}")
    lines.append("")
    head = f"{BASELINE:>12}  {PATCHED:>12}  {'p':>8}  {'change':<16}  "
    sub = f"{'fail:runs':>12}  {'fail:runs':>12}  {'':>8}  {'':<16}  "
    rule = "-" * 78
    lines += [head.rstrip(), sub.rstrip(), rule]
    b, p = c.sides.get(BASELINE), c.sides.get(PATCHED)
    if b is not None and p is not None:
        lines.append(f"{b.boot_successes:>12}  {p.boot_successes:>12}  {'':>8}  {'':<16}  boot successes")
        lines.append(f"{b.boot_failures:>12}  {p.boot_failures:>12}  {fmt_p(c.boot_p):>8}  {'':<16}  boot failures")
    for r in c.rows:
        change = r.change + (" (new)" if r.new and r.change == "introduced" else "")
        lines.append(
            f"{f'{r.baseline}:{r.baseline_runs}':>12}  {f'{r.patched}:{r.patched_runs}':>12}  {fmt_p(r.p):>8}"
            f"  {change:<16}  {_row_name(r)}" + (f"  [known: {k}]" if (k := marks[r]) else "")
        )
    if not c.rows and c.verdict != VERDICT_ERROR:
        lines.append(f"{'':>12}  {'':>12}  {'':>8}  {'':<16}  (no signature on either side)")
    if c.metric_rows:
        lines.append(f"{'median':>12}  {'median':>12}  {'':>8}  {'':<16}  metrics (rank test; change needs p < alpha and the effect)")
        for m in c.metric_rows:
            change = m.change or ""
            lines.append(f"{_fmt_num(m.old_median):>12}  {_fmt_num(m.new_median):>12}  {fmt_p(m.p):>8}  {change:<16}"
                         f"  {m.scenario}: {m.key} (x{m.ratio:.3g}, effect x{m.min_effect:g}; {len(m.old)} vs {len(m.new)} runs)")
    lines.append(rule)
    lines.append(_verdict_line(o))
    for note in c.notes:
        lines.append(f"note: {note}")
    lines.append(f"results: {req.run_dir}")
    return "\n".join(lines)


def _fmt_num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def to_json(o: Outcome) -> dict:
    c = o.comparison
    req = o.request
    marks = _known_marks(c.rows)
    return {
        "verdict": c.verdict,
        "error_side": c.error_side,
        "error": c.error,
        "introduced": [r.to_json() for r in c.introduced],
        "fixed": [r.to_json() for r in c.fixed],
        "checkpatch": o.checkpatch.to_json(),
        "rows": [dict(r.to_json(), change=r.change, known=marks[r]) for r in c.rows],
        "metrics": [m.to_json() for m in c.metric_rows],
        "boot": {side: s.to_json() for side, s in c.sides.items()},
        "boot_p": c.boot_p,
        "alpha": c.alpha,
        "min_effect": req.min_effect,
        "notes": c.notes,
        "kernel": str(o.tree),
        "patched_tree": str(o.copy) if o.copy else "",
        "kernels": o.kernels,
        "patches": [
            {"label": p.label, "source": str(p.source), "kind": p.kind, "subject": p.subject,
             "files": list(p.files), "applied_with": p.applied_with}
            for p in o.patches
        ],
        "scenarios": [s.name for s in req.scenarios],
        "runs": req.sizing.runs,
        "durations": req.sizing.durations,
        "workers": req.sizing.workers,
        "cancelled": o.cancelled,
        "exit_code": o.exit_code,
        "results_dir": str(req.run_dir),
    }


def junit_xml(o: Outcome) -> str:
    c = o.comparison
    cases = []
    verdict = TestCase("verdict", classname="harness.verify")
    line = clean(_verdict_line(o), 1000)
    if c.verdict == VERDICT_ERROR:
        verdict.add_error_info(message=line)
    elif c.introduced or c.metrics_worse:
        verdict.add_failure_info(message=line)
    else:
        verdict.stdout = line
    cases.append(verdict)
    for r in c.rows:
        case = TestCase(clean(r.signature, 1000), classname=f"harness.verify.{r.scenario}")
        counts = f"baseline {r.baseline}:{r.baseline_runs}, patched {r.patched}:{r.patched_runs}, p={fmt_p(r.p)}"
        if r.change == "introduced":
            case.add_failure_info(message=clean(f"introduced{' (new)' if r.new else ''}: {counts}", 1000))
        else:
            case.stdout = f"{r.change or 'unchanged'}: {counts}"
        cases.append(case)
    for m in c.metric_rows:
        case = TestCase(clean(f"metric {m.key}", 1000), classname=f"harness.verify.{m.scenario}")
        if m.change == "worse":
            case.add_failure_info(message=clean(m.signature, 1000))
        else:
            case.stdout = f"{m.change or 'unchanged'}: {m.signature}"
        cases.append(case)
    cp = TestCase("checkpatch", classname="harness.verify")
    if o.checkpatch.available:
        cp.stdout = clean("\n".join(f"{p.label}: {p.summary}" for p in o.checkpatch.patches))
    else:
        cp.add_skipped_info(message=clean(o.checkpatch.summary, 1000))
    cases.append(cp)
    return to_xml_report_string([TestSuite("harness.verify", cases)], encoding="utf-8")


def write_all(o: Outcome, junit: Path | None = None) -> dict[str, Path]:
    """verify.json, report.txt, junit.xml and index.html into the run dir (and junit to ``junit`` too)."""
    run_dir = o.request.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    out = {"json": run_dir / "verify.json", "text": run_dir / "report.txt", "junit": run_dir / "junit.xml"}
    doc = to_json(o)
    out["json"].write_text(json.dumps(doc, indent=2) + "\n")
    out["text"].write_text(text(o) + "\n")
    xml = junit_xml(o)
    out["junit"].write_text(xml)
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(xml)
        out["junit_copy"] = junit
    from harness.results.verify_page import render_verify

    out["page"] = render_verify(run_dir, doc)
    return out

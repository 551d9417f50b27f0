"""`harness compare OLD NEW`: what changed between two runs' results (nightly CI).

Per scenario and signature: runs showing it on each side, and Fisher's exact
test, from verify's own comparison (harness/verify/compare.py); this module
only sorts verify's rows into the four classes a nightly reader wants:

- new: never seen in OLD, seen in NEW;
- fixed: seen in OLD, never in NEW;
- still failing: seen on both sides, in every completed run of both, or
  significantly more or less often;
- flaky: seen on both sides, some runs only, no significant difference.

Exit 1 only on a significant new signature (p < alpha), or a declared metric
worse beyond its minimum effect (harness/metrics.py, the rank test verify
uses): a signature seen once in one run is listed, with its p-value, but
does not fail the comparison.
A KNOWN run counts as the FAIL it is (KCIDB's reading); its signatures are
marked with the known issue's id.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import known as known_mod
from harness import metrics
from harness.argtypes import fraction
from harness.errors import EXIT_FAIL, EXIT_OK
from harness.results.compare_page import CLASSES, FIXED, FLAKY, NEW, STILL_FAILING, CompareRow, render_compare
from harness.verdict import RunResult, load_results
from harness.verify.compare import ANY_FAILURE, ALPHA, Row, compare as verify_compare
from harness.verify.report import fmt_p


def significant_new(row: CompareRow, alpha: float = ALPHA) -> bool:
    return row.status == NEW and row.p is not None and row.p < alpha


@dataclass
class RunComparison:
    old: Path
    new: Path
    rows: list[CompareRow]
    notes: list[str]
    alpha: float = ALPHA
    # The scenarios' declared metrics, OLD against NEW (harness/metrics.py): rank test and minimum effect.
    metric_rows: list[metrics.MetricRow] = field(default_factory=list)

    @property
    def worse_metrics(self) -> list[metrics.MetricRow]:
        return [m for m in self.metric_rows if m.change == metrics.WORSE]

    @property
    def exit_code(self) -> int:
        bad = any(significant_new(r, self.alpha) for r in self.rows) or self.worse_metrics
        return EXIT_FAIL if bad else EXIT_OK


def _classify(r: Row, alpha: float) -> str:
    if r.baseline == 0:
        return NEW
    if r.patched == 0:
        return FIXED
    always = r.baseline == r.baseline_runs and r.patched == r.patched_runs
    return STILL_FAILING if always or r.p < alpha else FLAKY


def compare_runs(old: list[RunResult], new: list[RunResult], issues: list[known_mod.KnownIssue] = (),
                 *, alpha: float = ALPHA, min_effect: float = metrics.MIN_EFFECT,
                 old_dir: Path = Path("OLD"), new_dir: Path = Path("NEW")) -> RunComparison:
    # KNOWN runs count: verdict.COMPLETED has them. verify's comparison also ranks the metrics.
    cmp = verify_compare(old, new, alpha=alpha, min_effect=min_effect)
    rows = []
    for r in cmp.rows:
        if r.signature == ANY_FAILURE:
            continue  # verify's aggregate row; a nightly reads signatures
        rows.append(CompareRow(r.scenario, r.signature, _classify(r, alpha), r.baseline, r.baseline_runs,
                               r.patched, r.patched_runs, r.p,
                               known_mod.known_signature(r.scenario, r.signature, list(issues))))
    rows.sort(key=lambda x: (CLASSES.index(x.status), x.p, x.scenario, x.signature))
    notes = list(cmp.notes)
    only_old = sorted({r.scenario for r in old} - {r.scenario for r in new})
    only_new = sorted({r.scenario for r in new} - {r.scenario for r in old})
    if only_old:
        notes.append(f"only in OLD, not compared: {', '.join(only_old)}")
    if only_new:
        notes.append(f"only in NEW, not compared: {', '.join(only_new)}")
    if cmp.error:
        notes.append(cmp.error)
    return RunComparison(old_dir, new_dir, rows, notes, alpha, cmp.metric_rows)


def compare_dirs(old_dir: Path, new_dir: Path, issues: list[known_mod.KnownIssue] = (), alpha: float = ALPHA,
                 min_effect: float = metrics.MIN_EFFECT) -> RunComparison:
    return compare_runs(load_results(old_dir), load_results(new_dir), issues, alpha=alpha, min_effect=min_effect,
                        old_dir=Path(old_dir), new_dir=Path(new_dir))


def text(c: RunComparison) -> str:
    lines = [f"compare: {c.old} -> {c.new}", "",
             f"{'old':>9}  {'new':>9}  {'p':>8}  {'change':<14}  signature", "-" * 78]
    for r in c.rows:
        name = f"{r.scenario}: {r.signature}" + (f"  [known: {r.known}]" if r.known else "")
        lines.append(f"{r.old:>4}:{r.old_runs:<4}  {r.new:>4}:{r.new_runs:<4}  {fmt_p(r.p):>8}  {r.status:<14}  {name}")
    if not c.rows:
        lines.append("(no signature on either side)")
    changed = [m for m in c.metric_rows if m.change]
    if c.metric_rows:
        lines.append("")
        lines += [f"{m.change:<7} {m.signature}" for m in changed]
        lines.append(f"metrics: {len(changed)} of {len(c.metric_rows)} changed beyond their minimum effect at p < {c.alpha:g}")
    lines.append("")
    lines += [f"note: {n}" for n in c.notes]
    sig = [r for r in c.rows if significant_new(r, c.alpha)]
    news = [r for r in c.rows if r.status == NEW]
    if sig:
        lines.append(f"compare: {len(sig)} new signature(s) significant at p < {c.alpha:g}: "
                     + "; ".join(f"{r.scenario}: {r.signature} (p {fmt_p(r.p)})" for r in sig))
    elif news:
        lines.append(f"compare: {len(news)} new signature(s), none significant at p < {c.alpha:g} (more runs would tell)")
    else:
        lines.append("compare: no new signature")
    if c.worse_metrics:
        lines.append(f"compare: {len(c.worse_metrics)} metric(s) worse: " + "; ".join(m.signature for m in c.worse_metrics))
    return "\n".join(lines)


def to_json(c: RunComparison) -> dict:
    return {"old": str(c.old), "new": str(c.new), "alpha": c.alpha, "exit_code": c.exit_code,
            "rows": [asdict(r) for r in c.rows], "metrics": [m.to_json() for m in c.metric_rows], "notes": c.notes}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="what changed between two results directories: new, still failing, fixed, flaky",
        description="Compare two runs' results per scenario and signature (Fisher's exact test, as verify). "
        "Exit 0: no significant new signature; 1: a new signature at p < alpha; 2: bad input.",
    )
    p.add_argument("old", help="the earlier results directory (e.g. last night's results/<run id>)")
    p.add_argument("new", help="the later results directory")
    p.add_argument("--known", action="append", default=[], metavar="FILE",
                   help="extra known-issue file (repeatable; 'none' turns every list off, the shipped one included)")
    p.add_argument("--alpha", type=fraction, default=ALPHA, help=f"significance level (default: {ALPHA})")
    metrics.add_min_effect_option(p)
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    issues = known_mod.load(args.known)
    c = compare_dirs(Path(args.old), Path(args.new), issues, args.alpha, args.min_effect)
    page = write_page(c, Path(args.new) / "compare.html")
    print(json.dumps(to_json(c), indent=2) if args.json else text(c), flush=True)
    # Last, and on stderr with --json so stdout stays one JSON document.
    print(f"page: {page}", file=sys.stderr if args.json else sys.stdout, flush=True)
    return c.exit_code


def write_page(c: RunComparison, out: Path) -> Path:
    return render_compare(c.rows, out, old=c.old, new=c.new, exit_code=c.exit_code, notes=c.notes)

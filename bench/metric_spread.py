"""Clean-kernel spread of each scenario's declared metrics and scaling ratios.

    .venv/bin/python bench/metric_spread.py results/<run id> [more runs ...]

Reads completed runs (results.json, a run directory, or verify's items/) and
prints, per scenario, min / median / max over the runs of every declared
metric (harness/metrics.py) and of every scaling ratio the scenario bounds
(harness/scaling.py), beside the bound: the figures the thresholds rest on
(README, "Scaling oracles and metric regressions"). With no argument it reads
results/latest, and says so when there is none.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _common import REPO, say

from harness.errors import UserError
from harness.metrics import load_results, run_metrics
from harness.scaling import growth, human
from harness.scenarios import get
from harness.verdict import FAIL, PASS


def spread(xs: list[float]) -> str:
    return f"{min(xs):>10.4g} {statistics.median(xs):>10.4g} {max(xs):>10.4g}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", help="results.json files or run directories (default: results/latest)")
    args = ap.parse_args()
    paths = args.paths or [str(REPO / "results" / "latest")]
    runs: list[dict] = []
    try:
        for p in paths:
            runs += load_results(p)
    except UserError as e:
        if not args.paths:
            say(f"metric_spread: no results to read ({e.message})")
            return 0
        print(f"metric_spread: {e.message}", file=sys.stderr)
        return 2
    by_scenario: dict[str, list[dict]] = {}
    for r in runs:
        if r.get("verdict") in (PASS, FAIL) and isinstance(r.get("counters"), dict):
            by_scenario.setdefault(r["scenario"], []).append(r)
    for name, rs in sorted(by_scenario.items()):
        sc = get(name)
        fails = sum(r["verdict"] == FAIL for r in rs)
        say(f"{name}: {len(rs)} completed runs ({fails} FAIL)")
        say(f"  {'metric':<40} {'min':>10} {'median':>10} {'max':>10}  worse")
        for m in sc.metrics:
            xs = [v for r in rs if (v := run_metrics(r).get(m.key)) is not None]
            if xs:
                say(f"  {m.key:<40} {spread(xs)}  {m.worse} ({len(xs)} runs)")
        for b in sc.scaling:
            gs = [g for r in rs if (g := growth(r["counters"], b.op, b.stat, bool(b.per)))]
            if not gs:
                continue
            ratios = [g.ratio for g in gs]
            sizes = f"{human(min(g.n_small for g in gs))}..{human(max(g.n_large for g in gs))}"
            say(f"  {'scaling ' + b.label + ' ratio':<40} {spread(ratios)}  bound x{b.bound:g}"
                f" ({len(gs)} runs, {sizes} {gs[0].of})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bisect step cost: wall time per step (checkout + incremental build, then boot + runs).

Runs `harness bisect` over the synthetic kernel history of the e2e test
(Debian 6.12 + 14 small commits, a planted bug-corpus patch, a decoy) and
prints each step's time split into build and runs, then the median and the
worst. The endpoints are listed but not counted: the first one is a full
build. Target (issue 7): <= 5 minutes per step under TCG here.

``--from results/bisect-<id>/bisect.json`` only prints the figures of a
bisect that already ran.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _common import HARNESS, median, say, timed

TARGET_S = 300.0


def figures(doc: dict) -> int:
    rows = doc["steps"]
    for s in rows:
        runs = s["runs"]
        boot = sum(r.get("boot_seconds", 0.0) for r in runs)
        run = sum(r.get("seconds", 0.0) for r in runs)
        say(f"{s['role']:13} {s['commit'][:12]} {s['verdict']:4} runs={len(runs)} "
            f"build={s['build_seconds']:.0f}s boot={boot:.0f}s runs_total={run:.0f}s step={s['seconds']:.0f}s")
    steps = [s["seconds"] for s in rows if s["role"] == "step"]
    builds = [s["build_seconds"] for s in rows if s["role"] == "step"]
    if not steps:
        say("RESULT no bisection steps (the range was a single commit)")
        return 1
    m = median(steps)
    say(f"RESULT bisect_step_median_s={m:.0f} bisect_step_max_s={max(steps):.0f} "
        f"incremental_build_median_s={median(builds):.0f} steps={len(steps)} runs_per_step={doc['runs_per_step']} "
        f"(target <= {TARGET_S:.0f})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--from", dest="from_json", default=None, help="an existing bisect.json")
    ap.add_argument("--runs", type=int, default=1, help="--runs for the bisect (default 1)")
    ap.add_argument("--duration", type=int, default=None, help="seconds per run (default: the scenario's)")
    ap.add_argument("--bug", default="inotify-dentry-leak", help="bug-corpus patch to plant")
    args = ap.parse_args()
    if args.from_json:
        return figures(json.loads(Path(args.from_json).read_text()))

    from harness.corpus import bugs
    from harness.bisect.synthetic import kernel_history
    from harness.kbuild.source import debian_source

    bug = bugs.get(args.bug)
    h = kernel_history(bug, debian_source(say), progress=say)
    out = Path(tempfile.mkdtemp(prefix="bisect-bench-"))
    argv = [HARNESS, "bisect", "--kernel", str(h.repo), "--good", h.good, "--bad", h.bad,
            "--scenario", bug.scenario, "--runs", str(args.runs), "--json", "--results", str(out)]
    if args.duration:
        argv += ["--duration", str(args.duration)]
    say(f"bisect over {len(h.commits)} commits of {h.repo} (progress: {out / 'bisect.log'})")
    t, r = timed(argv, timeout=12 * 3600)
    if not r.ok:
        say(f"bisect failed (exit {r.returncode}) after {t:.0f}s: {r.stderr[-800:]}")
        return 1
    doc = json.loads(r.stdout)
    say(f"bisect: culprit {doc['culprit']['commit'][:12] if doc['culprit'] else None} "
        f"(planted {h.culprit[:12]}) in {t:.0f}s total")
    return figures(doc)


if __name__ == "__main__":
    raise SystemExit(main())

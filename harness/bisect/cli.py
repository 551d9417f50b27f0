"""`harness bisect --kernel TREE --good REV --bad REV --scenario S [--runs N]`: find the culprit commit.

Exit codes: 0 a culprit was found; 2 user error (bad revisions, endpoints
that do not behave); 3 build / boot / infrastructure error, including a
bisection that skipped commits leave with several candidates.

The same command run again resumes: the bisect's id (and results dir) is a
digest of its inputs, and its state file holds every finished step.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import plan as plan_mod
from harness import scenarios
from harness.bisect import report
from harness.argtypes import output_dir, positive_int
from harness.bisect.core import DEFAULT_MAX_RUNS, DEFAULT_RUNS, Request, bisect


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bisect",
        help="find the commit that introduced a failure (flake-aware; works in a git worktree of its own)",
    )
    p.add_argument("--kernel", required=True, help="kernel git checkout (left untouched)")
    p.add_argument("--good", required=True, help="a revision without the failure")
    p.add_argument("--bad", required=True, help="a revision with the failure (its first title becomes the target)")
    p.add_argument("--scenario", "-s", required=True, help="scenario that shows the failure")
    p.add_argument("--runs", "-n", type=positive_int, default=DEFAULT_RUNS,
                   help=f"runs at BAD to estimate flakiness, and the least per step (default {DEFAULT_RUNS})")
    p.add_argument("--max-runs", type=positive_int, default=DEFAULT_MAX_RUNS,
                   help=f"ceiling when flakiness raises the runs per step (default {DEFAULT_MAX_RUNS})")
    p.add_argument("--duration", "-d", type=positive_int, default=None, help="seconds of stress per run (default: the scenario's)")
    p.add_argument("--signature", default="",
                   help="target signature instead of BAD's first one: a report title, or 'oracle'")
    p.add_argument("--plan", default=None, help="YAML plan for fragments, suppressions and VM size (default plans/default.yaml)")
    p.add_argument("--jobs", "-j", type=positive_int, default=None, help="make -j for the builds")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--junit", default=None, metavar="FILE", help="also write junit XML here")
    p.add_argument("--results", type=output_dir, default=None, help="results dir (default results/bisect-<id>)")
    p.add_argument("--restart", action="store_true", help="forget the recorded steps and start over")
    p.set_defaults(func=run)


def request(args: argparse.Namespace) -> Request:
    return Request(
        kernel=Path(args.kernel),
        good=args.good,
        bad=args.bad,
        scenario=scenarios.get(args.scenario),
        plan=plan_mod.load(args.plan),
        runs=args.runs,
        max_runs=args.max_runs,
        duration=args.duration,
        signature=args.signature,
        jobs=args.jobs,
        results=Path(args.results) if args.results else None,
        restart=args.restart,
    )


def run(args: argparse.Namespace) -> int:
    outcome = bisect(request(args))
    if args.junit:
        report.write_junit(Path(args.junit), outcome.result, outcome.meta)
    doc = report.document(outcome.result, outcome.meta)
    print(json.dumps(doc, indent=2) if args.json else report.text(outcome.result, outcome.meta))
    # Last, and on stderr with --json so stdout stays one JSON document.
    print(f"page: {outcome.page}", file=sys.stderr if args.json else sys.stdout)
    sys.stdout.flush()
    if outcome.result.culprit is None:
        print(f"harness: no single culprit: skipped commits leave {len(outcome.result.candidates)} candidates",
              file=sys.stderr)
    return outcome.exit_code

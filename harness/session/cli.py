"""`harness run --kernel K --scenario S [--duration D] [--runs N]`: scenarios from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from harness import plan as plan_mod
from harness import scenarios
from harness.argtypes import non_negative_int, output_dir, positive_int
from harness.session.core import Request, default_run_dir, run_session


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run scenarios in VMs and print verdicts (no pytest)")
    p.add_argument("--kernel", default=None, help="source tree or bzImage (default: Debian's linux-source-6.12)")
    p.add_argument("--scenario", "-s", action="append", default=[], help="scenario name (repeatable; default: the plan's)")
    p.add_argument("--plan", default=None, help="YAML plan (default: plans/default.yaml)")
    p.add_argument("--duration", "-d", type=positive_int, default=None,
                   help="seconds of stress per run (default: the plan's, else the scenario's)")
    p.add_argument("--runs", "-n", type=positive_int, default=None,
                   help="repetitions per scenario (default: the plan's, else 1)")
    p.add_argument("--results", type=output_dir, default=None, help="results directory for this run (default: $HARNESS_RESULTS/<run id>)")
    add_triage_options(p.add_argument)
    p.set_defaults(func=run)


def add_triage_options(add, wrap=lambda check: check) -> None:
    """--known, --retries, --baseline: for `harness run` and the pytest plugin alike
    (``wrap``: the plugin's deferred type check, which reports a bad value in one line)."""
    add("--known", action="append", default=[], metavar="FILE",
        help="known-issue file, on top of known-issues.yaml (repeatable; 'none' turns every list off)")
    add("--retries", type=wrap(non_negative_int), default=0, metavar="N",
        help="rerun a FAIL with a new (not known) signature up to N more times and report how often it reproduced (default: 0)")
    add("--baseline", default="", metavar="RESULTS_DIR",
        help="an earlier run's results directory to compare with at the end (as `harness compare`)")


def request(args: argparse.Namespace) -> Request:
    known = {s.name for s in scenarios.all_scenarios()}
    for name in args.scenario:
        scenarios.get(name)  # unknown names are a user error, before any build
    plan = plan_mod.load(args.plan, known)
    if args.scenario:
        plan = dataclasses.replace(plan, items=tuple(plan_mod.PlanItem(n, None, 1) for n in args.scenario))
    run_dir = Path(args.results) if args.results else default_run_dir()
    return Request(args.kernel, plan, run_dir, args.duration, args.runs,
                   known=tuple(args.known), retries=args.retries, baseline=args.baseline)


def run(args: argparse.Namespace) -> int:
    outcome = run_session(request(args))
    print(outcome.table)
    sys.stdout.flush()
    return outcome.exit_code

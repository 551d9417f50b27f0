"""`harness run --kernel K --scenario S [--duration D] [--runs N]`: scenarios from the command line."""

from __future__ import annotations

import argparse
import sys

from harness import plan as plan_mod
from harness import scenarios, session
from harness.argtypes import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run scenarios in VMs and print verdicts (no pytest)")
    p.add_argument("--kernel", default=None, help="source tree or bzImage (default: Debian's linux-source-6.12)")
    p.add_argument("--scenario", "-s", action="append", default=[], help="scenario name (repeatable; default: the plan's)")
    p.add_argument("--plan", default=None, help="YAML plan (default: plans/default.yaml)")
    p.add_argument("--duration", "-d", type=positive_int, default=None,
                   help="seconds of stress per run (default: the plan's, else the scenario's)")
    p.add_argument("--runs", "-n", type=positive_int, default=None,
                   help="repetitions per scenario (default: the plan's, else 1)")
    p.add_argument("--results", default=None, help="results directory for this run (default: $HARNESS_RESULTS/<run id>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    known = {s.name for s in scenarios.all_scenarios()}
    for name in args.scenario:
        scenarios.get(name)  # unknown names are a user error, before any build
    plan = plan_mod.load(args.plan, known)
    if args.scenario:
        plan = plan_mod.Plan(
            plan.path,
            tuple(plan_mod.PlanItem(n, None, 1) for n in args.scenario),
            plan.fragments,
            plan.suppressions,
            plan.memory_mb,
            plan.cpus,
            plan.compiled_suppressions,
        )
    run_dir = Path(args.results) if args.results else session.default_run_dir()
    prep = session.prepare(args.kernel, plan, run_dir)
    try:
        for item in session.items(plan, args.duration, args.runs):
            session.run_item(prep, plan, item)
    except KeyboardInterrupt:
        # The VM's context manager has killed QEMU already; keep what finished.
        _, table = session.finish(prep, session.collect(run_dir))
        print(table + "\ninterrupted: partial results above", flush=True)
        raise
    code, table = session.finish(prep, session.collect(run_dir))
    print(table)
    sys.stdout.flush()
    return code

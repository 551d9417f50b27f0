"""`harness verify --kernel TREE --patch FILE ...`: baseline vs patched, with statistics.

Exit codes: 0 fixes or no-change, 1 regression, 2 user error (a bad path, a
patch that does not apply), 3 error (a side failed to build or boot).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from harness import metrics
from harness.argtypes import fraction, output_dir, positive_int
from harness.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="does a patch fix what it should and break nothing? baseline vs patched runs, with p-values",
        description="Apply the patch(es) to the harness's own copy of the tree (the tree itself is never"
        " modified), build baseline and patched kernels, run the scenarios on both in parallel VMs and"
        " compare each signature with Fisher's exact test. Exit 0 fixes/no-change, 1 regression,"
        " 2 user error, 3 a side failed to build or boot.",
    )
    p.add_argument("--kernel", default=None, help="kernel source tree (default: Debian's linux-source-6.12)")
    p.add_argument("--patch", "-p", action="append", default=[], required=True, metavar="FILE",
                   help="a plain diff, or git format-patch mail / mbox series (repeatable; applied in order)")
    p.add_argument("--scenario", "-s", action="append", default=[], help="scenario name (repeatable; default: all of the plan's)")
    p.add_argument("--runs", "-n", type=positive_int, default=None,
                   help="runs per scenario per side (default: as many as fit the 30-minute budget)")
    p.add_argument("--duration", "-d", type=positive_int, default=None,
                   help="seconds of stress per run (default: the scenario's, capped at 30)")
    p.add_argument("--parallel", type=positive_int, default=None, help="VMs at once (default: from cores and memory)")
    p.add_argument("--jobs", "-j", type=positive_int, default=None, help="make -j for the kernel builds")
    p.add_argument("--alpha", type=fraction, default=None, help="significance level (default: 0.05)")
    metrics.add_min_effect_option(p)
    p.add_argument("--plan", default=None, help="YAML plan for fragments, suppressions and VM size (default: plans/default.yaml)")
    p.add_argument("--results", type=output_dir, default=None, help="results directory (default: results/verify-<run id>)")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    p.add_argument("--junit", default=None, metavar="FILE", help="also write junit XML to FILE")
    p.set_defaults(func=run)


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# The seams tests replace: where scenarios, the plan and the real build/run come from.

def _all_scenarios() -> list:
    from harness import scenarios

    return list(scenarios.all_scenarios())


def _get_scenario(name: str):
    from harness import scenarios

    return scenarios.get(name)


def _load_plan(path: str | None, known: set[str]):
    from harness import plan as plan_mod

    return plan_mod.load(path, known)


def _deps(plan, args: argparse.Namespace, progress):
    from harness.verify.vm_deps import vm_deps

    return vm_deps(
        **plan.kernel_and_vm(),
        jobs=args.jobs,
        progress=progress,
    )


def run(args: argparse.Namespace) -> int:
    from harness.paths import results_dir
    from harness.verify import budget, report
    from harness.verify.compare import ALPHA
    from harness.verify.core import Request, verify

    for path in args.patch:
        if not Path(path).is_file():
            raise UserError(f"--patch {path}: no such file")
    everything = _all_scenarios()
    chosen = [_get_scenario(n) for n in dict.fromkeys(args.scenario)]
    plan = _load_plan(args.plan, {s.name for s in everything})
    if not chosen:
        # "All" is the regression plan's scenarios: the catalog also holds the
        # harness's self-tests (a guest crashed on purpose), which test nothing of a patch.
        chosen = [_get_scenario(n) for n in dict.fromkeys(item.name for item in plan.items)]
    sizing = budget.choose(
        chosen,
        runs=args.runs,
        duration=args.duration,
        workers=args.parallel,
        vm_cpus=plan.cpus,
        vm_memory_mb=plan.memory_mb,
    )
    if sizing.estimate_seconds > sizing.budget_seconds:
        _progress(f"verify: warning: {sizing.describe()}, over budget")
    run_dir = Path(args.results).resolve() if args.results else results_dir() / f"verify-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    req = Request(
        kernel=args.kernel,
        patches=[Path(p) for p in args.patch],
        scenarios=chosen,
        sizing=sizing,
        run_dir=run_dir,
        alpha=args.alpha or ALPHA,
        min_effect=args.min_effect,
    )
    outcome = verify(req, _deps(plan, args, _progress), _progress)
    written = report.write_all(outcome, Path(args.junit) if args.junit else None)
    if args.json:
        print(json.dumps(report.to_json(outcome), indent=2))
    else:
        print(report.text(outcome))
    # Last, and on stderr with --json so stdout stays one JSON document.
    print(f"page: {written['page']}", file=sys.stderr if args.json else sys.stdout)
    sys.stdout.flush()
    return outcome.exit_code

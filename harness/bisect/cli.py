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
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from harness.errors import EXIT_ERROR, EXIT_OK, UserError
from harness.paths import digest, results_dir

DEFAULT_RUNS = 3
DEFAULT_MAX_RUNS = 20


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bisect",
        help="find the commit that introduced a failure (flake-aware; works in a git worktree of its own)",
    )
    p.add_argument("--kernel", "-k", required=True, help="kernel git checkout (left untouched)")
    p.add_argument("--good", required=True, help="a revision without the failure")
    p.add_argument("--bad", required=True, help="a revision with the failure (its first title becomes the target)")
    p.add_argument("--scenario", "-s", required=True, help="scenario that shows the failure")
    p.add_argument("--runs", "-n", type=int, default=DEFAULT_RUNS,
                   help=f"runs at BAD to estimate flakiness, and the least per step (default {DEFAULT_RUNS})")
    p.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS,
                   help=f"ceiling when flakiness raises the runs per step (default {DEFAULT_MAX_RUNS})")
    p.add_argument("--duration", "-d", type=int, default=None, help="seconds of stress per run (default: the scenario's)")
    p.add_argument("--signature", default="",
                   help="target signature instead of BAD's first one: a report title, or 'oracle'")
    p.add_argument("--plan", default=None, help="YAML plan for fragments, suppressions and VM size (default plans/default.yaml)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="make -j for the builds")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--junit", default=None, metavar="FILE", help="also write junit XML here")
    p.add_argument("--results", default=None, help="results dir (default results/bisect-<id>)")
    p.add_argument("--restart", action="store_true", help="forget the recorded steps and start over")
    p.set_defaults(func=run)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """CI stops jobs with SIGTERM: make it unwind like Ctrl-C so the worktree is removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _Log:
    """Progress to stderr and to the bisect's own log file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path

    def __call__(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")


def run(args: argparse.Namespace) -> int:
    from harness import plan as plan_mod
    from harness import scenarios
    from harness.bisect import git, report
    from harness.bisect.engine import Bisector, GitHistory, Settings
    from harness.bisect.state import StateFile
    from harness.bisect.tester import KernelTester
    from harness.kbuild import kconfig

    if args.runs < 1 or args.max_runs < 1:
        raise UserError(f"--runs {args.runs} / --max-runs {args.max_runs}: both must be at least 1")
    if args.duration is not None and args.duration < 1:
        raise UserError(f"--duration {args.duration}: must be at least 1 second")
    scenario = scenarios.get(args.scenario)
    duration = args.duration or scenario.duration
    plan = plan_mod.load(args.plan)
    for name in plan.fragments:
        kconfig.load_fragment(name)  # a typo is a user error now, not a skip at every step
    repo, prefix = git.toplevel(Path(args.kernel).expanduser())
    good = git.rev_parse(repo, args.good, "--good")
    bad = git.rev_parse(repo, args.bad, "--bad")
    if good == bad:
        raise UserError(f"--good {args.good} and --bad {args.bad} are the same commit {good[:12]}")
    if not git.is_ancestor(repo, good, bad):
        raise UserError(f"--good {args.good} is not an ancestor of --bad {args.bad}; bisect needs GOOD before BAD")

    settings = Settings(good, bad, args.runs, max(args.max_runs, args.runs), args.signature.strip())
    # Everything that changes the answer keys the bisect: the same command resumes, another starts afresh.
    key = {
        **settings.to_dict(),
        "repo": str(repo),
        "prefix": prefix,
        "scenario": scenario.name,
        "duration": duration,
        "fragments": list(plan.fragments),
        "suppressions": list(plan.suppressions),
        "memory_mb": plan.memory_mb,
        "cpus": plan.cpus,
    }
    bisect_id = digest(json.dumps(key, sort_keys=True), length=12)
    out = Path(args.results) if args.results else results_dir() / f"bisect-{bisect_id}"
    state_file = StateFile(out / "state.json")
    if args.restart:
        state_file.remove()
    state = state_file.load(key)
    log = _Log(out / "bisect.log")
    if state.steps:
        log(f"bisect {bisect_id}: resuming with {len(state.steps)} recorded steps from {state_file.path}")
    else:
        log(f"bisect {bisect_id}: {good[:12]}..{bad[:12]} in {repo}, scenario {scenario.name}, logs in {out}")

    with _sigterm_interrupts(), KernelTester(
        repo,
        prefix,
        scenario,
        duration,
        out,
        **plan.kernel_and_vm(),
        jobs=args.jobs,
        progress=log,
    ) as tester:
        result = Bisector(
            GitHistory(repo), tester, settings, state=state, save=state_file.save, progress=log, log_dir=tester.log_dir
        ).run()

    meta = {
        "id": bisect_id,
        "repo": str(repo),
        "scenario": scenario.name,
        "duration": duration,
        "results": str(out),
        "state": str(state_file.path),
    }
    report.write_json(out / "bisect.json", result, meta)
    report.write_junit(out / "junit.xml", result, meta)
    summary = report.text(result, meta)
    (out / "summary.txt").write_text(summary + "\n")
    if args.junit:
        report.write_junit(Path(args.junit), result, meta)
    from harness.results.bisect_page import render_bisect

    page = render_bisect(out, report.document(result, meta))
    print(json.dumps(report.document(result, meta), indent=2) if args.json else summary)
    # Last, and on stderr with --json so stdout stays one JSON document.
    print(f"page: {page}", file=sys.stderr if args.json else sys.stdout)
    sys.stdout.flush()
    if result.culprit is None:
        print(f"harness: no single culprit: skipped commits leave {len(result.candidates)} candidates",
              file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK

"""One bisect, start to end.

    check the request -> key it (the same request resumes) -> load its state
    -> the engine over the repository's history and a KernelTester -> reports

The tester comes in through ``make_tester`` so tests can replace it; the
default builds and runs real kernels (tester.KernelTester).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.results.bisect_page import render_bisect
from harness.bisect import git, report
from harness.bisect.engine import Bisector, GitHistory, Settings
from harness.bisect.model import BisectResult
from harness.bisect.state import StateFile
from harness.bisect.tester import KernelTester
from harness.errors import EXIT_ERROR, EXIT_OK, UserError
from harness.kbuild import kconfig
from harness.paths import digest, results_dir
from harness.plan import Plan
from harness.runner.progress import LogProgress

DEFAULT_RUNS = 3
DEFAULT_MAX_RUNS = 20


@dataclass(frozen=True)
class Request:
    kernel: Path  # the user's git checkout (only read)
    good: str  # revisions as given
    bad: str
    scenario: Any  # a harness.scenarios.Scenario
    plan: Plan  # fragments, suppressions and VM size
    runs: int = DEFAULT_RUNS  # BAD's sample, and the least per step
    max_runs: int = DEFAULT_MAX_RUNS  # the ceiling when flakiness asks for more
    duration: int | None = None  # None: the scenario's
    signature: str = ""  # the target instead of BAD's first signature
    jobs: int | None = None  # make -j
    results: Path | None = None  # None: results/bisect-<id>
    restart: bool = False  # forget the recorded steps


@dataclass
class Outcome:
    result: BisectResult
    meta: dict
    out: Path  # the results dir: logs, state, renderings
    page: Path | None = None  # the HTML page of the bisect

    @property
    def exit_code(self) -> int:
        # Skips that leave several candidates are not an answer: the kernel's or the host's to explain.
        return EXIT_OK if self.result.culprit is not None else EXIT_ERROR


def bisect(req: Request, make_tester: Callable[..., KernelTester] = KernelTester) -> Outcome:
    if req.runs < 1 or req.max_runs < 1:
        raise UserError(f"--runs {req.runs} / --max-runs {req.max_runs}: both must be at least 1")
    if req.duration is not None and req.duration < 1:
        raise UserError(f"--duration {req.duration}: must be at least 1 second")
    duration = req.duration or req.scenario.duration
    for name in req.plan.fragments:
        kconfig.load_fragment(name)  # a typo is a user error now, not a skip at every step
    repo, prefix = git.toplevel(Path(req.kernel).expanduser())
    good = git.rev_parse(repo, req.good, "--good")
    bad = git.rev_parse(repo, req.bad, "--bad")
    if good == bad:
        raise UserError(f"--good {req.good} and --bad {req.bad} are the same commit {good[:12]}")
    if not git.is_ancestor(repo, good, bad):
        raise UserError(f"--good {req.good} is not an ancestor of --bad {req.bad}; bisect needs GOOD before BAD")

    settings = Settings(good, bad, req.runs, max(req.max_runs, req.runs), req.signature.strip())
    plan = req.plan
    # Everything that changes the answer keys the bisect: the same request resumes, another starts afresh.
    key = {
        **settings.to_dict(),
        "repo": str(repo),
        "prefix": prefix,
        "scenario": req.scenario.name,
        "duration": duration,
        "fragments": list(plan.fragments),
        "suppressions": list(plan.suppressions),
        "memory_mb": plan.memory_mb,
        "cpus": plan.cpus,
    }
    bisect_id = digest(json.dumps(key, sort_keys=True), length=12)
    out = req.results or results_dir() / f"bisect-{bisect_id}"
    state_file = StateFile(out / "state.json")
    if req.restart:
        state_file.remove()
    state = state_file.load(key)
    log = LogProgress(out / "bisect.log")
    if state.steps:
        log(f"bisect {bisect_id}: resuming with {len(state.steps)} recorded steps from {state_file.path}")
    else:
        log(f"bisect {bisect_id}: {good[:12]}..{bad[:12]} in {repo}, scenario {req.scenario.name}, logs in {out}")

    with make_tester(repo, prefix, req.scenario, duration, out, plan, jobs=req.jobs, progress=log) as tester:
        result = Bisector(
            GitHistory(repo), tester, settings, state=state, save=state_file.save, progress=log, log_dir=tester.log_dir
        ).run()

    meta = {
        "id": bisect_id,
        "repo": str(repo),
        "scenario": req.scenario.name,
        "duration": duration,
        "results": str(out),
        "state": str(state_file.path),
    }
    report.write_json(out / "bisect.json", result, meta)
    report.write_junit(out / "junit.xml", result, meta)
    (out / "summary.txt").write_text(report.text(result, meta) + "\n")
    page = render_bisect(out, report.document(result, meta))
    return Outcome(result, meta, out, page)

"""pytest plugin: the kernel regression suite as pytest items, spread over VMs by xdist.

The controller (or a lone pytest process) builds the kernel and image once in
pytest_sessionstart, before xdist starts workers, and hands the paths to each
worker through ``workerinput``; workers never build, so they never race. Each
item writes its RunResult to the run dir; the controller aggregates them into
junit/JSON/KCIDB, prints the summary table and sets the exit code from the
verdict taxonomy (0 pass, 1 kernel failure, 2 user error, 3 build/boot/infra).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness import plan as plan_mod
from harness import scenarios
from harness.session import core as hsession
from harness.argtypes import deferred, invalid, output_dir, positive_int
from harness.errors import HarnessError
from harness.runner import Run
from harness.verdict import Verdict
from harness.vm.qemu import forced_accel
from harness.session.cli import add_triage_options

PREPARED = pytest.StashKey[hsession.Prepared]()
PLAN = pytest.StashKey[plan_mod.Plan]()
TABLE = pytest.StashKey[str]()
WORKER_KEY = "harness_prepared"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("harness")
    g.addoption("--kernel", default=None, help="kernel tree or bzImage (default: Debian's linux-source-6.12)")
    g.addoption("--plan", default=None, help="YAML plan (default: plans/default.yaml)")
    g.addoption("--duration", type=deferred(positive_int), default=None, help="override every scenario's duration (s)")
    g.addoption("--runs", type=deferred(positive_int), default=None, help="override the repetitions per scenario")
    g.addoption("--scenario", action="append", default=[], help="only these scenarios")
    g.addoption("--results", type=deferred(output_dir), default=None, help="results dir of this run (default: results/<run id>)")
    add_triage_options(g.addoption, wrap=deferred)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _plan(config: pytest.Config) -> plan_mod.Plan:
    if PLAN not in config.stash:
        known = {s.name for s in scenarios.all_scenarios()}
        config.stash[PLAN] = plan_mod.load(config.getoption("plan"), known)
    return config.stash[PLAN]


def _stop(msg: str, code: int) -> None:
    print(f"harness: {msg}", file=sys.stderr, flush=True)
    pytest.exit(msg, returncode=code)


def _stop_before_start(msg: str, code: int) -> None:
    # pytest.exit() here would print the message twice more
    # ("Exit: ..." and "! _pytest.outcomes.Exit: ... !"). Nothing has started
    # yet (xdist starts its workers after this hook), so leave at once.
    print(f"harness: {msg}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        config.stash[PREPARED] = hsession.Prepared.from_json(config.workerinput[WORKER_KEY])


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        return
    bad = invalid({f"--{o}": config.getoption(o) for o in ("runs", "duration", "retries", "results")})
    if bad:
        _stop_before_start(f"user error: {bad}", 2)
    try:
        forced_accel()  # a misspelt HARNESS_ACCEL is refused before any build
        plan = _plan(config)
        for name in config.getoption("scenario"):
            scenarios.get(name)
        results = config.getoption("results")
        run_dir = Path(results) if results else hsession.default_run_dir()
        retries = config.getoption("retries")
        config.stash[PREPARED] = hsession.prepare(
            config.getoption("kernel"), plan, run_dir,
            known=tuple(config.getoption("known")), retries=retries, baseline=config.getoption("baseline"),
        )
    except HarnessError as e:
        _stop_before_start(str(e) + (f"\n{e.detail}" if e.detail else ""), e.exit_code)


def pytest_configure_node(node) -> None:  # xdist hook: runs on the controller per worker
    node.workerinput[WORKER_KEY] = node.config.stash[PREPARED].to_json()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness_item" not in metafunc.fixturenames:
        return
    config = metafunc.config
    try:
        plan = _plan(config)
        its = hsession.items(plan, config.getoption("duration"), config.getoption("runs"), config.getoption("scenario"))
    except HarnessError as e:
        _stop(str(e), e.exit_code)
    metafunc.parametrize("harness_item", its, ids=[i.id for i in its])


@pytest.fixture
def harness_run(request: pytest.FixtureRequest):
    """Run one plan item in its own VM and return its RunResult."""
    config = request.config
    prep = config.stash[PREPARED]
    plan = _plan(config)

    def _run(item: Run):
        return hsession.run_item(prep, plan, item)

    return _run


def _fail(result) -> None:
    pytest.fail(f"{result.verdict_text}: {result.message}\nconsole: {result.console_log}", pytrace=False)


# Each verdict's pytest outcome (PASS: the test simply passes).
PYTEST_OUTCOME = {
    Verdict.SKIP: lambda result: pytest.skip(result.message),
    Verdict.FAIL: _fail,
    Verdict.ERROR: _fail,
    Verdict.KNOWN: lambda result: pytest.xfail(result.message),  # pytest's own word for a known failure
}


def check_verdict(result) -> None:
    """Turn a RunResult into the pytest outcome."""
    outcome = PYTEST_OUTCOME.get(result.verdict)
    if outcome is not None:
        outcome(result)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    config = session.config
    if _is_worker(config) or PREPARED not in config.stash:
        return
    prep = config.stash[PREPARED]
    results = hsession.collect(Path(prep.run_dir))
    if not results:
        return
    code, table = hsession.finish(prep, results)
    # make can only say 0 or 2; the verdict's own code is spelled out here.
    meaning = {0: "all passed or known", 1: "kernel failure", 2: "user error", 3: "build, boot or infrastructure error"}
    config.stash[TABLE] = table + f"\nharness: exit code {code} ({meaning.get(code, '?')})"
    if exitstatus in (0, 1):  # keep pytest's own codes for interrupts and usage errors
        session.exitstatus = code


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if TABLE in config.stash:
        terminalreporter.section("harness summary")
        terminalreporter.write_line(config.stash[TABLE])

"""Scenarios: declarative records of what runs in the guest and what must hold.

A scenario names a stress program from ``guest/`` (built into
``guest/build/``, copied into the guest as ``/opt/harness/bin/<program>``),
its arguments, the kconfig symbols it needs, a default duration, shell setup
and teardown lines, and the checks on the program's final JSON line.

The programs' contract (see guest/common.h): exit 0 when their oracle held,
1 when it broke, 2 on a usage or setup error; the last stdout line is one
JSON object of counters with at least ``ok``, ``oracle_failures``,
``failures`` (the first few, as text, each starting with its oracle's name),
``oracles`` (failure count per oracle name, e.g. ``spurious-ENOENT``,
``ghost-file``, ``find-loop``, ``nr_negative-drift``: the names
tests/bugs/README.md expects), ``stuck_threads``, ``ops``, ``ops_per_s`` and
``elapsed_s``.

Two kinds of verdicts come from the counters, kept apart on purpose:
``oracle()`` says what the kernel got wrong (a FAIL); ``coverage()`` says the
run did too little to mean anything (no event ever added, the filesystem was
not the one asked for): that is the setup's fault, not the kernel's, and
must not pass silently either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.errors import UserError
from harness.metrics import Metric
from harness.scaling import Scaling, judge as judge_scaling
# One .config parser for the project: a .config as {symbol: value}, "n" for '# ... is not set'.
from harness.kbuild.kconfig import parse_config as parse_kconfig  # noqa: F401

GUEST_BIN = "/opt/harness/bin"

# Exit codes of the guest programs.
EXIT_HELD = 0
EXIT_BROKEN = 1
EXIT_SETUP = 2

MAX_DURATION = 120  # the bar: each scenario finds its bug within this under TCG


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    program: str  # binary name in guest/build/, run as GUEST_BIN/<program>
    args: tuple[str, ...]  # the harness appends --duration D --seed S itself
    needs: tuple[str, ...]  # kconfig symbols that must be =y or =m
    duration: int  # default seconds of stress (<= MAX_DURATION)
    # Fewest seconds in which ``minimum`` is reachable with 2 guests on 2 cores;
    # verify never cuts a run below it to fit its budget (0: verify's own floor).
    shortest: int = 0
    scratch_disk_mb: int = 0  # >0: the VM gets a blank virtio disk /dev/vdb of this size
    setup: tuple[str, ...] = ()  # shell lines run in the guest (as root) before the program
    teardown: tuple[str, ...] = ()  # run after, even on failure; their failures are only logged
    # Coverage: counters that must reach a minimum, and counters with one right value.
    # Keys may be dotted into nested objects ("add_watch_latency.n").
    minimum: tuple[tuple[str, int], ...] = ()
    expect: tuple[tuple[str, Any], ...] = ()
    # Run-time features the booted kernel must have (harness/scenarios/features.py),
    # asked of the guest: without one the scenario SKIPs, saying ``features_why``.
    features: tuple[str, ...] = ()
    features_why: str = ""
    # (feature, the part of the scenario that needs it): without it that part is
    # skipped, the rest runs, and the verdict's message names what was left out.
    optional_features: tuple[tuple[str, str], ...] = ()
    # Key numbers verify and compare test between two kernels (harness/metrics.py).
    metrics: tuple[Metric, ...] = ()
    # Costs that must not grow with the size the program probes (harness/scaling.py).
    scaling: tuple[Scaling, ...] = ()

    def argv(self, duration: int | None = None, seed: int = 1) -> list[str]:
        """The guest command line, duration and seed appended."""
        d = self.duration if duration is None else duration
        return [f"{GUEST_BIN}/{self.program}", *self.args, "--duration", str(d), "--seed", str(seed)]

    def oracle(self, counters: dict) -> list[str]:
        """Failure messages from the final JSON; empty when the oracle held."""
        if not isinstance(counters, dict) or "ok" not in counters:
            return [f"{self.program} printed no counters (no final JSON line)"]
        msgs: list[str] = []
        stuck = _get(counters, "stuck_threads") or 0
        if counters.get("ok") is not True:
            notes = [str(n) for n in counters.get("failures") or []]
            total = counters.get("oracle_failures")
            total = total if isinstance(total, int) else len(notes)
            msgs.extend(notes or [f"{self.name}: oracle broken ({total} failures)"])
            if total > len(notes) and notes:
                msgs.append(f"... and {total - len(notes)} more oracle failures")
        elif stuck:
            msgs.append(f"{stuck} threads stuck in the kernel after the deadline")
        msgs.extend(judge_scaling(self.scaling, counters))
        return msgs

    def oracle_names(self, counters: dict) -> list[str]:
        """The named oracles that broke (tests/bugs/README.md), most failures first.

        Programs count failures per name under "oracles"; each failure text
        also starts with "<name>: ".
        """
        named = counters.get("oracles") if isinstance(counters, dict) else None
        if not isinstance(named, dict):
            return []
        hits = [(n, name) for name, n in named.items() if isinstance(n, int) and n > 0]
        return [name for n, name in sorted(hits, key=lambda h: (-h[0], h[1]))]

    def coverage(self, counters: dict) -> list[str]:
        """Why this run cannot count as a pass even with the oracle held."""
        if not isinstance(counters, dict):
            return [f"{self.program} printed no counters"]
        msgs = []
        for key, least in self.minimum:
            got = _get(counters, key)
            if not isinstance(got, (int, float)) or got < least:
                msgs.append(f"{key} is {got!r}, needs at least {least}: the stress did not run")
        for key, want in self.expect:
            got = _get(counters, key)
            if got != want:
                msgs.append(f"{key} is {got!r}, expected {want!r}: check the scenario setup")
        return msgs


def _get(counters: dict, key: str) -> Any:
    cur: Any = counters
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def counters_from_output(stdout: str) -> dict | None:
    """The program's final JSON object: the last stdout line that is one."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def missing_needs(scenario: Scenario, kconfig: dict[str, str]) -> list[str]:
    """The symbols scenario needs that kconfig has neither =y nor =m."""
    return [sym for sym in scenario.needs if kconfig.get(sym) not in ("y", "m")]


def all_scenarios() -> tuple[Scenario, ...]:
    from harness.scenarios.catalog import SCENARIOS

    return SCENARIOS


def get(name: str) -> Scenario:
    for s in all_scenarios():
        if s.name == name:
            return s
    known = ", ".join(s.name for s in all_scenarios())
    raise UserError(f"unknown scenario '{name}' (known: {known})")

"""The judge: what a run showed (``Evidence``) -> its verdict (``Judgement``).

A pure function: no VM, no files. Everything the guest and the host left
behind is gathered first (execute), so every verdict of the taxonomy can be
reached from a plain Evidence in a unit test.

The order of the questions is the taxonomy's:

1. a setup step failed and the kernel said nothing: ERROR(infrastructure);
2. the program ran, held its oracle, but did too little: ERROR(infrastructure)
   (not a pass, and not the kernel's fault either);
3. the guest was lost without a report: QEMU killed by a signal from outside
   is ERROR(infrastructure); otherwise the death itself is the title
   (analysis.guest: lost connection, or an unexpected reboot);
   the program overran its deadline without a report: "no output";
4. any title or oracle failure: FAIL; else PASS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness import analysis
from harness.analysis.guest import Death, death_title
from harness.scenarios import counters_from_output
from harness.verdict import ORACLE_PREFIX, ErrorKind, Verdict
from harness.vm.starvation import split as split_starved

# Lines of the console kept as the report when a FAIL has neither a kernel
# report nor oracle details (a guest that died or hung silently).
TAIL_LINES = 60


@dataclass
class Evidence:
    """What happened, gathered by execute (filled in as the run goes) before anything is decided."""

    scenario: Any  # a harness.scenarios.Scenario: its oracle and coverage rules
    console: bytes = b""
    console_from: int = 0  # byte offset where the stress began (a later boot is a reboot)
    suppressions: tuple = ()
    vcpu_samples: tuple = ()  # the host's vCPU ledger (harness.vm.vcpu.Sample)
    peer: bool = False  # a peer program (stress-ng) ran: its output has no counters of ours
    exit_status: int | None = None  # None: never finished (timed out, or the guest was lost)
    stdout: str = ""
    timed_out: bool = False
    setup_error: str = ""
    teardown_errors: list[str] = field(default_factory=list)
    lost: str | None = None  # why the guest was lost (GuestLost's message), if it was
    qemu_status: int | None = None
    start_uptime: float | None = None  # guest uptime when the stress began


@dataclass
class Judgement:
    verdict: Verdict
    error_kind: ErrorKind = ErrorKind.NONE
    message: str = ""
    titles: list[str] = field(default_factory=list)
    oracle_failures: list[str] = field(default_factory=list)
    report: str = ""
    counters: dict | None = None
    detection_s: float | None = None
    set_aside: list[dict[str, str]] = field(default_factory=list)


def judge(ev: Evidence) -> Judgement:
    sc = ev.scenario
    reports = analysis.analyze(ev.console, list(ev.suppressions) or None)
    reports, set_aside = split_starved(reports, list(ev.vcpu_samples))
    counters = counters_from_output(ev.stdout) if ev.stdout and not ev.peer else None
    oracle = _oracle_failures(sc, counters, ev.exit_status) + list(ev.teardown_errors)
    j = Judgement(Verdict.PASS, titles=[r.title for r in reports], oracle_failures=oracle,
                  report=reports[0].text if reports else "", counters=counters, set_aside=set_aside)
    error = _infrastructure(ev, sc, counters, bool(reports), bool(oracle))
    if error:
        j.verdict, j.error_kind, j.message = Verdict.ERROR, ErrorKind.INFRASTRUCTURE, error
        return j
    if not reports and (ev.lost is not None or ev.timed_out):
        death = Death.LOST_CONNECTION if ev.lost is not None else Death.NO_OUTPUT
        j.titles = [death_title(ev.console[ev.console_from:], death)]
    if j.titles or j.oracle_failures:
        j.verdict = Verdict.FAIL
        j.detection_s = _detection(reports, ev, counters)
        j.message = (j.titles or [ORACLE_PREFIX + j.oracle_failures[0]])[0]
        j.report = j.report or "\n".join(j.oracle_failures) or _tail(ev.console)
    else:
        j.message = "ok"
    if set_aside:
        first = set_aside[0]
        j.message += f" ({len(set_aside)} report(s) set aside: {first['title']}: {first['why']})"
    return j


def _oracle_failures(sc, counters: dict | None, exit_status: int | None) -> list[str]:
    if counters is None or exit_status is None:
        return []
    failures = list(sc.oracle(counters))
    if exit_status == 1 and not failures:
        failures = [f"{sc.program} exited 1 (oracle broken)"]
    return failures


def _infrastructure(ev: Evidence, sc, counters: dict | None, reported: bool, oracle: bool) -> str:
    """Why the run says nothing about the kernel ("" when it does)."""
    if reported:
        return ""
    if ev.setup_error:
        return ev.setup_error
    coverage = sc.coverage(counters) if counters is not None and ev.exit_status == 0 else []
    if coverage and not oracle:
        return "scenario did too little: " + "; ".join(coverage)
    if ev.lost is not None and ev.qemu_status is not None and ev.qemu_status < 0:
        # QEMU was killed from outside (a signal) and the console shows no kernel death.
        return f"QEMU was killed (signal {-ev.qemu_status}); {ev.lost}"
    return ""


def _tail(console: bytes) -> str:
    return "\n".join(console.decode("utf-8", "replace").replace("\r", "").splitlines()[-TAIL_LINES:])


_TIMESTAMP = re.compile(rb"^\[\s*(\d+\.\d+)\]")


def _console_time(console: bytes, line_no: int) -> float | None:
    """The printk timestamp at (or just before) 1-based console line ``line_no``."""
    lines = console.splitlines()[: max(0, line_no)]
    for raw in reversed(lines):
        m = _TIMESTAMP.match(raw.lstrip(b"\x00"))
        if m:
            return float(m.group(1))
    return None


def _detection(reports, ev: Evidence, counters: dict | None) -> float | None:
    """Seconds of stress until the failure showed: the first report's console
    time, or the program's first oracle failure."""
    times = []
    if reports and ev.start_uptime is not None:
        t = _console_time(ev.console, reports[0].start_line)
        if t is not None:
            times.append(max(0.0, t - ev.start_uptime))
    if counters and isinstance(counters.get("first_failure_s"), (int, float)):
        times.append(float(counters["first_failure_s"]))
    return min(times) if times else None

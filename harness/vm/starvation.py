"""Soft lockups the host caused, told apart from the kernel's own.

The watchdog counts wall time, so a vCPU the host did not run for 5 s is
reported "stuck for 5s" wherever it happened to be (a clean TCG run with two
guests on two cores: RIP in finish_task_switch, just back from preemption).
A CPU really stuck in the kernel keeps its vCPU thread busy, so it gets its
share of the host all the while; one that was starved got almost nothing.
The ledger (harness.vm.vcpu) says which: a report whose vCPU got less than
STARVED_SHARE of the window before it is set aside, with the figures, never
dropped silently.
"""

from __future__ import annotations

import re

from harness.analysis import Report
from harness.vm.vcpu import Sample, cpu_before

# Two guests on two cores give each busy vCPU about half a core, three about a
# third; a starved one got next to nothing (the report's own printing is
# outside the window). A quarter keeps every shared-but-running vCPU's report.
STARVED_SHARE = 0.25
_LOCKUP = re.compile(r"soft lockup - CPU#(\d+) stuck for (\d+)s!")


def starved(report: Report, samples: list[Sample]) -> str | None:
    """Why ``report`` is the host's doing (a sentence with the figures), or None."""
    m = _LOCKUP.search(report.text)
    if m is None or not samples:
        return None
    vcpu, stuck = int(m.group(1)), int(m.group(2))
    got = cpu_before(samples, vcpu, report.start_offset, stuck)
    if got is None:
        return None
    cpu, window, waited = got
    if cpu >= STARVED_SHARE * window:
        return None
    # The run-queue wait says how: runnable but given no host CPU (else QEMU
    # itself held the vCPU thread, e.g. on its big lock).
    how = f", waited {waited:.1f} s for a host CPU" if waited is not None else ""
    return (
        f"vCPU {vcpu} ran {cpu:.1f} s of the {window:.1f} s before the report{how} "
        f"(reported stuck for {stuck}s): the host starved it"
    )


def split(reports: list[Report], samples: list[Sample]) -> tuple[list[Report], list[dict[str, str]]]:
    """(reports the kernel owns, {"title", "why"} of each one set aside)."""
    kept, aside = [], []
    for r in reports:
        why = starved(r, samples)
        if why is None:
            kept.append(r)
        else:
            aside.append({"title": r.title, "why": why})
    return kept, aside

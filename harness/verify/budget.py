"""Default sizes: how many runs, how long each, how many VMs at once.

The target (issue 8) is a whole verify in under 30 minutes on a 2-core TCG
host. Nothing here is measured at run time; the constants are estimates for
that host, and the estimate is printed so a user can see what they are
trading when they pass --runs or --duration.
"""

from __future__ import annotations

import heapq
import math
import os
from dataclasses import dataclass

BUDGET_SECONDS = 30 * 60
# The patched build is incremental (its copy and build dir persist between
# verifies, ccache shared with the baseline); the baseline build is assumed
# to be cached already. A cold build is far longer and is not budgeted.
BUILD_SECONDS = 6 * 60
# Measured (issue 8's e2e, 2 guests at once on 2 cores, TCG): boot 7-11 s, a
# 30 s run 40-46 s in all; kept above that for busier or slower hosts.
BOOT_SECONDS = 15  # one TCG guest booting on 2 host cores
RUN_OVERHEAD_SECONDS = 10  # upload, setup, teardown, late-console settle, shutdown
# Durations are cut down to fit the budget, never below this: shorter runs
# give Fisher's test more samples, but a scenario's default is what its family
# needs (bug 07 of the corpus shows itself at 21-85 s of umount-check).
DURATION_FLOOR = 30
# 5 of 5 against 0 of 5 is the smallest split Fisher's test calls significant
# at 0.05 (p = 0.008); fewer runs can never show a fix or a regression.
SIGNIFICANT_RUNS = 5
MAX_RUNS = 10
MIN_RUNS = 1
SAFETY = 0.9  # leave a tenth of the budget for what the estimate misses


@dataclass(frozen=True)
class Sizing:
    runs: int  # per scenario per side
    durations: dict[str, int]  # scenario -> seconds of stress
    workers: int  # VMs at once
    estimate_seconds: float
    budget_seconds: float = BUDGET_SECONDS

    def describe(self) -> str:
        n = len(self.durations)
        secs = sorted(set(self.durations.values()))
        each = f"{secs[0]}s" if len(secs) == 1 else f"{secs[0]}-{secs[-1]}s"
        return (
            f"{n} scenario{'s' * (n != 1)} x {self.runs} run{'s' * (self.runs != 1)} x 2 sides, {each} each,"
            f" {self.workers} VMs at once: about {math.ceil(self.estimate_seconds / 60)} min"
            f" (budget {self.budget_seconds / 60:.0f} min)"
        )


def mem_available_mb() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4096


def workers_for(cores: int, vm_cpus: int, vm_memory_mb: int, available_mb: int) -> int:
    """VMs to run at once: at least two (a baseline and a patched run side by side, so
    both see the same host load), more on bigger hosts, never more than memory holds."""
    by_cpu = max(2, cores // max(1, vm_cpus))
    by_mem = max(1, available_mb // (vm_memory_mb + 512))
    return max(1, min(by_cpu, by_mem, 16))


def estimate(durations: dict[str, int], runs: int, workers: int, cores: int, build_seconds: float = BUILD_SECONDS) -> float:
    """Seconds for build + all runs, scheduling jobs in verify's order onto ``workers`` VMs.

    Booting is CPU bound (about one host core per booting guest), so more
    guests than cores boot proportionally slower; the stress itself runs for
    its wall-clock duration however slow the guest is.
    """
    slowdown = max(1.0, workers / max(1, cores))
    costs = []
    for _ in range(runs):
        for d in durations.values():
            costs += [BOOT_SECONDS * slowdown + d + RUN_OVERHEAD_SECONDS * slowdown] * 2
    free_at = [0.0] * max(1, workers)
    for c in costs:
        t = heapq.heappop(free_at)
        heapq.heappush(free_at, t + c)
    return build_seconds + max(free_at)


def choose(
    scenarios: list,
    *,
    runs: int | None = None,
    duration: int | None = None,
    workers: int | None = None,
    cores: int | None = None,
    vm_cpus: int = 2,
    vm_memory_mb: int = 2048,
    budget_seconds: float = BUDGET_SECONDS,
) -> Sizing:
    """Sizes for these scenarios: the user's where given; else each scenario's own duration,
    cut (to no less than DURATION_FLOOR) only as far as the budget needs for SIGNIFICANT_RUNS
    runs (or the user's --runs); then the most runs the budget holds."""
    cores = cores or os.cpu_count() or 1
    workers = workers or workers_for(cores, vm_cpus, vm_memory_mb, mem_available_mb())
    if duration:
        durations = {s.name: duration for s in scenarios}
    else:
        durations = _fitting_durations(scenarios, runs or SIGNIFICANT_RUNS, workers, cores, budget_seconds)
    if runs is None:
        runs = MIN_RUNS
        for n in range(MAX_RUNS, MIN_RUNS - 1, -1):
            if estimate(durations, n, workers, cores) <= budget_seconds * SAFETY:
                runs = n
                break
    return Sizing(runs, durations, workers, estimate(durations, runs, workers, cores), budget_seconds)


def _fitting_durations(scenarios: list, runs: int, workers: int, cores: int, budget_seconds: float) -> dict[str, int]:
    """The scenarios' own durations, capped at the longest cap (>= DURATION_FLOOR) that fits;
    a scenario is never cut below its ``shortest`` (what its coverage minimums need)."""
    own = {s.name: int(s.duration) for s in scenarios}
    floor = {s.name: min(own[s.name], max(DURATION_FLOOR, s.shortest)) for s in scenarios}

    def capped(cap: int) -> dict[str, int]:
        return {name: max(floor[name], min(d, cap)) for name, d in own.items()}

    for cap in range(max(own.values(), default=DURATION_FLOOR), DURATION_FLOOR - 1, -5):
        if estimate(capped(cap), runs, workers, cores) <= budget_seconds * SAFETY:
            return capped(cap)
    return capped(DURATION_FLOOR)

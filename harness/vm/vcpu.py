"""How much host CPU each vCPU got, sampled beside the console's length.

The guest's soft-lockup watchdog measures wall time: a vCPU the host did not
run for 5 s looks exactly like a CPU stuck in the kernel for 5 s. Under TCG,
with two guests on two cores, that happens (a clean run reported "stuck for
5s" with RIP just after a context switch). This ledger is the host's side of
the story: per vCPU thread, the CPU seconds it was given, and when each
console byte had arrived, so a report can be placed on the host's clock.

QEMU names its vCPU threads "CPU <n>/TCG" (or /KVM) with
``-name ...,debug-threads=on``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

PERIOD = 0.5
_THREAD = re.compile(r"^CPU (\d+)/\w+$")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    t: float  # host monotonic seconds
    console_bytes: int
    cpu: dict[int, float] = field(hash=False)  # vCPU index -> CPU seconds so far


def read_vcpus(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each vCPU thread of QEMU ``pid``; {} if gone."""
    out: dict[int, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            m = _THREAD.match(comm)
            if m is None:
                continue
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        # Fields after "(comm)": state is the 3rd field, utime the 14th, stime the 15th.
        rest = stat.rsplit(")", 1)[1].split()
        out[int(m.group(1))] = (int(rest[11]) + int(rest[12])) / _TICK
    return out


class Ledger:
    """Samples a QEMU's vCPU threads every PERIOD seconds until stopped.

    Rows also go to ``tsv`` as they are taken (kept with the run's logs).
    """

    def __init__(self, pid: int, console_log: Path, tsv: Path | None = None, period: float = PERIOD):
        self.pid, self.console_log, self.tsv, self.period = pid, console_log, tsv, period
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"vcpu-ledger-{pid}", daemon=True)

    def start(self) -> "Ledger":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        f = open(self.tsv, "w", buffering=1) if self.tsv is not None else None
        try:
            if f is not None:
                f.write("# host_monotonic_s\tconsole_bytes\tvcpu=cpu_seconds ...\n")
            while True:
                cpu = read_vcpus(self.pid)
                if cpu:
                    self._record(cpu, f)
                elif not os.path.exists(f"/proc/{self.pid}"):
                    return
                # else: QEMU has not started its vCPU threads yet
                if self._stop.wait(self.period):
                    return
        finally:
            if f is not None:
                f.close()

    def _record(self, cpu: dict[int, float], f) -> None:
        try:
            size = self.console_log.stat().st_size
        except OSError:
            size = 0
        s = Sample(time.monotonic(), size, cpu)
        self.samples.append(s)
        if f is not None:
            f.write(f"{s.t:.2f}\t{size}\t" + " ".join(f"{k}={v:.2f}" for k, v in sorted(cpu.items())) + "\n")


def load(tsv: Path) -> list[Sample]:
    """The samples a Ledger wrote to ``tsv`` (a run's ``vcpu.tsv``)."""
    samples = []
    for line in tsv.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        t, size, cpus = line.split("\t")
        samples.append(Sample(float(t), int(size), {int(k): float(v) for k, v in (c.split("=") for c in cpus.split())}))
    return samples


def cpu_before(samples: list[Sample], vcpu: int, offset: int, seconds: float) -> tuple[float, float] | None:
    """(CPU seconds, window seconds) vCPU ``vcpu`` got in the ``seconds`` (or a
    little more) before console byte ``offset`` was written.

    The window ends at the last sample taken before that byte was out, so it
    never includes the vCPU running to print the report itself, and starts at
    the last sample at least ``seconds`` earlier. None when the samples do not
    cover it (the report came before the first sample or they lack the vCPU).
    """
    sizes = [s.console_bytes for s in samples]
    end = bisect_right(sizes, offset) - 1
    if end < 0:
        return None
    times = [s.t for s in samples]
    start = bisect_right(times, samples[end].t - seconds) - 1
    if start < 0 or start >= end:
        return None
    a, b = samples[start], samples[end]
    if vcpu not in a.cpu or vcpu not in b.cpu:
        return None
    return b.cpu[vcpu] - a.cpu[vcpu], b.t - a.t

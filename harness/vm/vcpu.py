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
    # vCPU index -> seconds it has waited, runnable, for a host CPU (schedstat)
    wait: dict[int, float] = field(default_factory=dict, hash=False)


def read_vcpus(pid: int) -> tuple[dict[int, float], dict[int, float]]:
    """(CPU seconds, run-queue wait seconds) of each vCPU thread of QEMU
    ``pid``; empty if it is gone. The wait is missing on kernels without
    /proc/.../schedstat, and the CPU time then comes from stat's ticks."""
    out: dict[int, float] = {}
    wait: dict[int, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out, wait
    for tid in tids:
        try:
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            m = _THREAD.match(comm)
            if m is None:
                continue
            n = int(m.group(1))
            try:
                # Nanoseconds on a CPU, nanoseconds waiting on a run queue, time slices.
                ran, waited, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
                out[n], wait[n] = int(ran) / 1e9, int(waited) / 1e9
                continue
            except (OSError, ValueError):
                pass
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        # Fields after "(comm)": state is the 3rd field, utime the 14th, stime the 15th.
        rest = stat.rsplit(")", 1)[1].split()
        out[n] = (int(rest[11]) + int(rest[12])) / _TICK
    return out, wait


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
                f.write("# host_monotonic_s\tconsole_bytes\tvcpu=cpu_seconds[/runqueue_wait_seconds] ...\n")
            while True:
                cpu, wait = read_vcpus(self.pid)
                if cpu:
                    self._record(cpu, wait, f)
                elif not os.path.exists(f"/proc/{self.pid}"):
                    return
                # else: QEMU has not started its vCPU threads yet
                if self._stop.wait(self.period):
                    return
        finally:
            if f is not None:
                f.close()

    def _record(self, cpu: dict[int, float], wait: dict[int, float], f) -> None:
        try:
            size = self.console_log.stat().st_size
        except OSError:
            size = 0
        s = Sample(time.monotonic(), size, cpu, wait)
        self.samples.append(s)
        if f is not None:
            cells = (f"{k}={v:.3f}" + (f"/{wait[k]:.3f}" if k in wait else "") for k, v in sorted(cpu.items()))
            f.write(f"{s.t:.2f}\t{size}\t" + " ".join(cells) + "\n")


def load(tsv: Path) -> list[Sample]:
    """The samples a Ledger wrote to ``tsv`` (a run's ``vcpu.tsv``)."""
    samples = []
    for line in tsv.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        t, size, cells = line.split("\t")
        cpu, wait = {}, {}
        for cell in cells.split():
            k, v = cell.split("=")
            ran, _, waited = v.partition("/")
            cpu[int(k)] = float(ran)
            if waited:
                wait[int(k)] = float(waited)
        samples.append(Sample(float(t), int(size), cpu, wait))
    return samples


def cpu_before(samples: list[Sample], vcpu: int, offset: int, seconds: float) -> tuple[float, float, float | None] | None:
    """(CPU seconds, window seconds, run-queue wait seconds or None) of vCPU
    ``vcpu`` in the ``seconds`` (or a little more) before console byte
    ``offset`` was written.

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
    waited = b.wait[vcpu] - a.wait[vcpu] if vcpu in a.wait and vcpu in b.wait else None
    return b.cpu[vcpu] - a.cpu[vcpu], b.t - a.t, waited

"""Host CPU each vCPU got during a scenario's scaling probes, from the vCPU ledger.

    .venv/bin/python bench/probe_cpu_share.py results/<run>/vms/negdentry-inotify-0 [...]

Any scenario whose program marks its probes on the console reads the same
way ("<scenario>: scaling probe at N ..." then "... scaling probe done"):
negdentry-inotify, eventfs-lookup-race and umount-check do.

A probe times the guest's wall clock; a vCPU the host did not run looks like
a slow kernel. The program marks each probe's start and end on the console
(--kmsg-marks), and vcpu.tsv records the console's length beside each vCPU's
host CPU seconds and run-queue wait, so the share of a core each vCPU got in
each probe's window is a division. Probes of one run with shares far apart
are where a ratio may be the host's doing, not the kernel's. With no
argument it reads every guest of results/latest.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from _common import REPO, say

from harness.vm.vcpu import load

MARK = re.compile(rb"[\w-]+: scaling probe (?:at (\d+) |done)")


def main() -> int:
    args = sys.argv[1:] or sorted(str(p) for p in (REPO / "results" / "latest" / "vms").glob("*"))
    if not args:
        say("probe_cpu_share: no guests in results/latest to read")
        return 0
    for arg in args:
        vm = Path(arg)
        try:
            console = (vm / "console.log").read_bytes()
            samples = load(vm / "vcpu.tsv")
        except OSError as e:
            print(f"probe_cpu_share: {vm}: {e.strerror or e}", file=sys.stderr)
            return 2
        marks = [(m.start(), m.group(1)) for m in MARK.finditer(console)]
        parts = []
        for (start, n), (end, done) in zip(marks, marks[1:]):
            if n is None or done is not None:
                continue
            before = [s for s in samples if s.console_bytes <= start]
            after = [s for s in samples if s.console_bytes > end]
            if not before or not after:
                continue
            a, b = before[-1], after[0]
            wall = b.t - a.t
            if wall <= 0:
                continue
            shares = " ".join(
                f"v{v}={(b.cpu[v] - a.cpu.get(v, 0)) / wall:.2f}"
                + (f"/wait {(b.wait[v] - a.wait.get(v, 0)) / wall:.2f}" if v in b.wait else "")
                for v in sorted(b.cpu)
            )
            parts.append(f"n={int(n)}: {wall:.1f}s {shares}")
        say(f"{vm.name}: " + (" | ".join(parts) or "no probe marks (run without --kmsg-marks?)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

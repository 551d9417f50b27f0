"""Host CPU each vCPU got during the scaling probes (negdentry-inotify, umount-check), from the vCPU ledger.

    .venv/bin/python bench/probe_cpu_share.py results/<run>/vms/negdentry-inotify-0 [...]

A probe times the guest's wall clock; a vCPU the host did not run looks like
a slow kernel. The program marks each probe's start and end on the console
(--kmsg-marks), and vcpu.tsv records the console's length beside each vCPU's
host CPU seconds and run-queue wait, so the share of a core each vCPU got in
each probe's window is a division. Probes of one run with shares far apart
are where a ratio may be the host's doing, not the kernel's. With no
argument it reads results/latest's negdentry-inotify and umount-check
guests, if any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from _common import REPO, say

from harness.vm.vcpu import load

# negdentry-inotify's probes, and umount-check's timed umounts ("at 4000 dentries (ext4)").
PROGRAMS = ("negdentry-inotify", "umount-check")
MARK = re.compile(rb"(?:negdentry-inotify|umount-check): scaling probe (?:at (\d+) (?:negative )?dentries|done)")


def main() -> int:
    vms = REPO / "results" / "latest" / "vms"
    args = sys.argv[1:] or sorted(str(p) for prog in PROGRAMS for p in vms.glob(f"{prog}-*"))
    if not args:
        say("probe_cpu_share: no negdentry-inotify or umount-check guests in results/latest to read")
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

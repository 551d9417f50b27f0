"""Carry out one Run: boot the testbed's kernel, drive the scenario, gather the evidence, judge it.

Prints nothing itself: progress goes through the ``progress`` callback.
"""

from __future__ import annotations

import collections
import shlex
import time
from pathlib import Path

from harness.errors import BootError, GuestLost, HarnessError
from harness.paths import GUEST
from harness.runner.progress import Progress
from harness.runner.request import Run, Testbed
from harness.runner.rules import Evidence, judge
from harness.scenarios import GUEST_BIN, features, missing_needs
from harness.verdict import PROGRESS_LINES, TEARDOWN_PREFIX, ErrorKind, RunResult, Verdict
from harness.vm import VM, VMOptions

# Seconds a program may overrun its --duration before the guest counts as hung.
OVERRUN_GRACE = 90.0
# Late console output (KASAN reports are printed from other contexts) gets this long to land.
SETTLE_SECONDS = 2.0
# When the guest was lost, how long QEMU may take to be reaped before it is
# taken as still running (a guest that died while QEMU lives on).
QEMU_EXIT_WAIT = 5.0


def program_path(scenario) -> Path:
    return GUEST / "build" / scenario.program


def execute(run: Run, bed: Testbed, workdir: Path, progress: Progress = print) -> RunResult:
    sc = run.scenario
    result = RunResult(sc.name, run.index, Verdict.PASS, kernel=str(bed.kernel.bzimage), seed=run.seed)
    config = bed.kernel.config()
    if config is not None:
        missing = missing_needs(sc, config)
        if missing:
            result.verdict, result.message = Verdict.SKIP, "needs " + ", ".join(missing)
            return result
    binary = program_path(sc)
    if run.command is None and not binary.is_file():
        result.verdict, result.error_kind = Verdict.ERROR, ErrorKind.INFRASTRUCTURE
        result.message = f"guest program {binary} is not built (make -C guest)"
        return result
    workdir.mkdir(parents=True, exist_ok=True)
    opts = VMOptions(memory_mb=bed.memory_mb, cpus=bed.cpus, scratch_disk_mb=sc.scratch_disk_mb)
    img = bed.image
    vm = VM(bed.kernel.bzimage, img.rootfs, img.ssh_key, img.ready_marker, workdir, opts, progress=progress)
    result.console_log = str(vm.console_log)
    start = time.monotonic()
    ev = Evidence(sc, suppressions=tuple(bed.suppressions), peer=run.command is not None)
    lines: collections.deque = collections.deque(maxlen=PROGRESS_LINES)
    try:
        with vm:
            result.boot_seconds = vm.boot_seconds
            gate = features.Gate()
            try:
                # The kernel's run-time features (eventfs, user_events, ...): SKIP, or run
                # and name what was left out. A guest lost here is lost like in the stress.
                if run.command is None:
                    gate = features.gate(vm.run, sc)
                if gate.skip:
                    result.verdict, result.message = Verdict.SKIP, gate.skip
                    result.duration = time.monotonic() - start
                    return result
                progress(f"{run.item}: guest up in {vm.boot_seconds:.0f}s, stressing for {run.duration}s")
                _drive(vm, run, progress, ev, lines)
            except GuestLost as e:
                ev.lost = e.message
            if ev.lost is None and not ev.timed_out:
                time.sleep(SETTLE_SECONDS)
            # A killed QEMU's sockets close as it exits, before it can be reaped:
            # ssh sees the reset first, so give the exit status a moment to show.
            ev.qemu_status = vm.qemu_status(wait=QEMU_EXIT_WAIT if ev.lost is not None else 0.0)
    except HarnessError as e:
        boot = isinstance(e, BootError)
        result.verdict, result.message = Verdict.ERROR, e.message
        result.error_kind = ErrorKind.BOOT if boot else ErrorKind.INFRASTRUCTURE
        if boot:
            result.report = e.detail
        result.duration = time.monotonic() - start
        return result
    result.duration = time.monotonic() - start
    result.progress = [list(p) for p in lines]
    ev.console = vm.console_log.read_bytes() if vm.console_log.exists() else b""
    ev.vcpu_samples = tuple(vm.vcpu_samples)
    # Every Judgement field is a RunResult field of the same name.
    for name, value in vars(judge(ev)).items():
        setattr(result, name, value)
    gate.annotate(result)
    return result


def _drive(vm: VM, run: Run, progress: Progress, ev: Evidence, lines: collections.deque) -> None:
    """Upload, set up, stress, tear down, filling the evidence as it goes."""
    sc = run.scenario
    if run.command is None:
        vm.run(f"mkdir -p {GUEST_BIN}", timeout=30)
        vm.upload(program_path(sc), f"{GUEST_BIN}/{sc.program}")
    for cmd in sc.setup:
        r = vm.run(cmd, timeout=180)
        if not r.ok:
            ev.setup_error = f"setup failed: {cmd}: {(r.stderr or r.stdout).strip()[-300:]}"
            return
    argv = list(run.command) if run.command is not None else sc.argv(run.duration, run.seed)
    up = vm.run("cat /proc/uptime", timeout=30)
    try:
        ev.start_uptime = float(up.stdout.split()[0])
    except (IndexError, ValueError):
        pass
    ev.console_from = vm.console_log.stat().st_size if vm.console_log.exists() else 0
    began = time.monotonic()

    def on_stderr(line: str) -> None:
        if line.strip():
            lines.append((round(time.monotonic() - began, 2), line))
            progress(f"{run.item}: {line}")

    r = vm.run(shlex.join(argv), timeout=run.duration + OVERRUN_GRACE, on_stderr=on_stderr)
    ev.exit_status, ev.stdout, ev.timed_out = r.exit_status, r.stdout, r.timed_out
    if r.exit_status == 2 and run.command is None:
        ev.setup_error = f"{sc.program} could not run: {r.stderr.strip()[-300:]}"
    if r.timed_out:
        return
    for cmd in sc.teardown:
        t = vm.run(cmd, timeout=180)
        if not t.ok:
            ev.teardown_errors.append(f"{TEARDOWN_PREFIX}{cmd}: {(t.stderr or t.stdout).strip()[-200:]}")

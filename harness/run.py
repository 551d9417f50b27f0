"""One run: a kernel, the image, one scenario -> a RunResult with a verdict.

Prints nothing itself: progress goes through the ``progress`` callback.
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness import analysis, starvation
from harness.errors import BootError, GuestLost, HarnessError, InfraError
from harness.kbuild import Kernel
from harness.paths import GUEST
from harness.scenarios import Scenario, counters_from_output, features, missing_needs
from harness.verdict import ERROR, FAIL, LOST_CONNECTION, NO_OUTPUT, PASS, SKIP, RunResult
from harness.vm import VM, VMOptions

Progress = Callable[[str], None]
GUEST_BIN = "/opt/harness/bin"
# Seconds a program may overrun its --duration before the guest counts as hung.
OVERRUN_GRACE = 90.0
# Late console output (KASAN reports are printed from other contexts) gets this long to land.
SETTLE_SECONDS = 2.0
# When the guest was lost, how long QEMU may take to be reaped before it is
# taken as still running (a guest that died while QEMU lives on).
QEMU_EXIT_WAIT = 5.0


@dataclass
class RunSpec:
    scenario: Scenario
    duration: int
    index: int = 0
    seed: int = 1
    memory_mb: int = 2048
    cpus: int = 2
    suppressions: list = field(default_factory=list)
    # Run this guest command instead of the scenario's program (a peer such as
    # stress-ng, in the scenario's VM setup); nothing is uploaded then.
    command: tuple[str, ...] | None = None


def program_path(scenario: Scenario) -> Path:
    return GUEST / "build" / scenario.program


@dataclass
class _Outcome:
    """What happened in the guest, before judging it."""

    exit_status: int | None = None  # None: never finished (timed out, or the guest was lost)
    stdout: str = ""
    timed_out: bool = False
    setup_error: str = ""
    teardown_errors: list[str] = field(default_factory=list)
    lost: GuestLost | None = None
    qemu_status: int | None = None
    start_uptime: float | None = None  # guest uptime when the stress began


def run_scenario(kernel: Kernel, image, spec: RunSpec, workdir: Path, progress: Progress = print) -> RunResult:
    sc = spec.scenario
    result = RunResult(sc.name, spec.index, PASS, kernel=str(kernel.bzimage), seed=spec.seed)
    config = kernel.config()
    if config is not None:
        missing = missing_needs(sc, config)
        if missing:
            result.verdict, result.message = SKIP, "needs " + ", ".join(missing)
            return result
    binary = program_path(sc)
    if spec.command is None and not binary.is_file():
        result.verdict, result.error_kind = ERROR, "infrastructure"
        result.message = f"guest program {binary} is not built (make -C guest)"
        return result
    workdir.mkdir(parents=True, exist_ok=True)
    opts = VMOptions(memory_mb=spec.memory_mb, cpus=spec.cpus, scratch_disk_mb=sc.scratch_disk_mb)
    vm = VM(kernel.bzimage, image.rootfs, image.ssh_key, image.ready_marker, workdir, opts, progress=progress)
    result.console_log = str(vm.console_log)
    start = time.monotonic()
    out = _Outcome()
    try:
        with vm:
            result.boot_seconds = vm.boot_seconds
            progress(f"{sc.name}#{spec.index}: guest up in {vm.boot_seconds:.0f}s, stressing for {spec.duration}s")
            # The kernel's run-time features (eventfs, user_events, ...): SKIP, or run and name what was left out.
            gate = features.gate(vm.run, sc) if spec.command is None else features.Gate()
            if gate.skip:
                result.verdict, result.message = SKIP, gate.skip
                result.duration = time.monotonic() - start
                return result
            try:
                _drive(vm, sc, spec, progress, out)
            except GuestLost as e:
                out.lost = e
            if out.lost is None and not out.timed_out:
                time.sleep(SETTLE_SECONDS)
            # A killed QEMU's sockets close as it exits, before it can be reaped:
            # ssh sees the reset first, so give the exit status a moment to show.
            out.qemu_status = vm.qemu_status(wait=QEMU_EXIT_WAIT if out.lost is not None else 0.0)
    except BootError as e:
        result.verdict, result.error_kind, result.message = ERROR, "boot", e.message
        result.report = e.detail
        result.duration = time.monotonic() - start
        return result
    except HarnessError as e:
        result.verdict, result.error_kind, result.message = ERROR, "infrastructure", e.message
        result.duration = time.monotonic() - start
        return result
    result.duration = time.monotonic() - start
    _judge(result, sc, vm, spec, out)
    gate.annotate(result)
    return result


def _drive(vm: VM, sc: Scenario, spec: RunSpec, progress: Progress, out: _Outcome) -> None:
    """Upload, set up, stress, tear down, filling ``out`` as it goes."""
    if spec.command is None:
        vm.run(f"mkdir -p {GUEST_BIN}", timeout=30)
        vm.upload(program_path(sc), f"{GUEST_BIN}/{sc.program}")
    for cmd in sc.setup:
        r = vm.run(cmd, timeout=180)
        if not r.ok:
            out.setup_error = f"setup failed: {cmd}: {(r.stderr or r.stdout).strip()[-300:]}"
            return
    argv = list(spec.command) if spec.command is not None else sc.argv(spec.duration, spec.seed)
    tag = f"{sc.name}#{spec.index}"
    up = vm.run("cat /proc/uptime", timeout=30)
    try:
        out.start_uptime = float(up.stdout.split()[0])
    except (IndexError, ValueError):
        pass
    r = vm.run(
        shlex.join(argv),
        timeout=spec.duration + OVERRUN_GRACE,
        on_stderr=lambda line: progress(f"{tag}: {line}") if line.strip() else None,
    )
    out.exit_status, out.stdout, out.timed_out = r.exit_status, r.stdout, r.timed_out
    if r.exit_status == 2 and spec.command is None:
        out.setup_error = f"{sc.program} could not run: {r.stderr.strip()[-300:]}"
    if r.timed_out:
        return
    for cmd in sc.teardown:
        t = vm.run(cmd, timeout=180)
        if not t.ok:
            out.teardown_errors.append(f"teardown failed: {cmd}: {(t.stderr or t.stdout).strip()[-200:]}")


_TIMESTAMP = re.compile(rb"^\[\s*(\d+\.\d+)\]")


def _console_time(console: bytes, line_no: int) -> float | None:
    """The printk timestamp at (or just before) 1-based console line ``line_no``."""
    lines = console.splitlines()[: max(0, line_no)]
    for raw in reversed(lines):
        m = _TIMESTAMP.match(raw.lstrip(b"\x00"))
        if m:
            return float(m.group(1))
    return None


def _detection(reports, console: bytes, out: _Outcome, counters: dict | None) -> float | None:
    """Seconds of stress until the failure showed: the first report's console
    time, or the program's first oracle failure."""
    times = []
    if reports and out.start_uptime is not None:
        t = _console_time(console, reports[0].start_line)
        if t is not None:
            times.append(max(0.0, t - out.start_uptime))
    if counters and isinstance(counters.get("first_failure_s"), (int, float)):
        times.append(float(counters["first_failure_s"]))
    return min(times) if times else None


def _judge(result: RunResult, sc: Scenario, vm: VM, spec: RunSpec, out: _Outcome) -> None:
    console = vm.console_log.read_bytes() if vm.console_log.exists() else b""
    reports = analysis.analyze(console, spec.suppressions or None)
    reports, result.set_aside = starvation.split(reports, vm.vcpu_samples)
    result.titles = [r.title for r in reports]
    if reports:
        result.report = reports[0].text
    # A peer's output (spec.command) has no counters of ours: only the console judges it.
    result.counters = counters_from_output(out.stdout) if out.stdout and spec.command is None else None
    if result.counters is not None and out.exit_status is not None:
        result.oracle_failures = list(sc.oracle(result.counters))
        if out.exit_status == 1 and not result.oracle_failures:
            result.oracle_failures = [f"{sc.program} exited 1 (oracle broken)"]
    result.oracle_failures += out.teardown_errors
    if out.setup_error and not reports:
        result.verdict, result.error_kind, result.message = ERROR, "infrastructure", out.setup_error
        return
    coverage = sc.coverage(result.counters) if result.counters is not None and out.exit_status == 0 else []
    if coverage and not reports and not result.oracle_failures:
        # The stress did not really run (e.g. no event was ever added): not a pass,
        # and not the kernel's fault either.
        result.verdict, result.error_kind = ERROR, "infrastructure"
        result.message = "scenario did too little: " + "; ".join(coverage)
        return
    if out.lost is not None and not reports:
        if out.qemu_status is not None and out.qemu_status < 0:
            # QEMU was killed from outside (a signal) and the console shows no kernel death.
            result.verdict, result.error_kind = ERROR, "infrastructure"
            result.message = f"QEMU was killed (signal {-out.qemu_status}); {out.lost.message}"
            return
        result.titles = [LOST_CONNECTION]
    elif out.timed_out and not reports:
        result.titles = [NO_OUTPUT]
    if result.titles or result.oracle_failures:
        result.verdict = FAIL
        result.detection_s = _detection(reports, console, out, result.counters)
        result.message = (result.titles or [f"oracle: {result.oracle_failures[0]}"])[0]
        if not result.report:
            result.report = "\n".join(result.oracle_failures) or vm.console_tail(60)
    else:
        result.verdict, result.message = PASS, "ok"
    if result.set_aside:
        first = result.set_aside[0]
        result.message += f" ({len(result.set_aside)} report(s) set aside: {first['title']}: {first['why']})"

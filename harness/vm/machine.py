"""One guest's lifecycle: start QEMU, wait for the ready marker, ssh in, tear down.

Teardown always kills QEMU: on normal exit, on exceptions, on Ctrl-C (the
context manager), at interpreter exit (atexit), and when the harness itself
is killed (PR_SET_PDEATHSIG in the child).
"""

from __future__ import annotations

import atexit
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness import proc, signals
from harness.errors import BootError, GuestLost, InfraError
from harness.vm.qemu import Accel, QemuConfig, detect_accel, free_port, qemu_argv
from harness.vm.vcpu import Ledger, Sample
from harness.vm.ssh import CommandResult, SSHClient

Progress = Callable[[str], None]

# Console lines that mean the boot is over and will not reach the ready marker.
BOOT_FATAL = (b"Kernel panic - not syncing",)
# Under KVM on a host that only pretends to support it, the guest prints nothing
# past the decompressor; give up on KVM after this long without "Linux version".
KVM_PROGRESS_TIMEOUT = 20.0

_LIVE: set[subprocess.Popen] = set()
_accel_fallback: Accel | None = None


def kill_all() -> None:
    """Kill every QEMU this process started (Ctrl-C in a thread pool, atexit)."""
    for p in list(_LIVE):
        proc.kill_group(p, grace=1.0)
        _LIVE.discard(p)


atexit.register(kill_all)


@dataclass
class VMOptions:
    memory_mb: int = 2048
    cpus: int = 2
    scratch_disk_mb: int = 0
    cmdline_extra: tuple[str, ...] = ()
    boot_timeout: float = 300.0
    accel: Accel | None = None
    qemu: str = "qemu-system-x86_64"


@dataclass
class VM:
    bzimage: Path
    rootfs: Path
    ssh_key: Path
    ready_marker: str
    workdir: Path
    options: VMOptions = field(default_factory=VMOptions)
    progress: Progress = print
    user: str = "root"

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.console_log = self.workdir / "console.log"
        self.qemu_log = self.workdir / "qemu.log"
        self._proc: subprocess.Popen | None = None
        self._ssh: SSHClient | None = None
        self.accel: Accel | None = None
        self.port = 0
        self.boot_seconds = 0.0
        self._ledger: Ledger | None = None
        # What the vCPU threads got from the host, kept after stop() for the judging.
        self.vcpu_samples: list[Sample] = []

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> "VM":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        global _accel_fallback
        accel = self.options.accel or _accel_fallback or detect_accel()
        t0 = time.monotonic()
        try:
            self._boot(accel, t0)
        except _NoKvmProgress:
            self.stop()
            _accel_fallback = Accel("tcg", "KVM guest made no console progress; fell back to TCG")
            self._boot(_accel_fallback, t0)
        self.boot_seconds = time.monotonic() - t0

    def _boot(self, accel: Accel, t0: float) -> None:
        self.accel = accel
        self.progress(f"vm: booting with {accel.name} ({accel.reason}); console: {self.console_log}")
        scratch = None
        if self.options.scratch_disk_mb:
            scratch = self.workdir / "scratch.img"
            with open(scratch, "wb") as f:
                f.truncate(self.options.scratch_disk_mb << 20)
        for attempt in range(3):
            if signals.stopping():  # a pool thread must not boot a guest after Ctrl-C / SIGTERM
                raise KeyboardInterrupt
            self.port = free_port()
            cfg = QemuConfig(
                bzimage=self.bzimage,
                rootfs=self.rootfs,
                console_log=self.console_log,
                ssh_port=self.port,
                accel=accel.name,
                memory_mb=self.options.memory_mb,
                cpus=self.options.cpus,
                scratch_disk=scratch,
                cmdline_extra=self.options.cmdline_extra,
                qemu=self.options.qemu,
            )
            argv = qemu_argv(cfg)
            (self.workdir / "qemu.argv").write_text("\n".join(argv) + "\n")
            self.console_log.write_bytes(b"")
            qlog = open(self.qemu_log, "wb")
            try:
                self._proc = proc.spawn(argv, stdout=qlog, die_with_parent=True)
            except FileNotFoundError as e:
                raise InfraError(f"{argv[0]} not found; run 'make deps' (apt package qemu-system-x86)") from e
            finally:
                qlog.close()
            _LIVE.add(self._proc)
            time.sleep(0.3)
            if self._proc.poll() is not None and b"hostfwd" in self.qemu_log.read_bytes():
                continue  # lost the port race to another VM; take another port
            break
        self._ledger = Ledger(self._proc.pid, self.console_log, self.workdir / "vcpu.tsv").start()
        self.vcpu_samples = self._ledger.samples
        self._wait_ready(accel, t0)
        self._ssh = SSHClient("127.0.0.1", self.port, self.ssh_key, self.user)
        self._ssh.connect(time.monotonic() + 60, alive=self.alive)

    def _wait_ready(self, accel: Accel, t0: float) -> None:
        deadline = t0 + self.options.boot_timeout
        marker = self.ready_marker.encode()
        seen_linux = False
        while True:
            data = self._console_bytes()
            if marker in data:
                return
            seen_linux = seen_linux or b"Linux version" in data
            for fatal in BOOT_FATAL:
                if fatal in data:
                    self._boot_failed(f"kernel did not boot: {fatal.decode()}")
            if self._proc is not None and self._proc.poll() is not None:
                qemu_out = self.qemu_log.read_text(errors="replace").strip().splitlines()
                if not data.strip() and qemu_out:
                    raise InfraError(f"QEMU exited at start: {qemu_out[-1][:300]}", log=str(self.qemu_log))
                self._boot_failed(f"QEMU exited during boot (status {self._proc.returncode})")
            now = time.monotonic()
            if accel.name == "kvm" and not seen_linux and now - t0 > KVM_PROGRESS_TIMEOUT:
                raise _NoKvmProgress()
            if now > deadline:
                self._boot_failed(f"no ready marker within {int(self.options.boot_timeout)}s")
            if signals.stopping():  # a pool thread: the main thread is unwinding already
                raise KeyboardInterrupt
            time.sleep(0.1)

    def _boot_failed(self, why: str) -> None:
        tail = self.console_tail(15)
        raise BootError(why, log=str(self.console_log), detail=tail)

    def stop(self) -> None:
        if self._ssh is not None:
            self._ssh.close()
            self._ssh = None
        if self._proc is not None:
            proc.kill_group(self._proc, grace=1.0)
            _LIVE.discard(self._proc)
            self._proc = None
        if self._ledger is not None:
            self._ledger.stop()
            self._ledger = None

    # -- state ---------------------------------------------------------------

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def qemu_status(self, wait: float = 0.0) -> int | None:
        """QEMU's exit status (negative: killed by that signal); None while it
        still runs after ``wait`` seconds."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=wait) if wait > 0 else self._proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def _console_bytes(self) -> bytes:
        try:
            return self.console_log.read_bytes()
        except OSError:
            return b""

    def console_text(self) -> str:
        return self._console_bytes().decode("utf-8", "replace")

    def console_tail(self, lines: int = 40) -> str:
        return "\n".join(self.console_text().replace("\r", "").splitlines()[-lines:])

    # -- guest access --------------------------------------------------------

    def run(self, command: str, timeout: float = 60.0, on_stdout=None, on_stderr=None) -> CommandResult:
        if self._ssh is None:
            raise GuestLost("VM is not running", console_tail=self.console_tail(), log=str(self.console_log))
        try:
            return self._ssh.run(command, timeout, on_stdout, on_stderr)
        except GuestLost as e:
            # Give QEMU a moment to flush the console and exit, so the tail shows why.
            end = time.monotonic() + 3
            while self.alive() and time.monotonic() < end:
                time.sleep(0.1)
            raise GuestLost(e.message, console_tail=self.console_tail(), log=str(self.console_log)) from e

    def upload(self, local: Path, remote: str, mode: int = 0o755) -> None:
        if self._ssh is None:
            raise GuestLost("VM is not running", log=str(self.console_log))
        self._ssh.upload(local, remote, mode)


class _NoKvmProgress(Exception):
    pass

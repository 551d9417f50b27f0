"""QEMU: accelerator choice and the argv, built by pure functions."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError

# The guest's address on QEMU's user network; the kernel configures it from ip=.
GUEST_IP = "10.0.2.15"
GATEWAY = "10.0.2.2"

# Kernel command line, one reason per entry.
BASE_CMDLINE = (
    "console=ttyS0",  # the serial console is the log the analysis reads
    "root=/dev/vda",
    "rw",
    "init=/sbin/harness-init",  # our own init: no systemd, ready in a second
    f"ip={GUEST_IP}::{GATEWAY}:255.255.255.0::eth0:off",  # kernel-level network config, no DHCP client
    "printk.time=1",
    "panic=-1",  # reboot at once on panic; with -no-reboot QEMU then exits, so death is prompt
    "mitigations=off",  # CPU bug mitigations only slow TCG down; the guest is disposable
    "watchdog_thresh=2",  # soft lockups reported after ~4 s, so fsnotify walks show up in a short VM
    "random.trust_cpu=on",  # sshd needs getrandom() early
    "tsc=reliable",  # TCG's TSC looks unstable to the kernel; skip the clocksource watchdog dance
    "no_hash_pointers",  # real pointers in reports (BUG: Dentry %p) so addresses can be correlated
)


@dataclass(frozen=True)
class Accel:
    name: str  # "kvm" or "tcg"
    reason: str


ACCELS = ("kvm", "tcg")


def forced_accel(env: dict[str, str] | None = None) -> str | None:
    """HARNESS_ACCEL's choice, or None when it is unset or empty.

    Any other value is the user's mistake: "HARNESS_ACCEL=kmv" quietly
    falling back to detection would run a whole suite under TCG (or KVM)
    without saying so. Entry points call this before anything slow.
    """
    env = dict(os.environ) if env is None else env
    raw = env.get("HARNESS_ACCEL", "")
    forced = raw.strip().lower()
    if not forced:
        return None
    if forced not in ACCELS:
        raise UserError(f"HARNESS_ACCEL={raw!r}: expected one of {', '.join(ACCELS)} (or unset, to detect)")
    return forced


def detect_accel(
    env: dict[str, str] | None = None, cpuinfo: str | None = None, kvm_device: str = "/dev/kvm"
) -> Accel:
    """KVM only where it really works.

    /dev/kvm can exist, and KVM_CREATE_VM succeed, on a CPU without vmx/svm
    (nested setups): such a guest stalls at "Decompressing Linux". So both the
    device and the CPU flag are required; a guest that then makes no console
    progress is restarted under TCG by the VM (see vm.VM.start).
    HARNESS_ACCEL=kvm|tcg forces a choice.
    """
    forced = forced_accel(env)
    if forced:
        return Accel(forced, "forced by HARNESS_ACCEL")
    if not os.access(kvm_device, os.R_OK | os.W_OK):
        return Accel("tcg", f"no usable {kvm_device}")
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    if not flags & {"vmx", "svm"}:
        return Accel("tcg", "/dev/kvm exists but the CPU has no vmx/svm flag")
    return Accel("kvm", "/dev/kvm usable and the CPU has vmx/svm")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (QEMU may still lose a race for it; the VM retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class QemuConfig:
    bzimage: Path
    rootfs: Path
    console_log: Path
    ssh_port: int
    accel: str = "tcg"
    memory_mb: int = 2048
    cpus: int = 2
    scratch_disk: Path | None = None
    cmdline_extra: tuple[str, ...] = field(default_factory=tuple)
    qemu: str = "qemu-system-x86_64"


def cmdline(cfg: QemuConfig) -> str:
    return " ".join(BASE_CMDLINE + tuple(cfg.cmdline_extra))


def qemu_argv(cfg: QemuConfig) -> list[str]:
    """The whole QEMU command line for one guest. Pure: same config, same argv."""
    if cfg.accel == "kvm":
        accel, cpu = ["-accel", "kvm"], ["-cpu", "host"]
    else:
        # thread=multi: one host thread per vCPU, so 2 vCPUs really race on 2 cores.
        accel, cpu = ["-accel", "tcg,thread=multi"], ["-cpu", "max"]
    argv = [
        cfg.qemu,
        "-nodefaults",
        "-no-user-config",
        # Thread names "CPU <n>/TCG": the vCPU ledger (vcpu.py) finds them by name.
        "-name", "harness,debug-threads=on",
        "-display", "none",
        "-no-reboot",  # a guest that panics or reboots is over; never loop
        # q35, not pc: on pc, ACPI's PCI interrupt-link setup (LNKx _SRS) costs ~10 s
        # per virtio device under TCG+KASAN; q35 routes them without it.
        "-machine", "q35",
        # qboot, not SeaBIOS: it hands over to the kernel sooner under TCG, passes
        # QEMU's ACPI tables on, and its MP table lists every vCPU, so a kernel built
        # without ACPI still gets them all (SeaBIOS's lists only the boot CPU).
        "-bios", "qboot.rom",
        *accel,
        *cpu,
        "-smp", str(cfg.cpus),
        "-m", str(cfg.memory_mb),
        "-kernel", str(cfg.bzimage),
        "-append", cmdline(cfg),
        # snapshot=on: writes go to a private temp overlay, so every VM shares one read-only image.
        "-drive", f"file={cfg.rootfs},if=virtio,format=raw,snapshot=on",
        # restrict=on: the guest reaches nothing outside; only the forwarded ssh port comes in,
        # and it listens on 127.0.0.1 alone.
        "-netdev", f"user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:{cfg.ssh_port}-:22",
        "-device", "virtio-net-pci,netdev=net0",
        "-device", "virtio-rng-pci",
        # The console goes to a file as it arrives, so it survives whatever happens to us.
        "-serial", f"file:{cfg.console_log}",
    ]
    if cfg.scratch_disk is not None:
        argv += ["-drive", f"file={cfg.scratch_disk},if=virtio,format=raw,cache=unsafe"]
    return argv

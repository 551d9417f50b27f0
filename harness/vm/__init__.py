"""One guest: QEMU + console capture + ssh."""

from harness.vm.machine import VM, VMOptions
from harness.vm.qemu import Accel, QemuConfig, detect_accel, qemu_argv
from harness.vm.ssh import CommandResult

__all__ = ["VM", "VMOptions", "Accel", "QemuConfig", "CommandResult", "detect_accel", "qemu_argv"]

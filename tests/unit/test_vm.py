import time
from pathlib import Path

import pytest

from harness.errors import BootError, InfraError, UserError
from harness.vm import VM, VMOptions, machine
from harness.vm.qemu import QemuConfig, detect_accel, qemu_argv

FAKE_QEMU = str(Path(__file__).parent / "fakes" / "fake-qemu")


def cfg(tmp_path, **kw):
    base = dict(
        bzimage=tmp_path / "bzImage", rootfs=tmp_path / "root.ext4", console_log=tmp_path / "console.log", ssh_port=2222
    )
    base.update(kw)
    return QemuConfig(**base)


def test_argv_is_pure_and_safe(tmp_path):
    a = qemu_argv(cfg(tmp_path))
    assert a == qemu_argv(cfg(tmp_path))
    joined = " ".join(a)
    assert "hostfwd=tcp:127.0.0.1:2222-:22" in joined, "ssh must listen on 127.0.0.1 only"
    assert "restrict=on" in joined
    assert "snapshot=on" in joined, "the root image is shared read-only"
    assert "-no-reboot" in a
    assert a[a.index("-accel") + 1] == "tcg,thread=multi"
    assert f"file:{tmp_path / 'console.log'}" in a
    assert "console=ttyS0" in a[a.index("-append") + 1]


def test_argv_kvm_and_scratch_disk(tmp_path):
    a = qemu_argv(cfg(tmp_path, accel="kvm", scratch_disk=tmp_path / "s.img", cmdline_extra=("foo=1",)))
    assert a[a.index("-accel") + 1] == "kvm" and a[a.index("-cpu") + 1] == "host"
    assert any(x.startswith(f"file={tmp_path / 's.img'}") for x in a)
    assert a[a.index("-append") + 1].endswith(" foo=1")


def test_accel_needs_cpu_flag_not_just_dev_kvm(tmp_path):
    dev = tmp_path / "kvm"
    dev.write_text("")
    assert detect_accel({}, "flags\t: fpu sse2 hypervisor\n", str(dev)).name == "tcg"
    assert detect_accel({}, "flags\t: fpu vmx sse2\n", str(dev)).name == "kvm"
    assert detect_accel({}, "flags\t: fpu vmx\n", str(tmp_path / "absent")).name == "tcg"
    assert detect_accel({"HARNESS_ACCEL": "kvm"}, "", str(tmp_path / "absent")).name == "kvm"
    assert detect_accel({"HARNESS_ACCEL": " TCG "}, "flags\t: vmx\n", str(dev)).name == "tcg"
    assert detect_accel({"HARNESS_ACCEL": ""}, "flags\t: vmx\n", str(dev)).name == "kvm"  # empty: detect
    with pytest.raises(UserError, match="HARNESS_ACCEL='kmv'"):
        detect_accel({"HARNESS_ACCEL": "kmv"}, "flags\t: vmx\n", str(dev))


def make_vm(tmp_path, **opts):
    o = VMOptions(qemu=FAKE_QEMU, boot_timeout=opts.pop("boot_timeout", 20), **opts)
    return VM(tmp_path / "bz", tmp_path / "root", tmp_path / "key", "READY", tmp_path / "vm", o, progress=lambda m: None)


def test_kernel_panic_at_boot_is_a_boot_error_with_console_tail(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QEMU_MODE", "panic")
    t0 = time.monotonic()
    with pytest.raises(BootError) as e:
        with make_vm(tmp_path):
            pass
    assert time.monotonic() - t0 < 10
    assert "Kernel panic" in str(e.value) and "Unable to mount root fs" in e.value.detail
    assert (tmp_path / "vm" / "console.log").read_text().startswith("[    0.000000] Linux version")


def test_qemu_that_cannot_start_is_an_infrastructure_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QEMU_MODE", "exit")
    with pytest.raises(InfraError, match="QEMU exited at start"):
        with make_vm(tmp_path):
            pass


def test_no_marker_within_deadline_is_a_boot_error_and_qemu_is_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QEMU_MODE", "hang")
    vm = make_vm(tmp_path, boot_timeout=2)
    with pytest.raises(BootError, match="no ready marker within 2s"):
        with vm:
            pass
    assert not vm.alive() and not machine._LIVE


def test_kvm_without_console_progress_falls_back_to_tcg(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_QEMU_MODE", "silent")
    monkeypatch.setattr(machine, "KVM_PROGRESS_TIMEOUT", 1.0)
    monkeypatch.setattr(machine, "_accel_fallback", None)
    vm = make_vm(tmp_path, boot_timeout=3, accel=None)
    monkeypatch.setattr(machine, "detect_accel", lambda: machine.Accel("kvm", "test"))
    with pytest.raises(BootError):
        with vm:
            pass
    argv = (tmp_path / "vm" / "qemu.argv").read_text().splitlines()
    assert argv[argv.index("-accel") + 1] == "tcg,thread=multi"
    assert "fell back to TCG" in vm.accel.reason


def test_qemu_status_waits_for_a_qemu_that_is_still_exiting(tmp_path):
    """ssh sees a killed QEMU's sockets close before QEMU can be reaped; the
    run asks with a wait so the signal is not missed (a false FAIL otherwise)."""
    import signal
    import subprocess
    import sys

    vm = VM(tmp_path / "bzImage", tmp_path / "rootfs", tmp_path / "key", "ready", tmp_path / "vm")
    assert vm.qemu_status(wait=1.0) is None  # never started
    code = "import os, signal, time; time.sleep(0.5); os.kill(os.getpid(), signal.SIGKILL)"
    vm._proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        assert vm.qemu_status() is None  # still running: no wait, no status
        t0 = time.monotonic()
        assert vm.qemu_status(wait=10.0) == -signal.SIGKILL
        assert time.monotonic() - t0 < 5.0
        live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        vm._proc = live
        assert vm.qemu_status(wait=0.2) is None  # a QEMU that lives on is not waited for forever
    finally:
        vm._proc.kill()
        vm._proc.wait()

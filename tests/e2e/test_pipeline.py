"""The boot pipeline end to end: default kernel -> image -> QEMU -> ssh."""

import subprocess


from harness.paths import REPO
from harness.vm import VM, VMOptions

HARNESS = str(REPO / ".venv" / "bin" / "harness")


def harness(*args, timeout=1800):
    return subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=timeout)


def test_default_kernel_has_what_the_scenarios_need(kernel):
    cfg = kernel.config()
    for sym in ("CONFIG_KASAN", "CONFIG_XFS_FS", "CONFIG_KPROBE_EVENTS", "CONFIG_INOTIFY_USER", "CONFIG_SOFTLOCKUP_DETECTOR"):
        assert cfg.get(sym) == "y", sym
    assert kernel.vmlinux.is_file() and kernel.bzimage.is_file()


def test_boot_runs_commands_with_kasan_active(kernel, image, tmp_path):
    with VM(kernel.bzimage, image.rootfs, image.ssh_key, image.ready_marker, tmp_path, VMOptions(), progress=print) as vm:
        r = vm.run("uname -r; id -u; cat /proc/cmdline", timeout=60)
        assert r.ok, r.stderr
        release, uid, cmdline = r.stdout.splitlines()[:3]
        assert release.startswith("6.12") and uid == "0" and "console=ttyS0" in cmdline
        r = vm.run("ls /sys/kernel/tracing/events | head -3; test -d /sys/kernel/tracing/events/kprobes || echo no-kprobes-dir", timeout=60)
        assert r.ok and r.stdout.strip()
        assert vm.run("exit 3", timeout=30).exit_status == 3
    console = (tmp_path / "console.log").read_text(errors="replace")
    assert "KernelAddressSanitizer initialized" in console
    assert image.ready_marker in console


def test_cli_boot_prints_output_and_exits_with_guest_status():
    r = harness("boot", "--", "sh", "-c", "uname -r; exit 7")
    assert r.returncode == 7, r.stderr[-2000:]
    assert r.stdout.strip().startswith("6.12")
    assert "vm: booting with" in r.stderr  # the accelerator choice is said


def test_kernel_that_cannot_mount_root_is_one_line_boot_error():
    r = harness("boot", "--append", "root=/dev/vdz", "--boot-timeout", "240", "--", "true")
    assert r.returncode == 3, r.stderr[-2000:]
    first = r.stderr.strip().splitlines()
    line = next(l for l in first if l.startswith("harness: "))
    assert "boot error" in line and "Kernel panic" in line
    assert "Traceback" not in r.stderr


def test_bad_kernel_path_is_one_line_user_error():
    r = harness("boot", "--kernel", "/nonexistent/linux", "--", "true", timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == "harness: user error: KERNEL=/nonexistent/linux: no such file or directory"

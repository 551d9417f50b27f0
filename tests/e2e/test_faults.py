"""Injected faults on real VMs: QEMU killed mid-scenario, Ctrl-C mid-run."""

import json
import os
import signal
import subprocess
import time

from harness.paths import REPO

HARNESS = str(REPO / ".venv" / "bin" / "harness")


def qemu_pids(marker: str) -> list[int]:
    """QEMU processes whose command line mentions ``marker`` (our results dir)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith("qemu-system") and marker in cmd:
            pids.append(int(d))
    return pids


def start(tmp_path, *args):
    out = tmp_path / "results"
    log = open(tmp_path / "harness.log", "w")
    p = subprocess.Popen([HARNESS, "run", "--results", str(out), *args], stdout=log, stderr=subprocess.STDOUT, text=True)
    return p, out


def wait_for(path, text, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_qemu_killed_mid_scenario_is_an_infrastructure_error_and_the_console_is_kept(tmp_path):
    p, out = start(tmp_path, "--scenario", "negdentry-inotify", "--duration", "60")
    wait_for(tmp_path / "harness.log", "stressing for 60s")
    pids = qemu_pids(str(out))
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    assert p.wait(timeout=120) == 3
    (res,) = json.loads((out / "results.json").read_text())["results"]
    assert res["verdict"] == "ERROR" and res["error_kind"] == "infrastructure" and "signal 9" in res["message"]
    assert "Linux version" in (out / "vms" / "negdentry-inotify-0" / "console.log").read_text(errors="replace")


def test_ctrl_c_kills_every_qemu_within_5s_and_writes_partial_results(tmp_path):
    p, out = start(tmp_path, "--scenario", "selftest-crash", "--scenario", "negdentry-inotify", "--duration", "60")
    wait_for(tmp_path / "harness.log", "negdentry-inotify#0: guest up")
    assert qemu_pids(str(out))
    p.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    while qemu_pids(str(out)) and time.monotonic() - t0 < 5:
        time.sleep(0.1)
    assert not qemu_pids(str(out)), "QEMU still running 5 s after Ctrl-C"
    assert p.wait(timeout=30) == 130
    (res,) = json.loads((out / "results.json").read_text())["results"]  # the finished item only
    assert res["scenario"] == "selftest-crash" and res["verdict"] == "FAIL"
    assert "interrupted" in (tmp_path / "harness.log").read_text()

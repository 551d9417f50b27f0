"""Injected faults on real VMs: QEMU killed mid-scenario, Ctrl-C mid-run."""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

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


# -- CI cancel and Ctrl-C at the real stages (#18) ------------------------------
#
# `make test` is started in a session of its own, as CI and a terminal start
# it, and the whole group is signalled. A process belongs to the run when its
# environment carries the run's marker, which every child inherits: make,
# pytest and its xdist worker, the kernel make and its compilers, QEMU.

STOP_WITHIN = 10.0


def marked(mark: bytes) -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if mark in f.read():
                        pids.append(int(d))
            except OSError:
                pass
    return pids


class MakeTest:
    def __init__(self, tmp_path, name, **make_vars):
        self.mark = f"HARNESS_E2E_RUN={uuid.uuid4().hex}"
        self.log = tmp_path / f"{name}.log"
        env = dict(os.environ, HARNESS_E2E_RUN=self.mark.split("=", 1)[1], HARNESS_RESULTS=str(tmp_path / "results"))
        argv = ["make", "-s", "test", *(f"{k}={v}" for k, v in make_vars.items())]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def __enter__(self) -> "MakeTest":
        return self

    def __exit__(self, *exc) -> None:
        # A failed assertion must not leave a kernel build or a QEMU behind.
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in marked(self.mark.encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait_for(self, text: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            for line in self.output().splitlines():
                if text in line:
                    return line
            time.sleep(0.5)
        raise AssertionError(f"{text!r} never appeared:\n{self.output()[-3000:]}")

    def interrupt(self, sig) -> float:
        start = time.monotonic()
        os.killpg(self.proc.pid, sig)
        while time.monotonic() - start < STOP_WITHIN:
            self.proc.poll()
            if not marked(self.mark.encode()):
                return time.monotonic() - start
            time.sleep(0.1)
        left = marked(self.mark.encode())
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"processes of the run left {STOP_WITHIN:.0f} s after {sig.name}: {left}")

    def assert_ended_by(self, sig) -> None:
        rc = self.proc.wait(timeout=10)
        # pytest under make exits 128 + sig (harness.pytest_signals) and says
        # so; make itself dies of SIGTERM, but after SIGINT it reports its
        # child's status as make does, with 2.
        out = self.output()
        assert rc in (-sig, 128 + sig, 2), f"exit {rc}\n{out[-3000:]}"
        assert f"harness: interrupted by {sig.name}: exit code {128 + sig}" in out, out[-3000:]
        assert "Traceback" not in out


def _steps(log: Path) -> int:
    """Build steps logged (CC, HOSTCC, LD, ...): kbuild's quiet lines."""
    try:
        return sum(1 for ln in log.read_text(errors="replace").splitlines() if ln[:2] == "  " and ln[2:3].isupper())
    except OSError:
        return 0


def _lock_free(path: Path) -> bool:
    import fcntl

    with open(path, "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True


def test_make_test_stops_the_real_kernel_build_on_sigterm_and_sigint(tmp_path):
    """The CI cancel of #18: the kernel make ran on, orphaned, after SIGTERM to make test's group.

    An extra fragment gives this build a key of its own, so the shared
    default build is never touched; ccache (warm from the default build)
    keeps the short stretch of building cheap, and the build dir is removed
    at the end.
    """
    frag = tmp_path / "ikconfig.config"
    frag.write_text("# A harmless symbol: it gives this test's build a key of its own.\nCONFIG_IKCONFIG=y\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"scenarios: [selftest-crash]\nfragments: [{frag}]\n")
    bdir = None
    try:
        timings = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            with MakeTest(tmp_path, sig.name, PARALLEL=1, PLAN=plan) as run:
                line = run.wait_for("kernel: building", timeout=600)
                assert "waiting for another build" not in run.output()  # the last run released the lock
                bdir = Path(line.split(" in ", 1)[1].split(" with -j", 1)[0])
                end = time.monotonic() + 180
                while _steps(bdir / "build.log") < 20 and time.monotonic() < end:
                    time.sleep(0.5)
                assert _steps(bdir / "build.log") >= 20, run.output()[-2000:]
                timings[sig.name] = run.interrupt(sig)
                print(f"\nreal kernel build, {sig.name}: every process gone in {timings[sig.name]:.2f} s")
                run.assert_ended_by(sig)
            assert not (bdir / ".harness-built").exists()
            assert _lock_free(bdir.parent / f"{bdir.name}.lock")
        print(f"\nreal kernel build stopped in: {timings}")
    finally:
        if bdir is not None and bdir.name != "build":
            shutil.rmtree(bdir, ignore_errors=True)
            (bdir.parent / f"{bdir.name}.lock").unlink(missing_ok=True)


def test_make_test_stops_qemu_in_the_boot_and_run_stages_and_the_next_run_works(kernel, image, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("scenarios: [{name: negdentry-inotify, duration: 60}]\n")
    timings = {}
    # SIGTERM while the scenario runs, SIGINT while the guest boots.
    for sig, stage in ((signal.SIGTERM, "stressing for 60s"), (signal.SIGINT, "vm: booting")):
        with MakeTest(tmp_path, sig.name, PARALLEL=1, PLAN=plan) as run:
            run.wait_for(stage, timeout=300)
            timings[f"{stage} ({sig.name})"] = run.interrupt(sig)
            print(f"\n{stage!r}, {sig.name}: every process gone in {timings[f'{stage} ({sig.name})']:.2f} s")
            run.assert_ended_by(sig)
        assert not list((tmp_path / "results").glob("*/items/*.json")), "an interrupted item was stored as done"
    # The next make test: a guest crashed on purpose, judged as it should be.
    plan.write_text("scenarios: [{name: selftest-crash, duration: 5}]\n")
    with MakeTest(tmp_path, "next", PARALLEL=1, PLAN=plan) as run:
        assert run.proc.wait(timeout=600) == 2  # make's own code for a failed recipe
    assert "harness: exit code 1 (kernel failure)" in run.output(), run.output()[-3000:]
    print(f"\nQEMU stopped in: {timings}")

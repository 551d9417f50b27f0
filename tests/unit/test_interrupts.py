"""SIGINT and SIGTERM to the run's process group, stage by stage, over the fakes.

Each test starts the harness (or `make test`'s pytest) in a session of its
own, as CI and a terminal do, waits for one stage, signals the whole group
and asserts three things: no process of the run is left after 10 s, the exit
code is 128 + the signal, and the next run works. A process belongs to the
run when its environment carries the run's marker, which every child
inherits (make, its jobs, QEMU, the image tools, xdist workers).

The real kernel build and real QEMU get the same treatment in
tests/e2e/test_faults.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness.paths import REPO

FAKES = Path(__file__).parent / "fakes"
STOP_WITHIN = 10.0
SIGNALS = [signal.SIGINT, signal.SIGTERM]


def run_processes(mark: str) -> list[int]:
    """Pids whose environment holds ``mark``."""
    needle = mark.encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read():
                    pids.append(int(d))
        except OSError:
            continue
    return pids


def describe(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append(f"{pid}: {cmd[:400]}")
        except OSError:
            pass
    return out


class Env:
    """A cache, a results dir and a PATH of fakes of the test's own."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.cache = tmp / "cache"
        self.results = tmp / "results"
        self.bin = tmp / "bin"
        self.bin.mkdir()
        os.symlink(FAKES / "fake-qemu", self.bin / "qemu-system-x86_64")
        os.symlink(FAKES / "fake-debootstrap", self.bin / "debootstrap")
        self.count = 0

    def environ(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HARNESS_CACHE=str(self.cache),
            HARNESS_RESULTS=str(self.results),
            HARNESS_ACCEL="tcg",
            PATH=f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}",
        )
        env.pop("FAKE_MAKE_SLEEP", None)
        env.update(extra)
        return env

    def start(self, argv: list[str], **extra: str) -> "Run":
        self.count += 1
        return Run(self, argv, extra, self.tmp / f"run{self.count}.log")

    def run(self, argv: list[str], timeout: float = 120, **extra: str) -> tuple[int, str]:
        r = self.start(argv, **extra)
        rc = r.proc.wait(timeout=timeout)
        return rc, r.output()


class Run:
    def __init__(self, env: Env, argv: list[str], extra: dict[str, str], log: Path):
        self.mark = f"HARNESS_TEST_RUN={uuid.uuid4().hex}"
        self.log = log
        environ = env.environ(extra)
        environ["HARNESS_TEST_RUN"] = self.mark.split("=", 1)[1]
        with open(log, "wb") as out:
            # A session of its own: the test signals the whole group, as CI does.
            self.proc = subprocess.Popen(argv, cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; output:\n{self.output()}")

    def wait_for_process(self, name: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(name in line for line in describe(run_processes(self.mark))):
                return
            time.sleep(0.1)
        raise AssertionError(f"no {name} process of the run; output:\n{self.output()}")

    def interrupt(self, sig: int) -> float:
        """Signal the run's process group; the seconds until none of its processes is left."""
        assert self.proc.poll() is None, self.output()
        assert len(run_processes(self.mark)) > 1, "nothing started yet"
        start = time.monotonic()
        os.killpg(self.proc.pid, sig)
        while time.monotonic() - start < STOP_WITHIN:
            self.proc.poll()  # reap it, or it stays a zombie with its environment
            if not run_processes(self.mark):
                return time.monotonic() - start
            time.sleep(0.05)
        left = describe(run_processes(self.mark))
        for pid in run_processes(self.mark):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        raise AssertionError(f"still running {STOP_WITHIN:.0f} s after {signal.Signals(sig).name}: {left}")

    def assert_stopped_by(self, sig: int) -> None:
        rc = self.proc.wait(timeout=5)
        out = self.output()
        assert rc == 128 + sig, f"exit {rc}, expected {128 + sig}\n{out}"
        assert "Traceback" not in out, out


@pytest.fixture
def env(tmp_path, monkeypatch):
    e = Env(tmp_path)
    monkeypatch.setenv("HARNESS_CACHE", str(e.cache))
    return e


def fake_image(env: Env) -> None:
    """The guest image for this cache's recipe, as an empty file: the fakes never read it."""
    from harness.image.build import IMAGE_NAME, images_root
    from harness.image.keys import ssh_keypair
    from harness.image.recipe import load_recipe

    _, public = ssh_keypair()
    entry = images_root() / load_recipe(public.read_bytes()).key
    entry.mkdir(parents=True)
    (entry / IMAGE_NAME).write_bytes(b"")


def harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", *args]


def make_test(*args: str) -> list[str]:
    """What `make test` runs, with one worker."""
    return [sys.executable, "-m", "pytest", "tests/kernel", "-s", "-p", "no:cacheprovider", "-n", "1", *args]


def lock_is_free(path: Path) -> bool:
    import fcntl

    with open(path, "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True


def plan(tmp: Path, scenario: str, fragments: list[str] = ()) -> str:
    p = tmp / "plan.yaml"
    p.write_text(json.dumps({"scenarios": [scenario], "fragments": list(fragments)}))
    return str(p)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_kernel_build_stops_and_the_next_build_completes(env, fake_tree, sig):
    run = env.start(harness("build", "--kernel", str(fake_tree)), FAKE_MAKE_SLEEP="120")
    run.wait_for("kernel: building")
    run.wait_for_process("sleep 120")
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    assert "harness: interrupted" in run.output()
    (bdir,) = [p for p in (env.cache / "build").iterdir() if p.is_dir()]
    assert not (bdir / ".harness-built").exists(), "a stopped build left its stamp"
    assert all(lock_is_free(lk) for lk in (env.cache / "build").glob("*.lock"))
    rc, out = env.run(harness("build", "--kernel", str(fake_tree)))
    assert rc == 0 and "kernel: built in" in out, out
    print(f"build stage ({sig.name}): stopped in {took:.2f} s")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_make_test_build_stage_stops_and_the_next_make_test_runs(env, fake_tree, tmp_path, sig):
    """The CI case of issue #18: SIGTERM to `make test`'s group while the controller builds."""
    fake_image(env)
    argv = make_test(f"--kernel={fake_tree}", f"--plan={plan(tmp_path, 'selftest-crash')}")
    run = env.start(argv, FAKE_MAKE_SLEEP="120")
    run.wait_for_process("sleep 120")
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    # The next run builds and boots (a fake QEMU that panics: a boot error, exit 3).
    rc, out = env.run(argv, FAKE_QEMU_MODE="panic")
    assert rc == 3 and "kernel: built in" in out and "ERROR(boot)" in out, out
    print(f"make test, build stage ({sig.name}): stopped in {took:.2f} s")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_boot_stage_stops_qemu_and_the_next_make_test_runs(env, fake_tree, tmp_path, sig):
    fake_image(env)
    needs = tmp_path / "sysrq.config"
    needs.write_text("CONFIG_MAGIC_SYSRQ=y\n")
    argv = make_test(f"--kernel={fake_tree}", f"--plan={plan(tmp_path, 'selftest-crash', [str(needs)])}")
    run = env.start(argv, FAKE_QEMU_MODE="hang")
    run.wait_for_process("qemu-system-x86_64", timeout=60)
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    # The next run boots again (a fake QEMU that panics: a boot error, exit 3, with its console).
    rc, out = env.run(argv, FAKE_QEMU_MODE="panic")
    assert rc == 3 and "ERROR(boot)" in out, out
    print(f"make test, boot stage ({sig.name}): stopped in {took:.2f} s")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_harness_run_boot_stage_stops_qemu(env, fake_tree, tmp_path, sig):
    fake_image(env)
    needs = tmp_path / "sysrq.config"
    needs.write_text("CONFIG_MAGIC_SYSRQ=y\n")
    argv = harness("run", "--kernel", str(fake_tree), "--plan", plan(tmp_path, "selftest-crash", [str(needs)]))
    run = env.start(argv, FAKE_QEMU_MODE="hang")
    run.wait_for_process("qemu-system-x86_64", timeout=60)
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    rc, out = env.run(argv, FAKE_QEMU_MODE="panic")
    assert rc == 3, out
    print(f"harness run, boot stage ({sig.name}): stopped in {took:.2f} s")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_image_build_stops_debootstrap_and_leaves_no_image(env, sig):
    if os.geteuid() != 0:
        pytest.skip("the image build needs root")
    run = env.start(harness("image"), FAKE_DEBOOTSTRAP="sleep")
    run.wait_for_process("sleep 60", timeout=60)
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    images = env.cache / "images"
    assert not list(images.glob("*/rootfs.ext4")), "a stopped build left an image"
    assert lock_is_free(images / ".lock")
    # The next run takes the lock, clears the stopped build's dir and gets as far as debootstrap again.
    rc, out = env.run(harness("image"))
    assert rc == 3 and "image: debootstrap failed (exit 1): fake debootstrap: no network here" in out, out
    print(f"image stage ({sig.name}): stopped in {took:.2f} s")


def git(tree: Path, *args: str) -> str:
    r = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, check=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    return r.stdout.strip()


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_verify_build_stage_stops_and_the_next_verify_gets_there_again(env, fake_tree, tmp_path, sig):
    fake_image(env)
    (fake_tree / "init").mkdir()
    (fake_tree / "init" / "main.c").write_text("int x;\n")
    patch = tmp_path / "fix.patch"
    patch.write_text("--- a/init/main.c\n+++ b/init/main.c\n@@ -1 +1 @@\n-int x;\n+int y;\n")
    argv = harness("verify", "--kernel", str(fake_tree), "--patch", str(patch), "-s", "umount-check", "-n", "1")
    run = env.start(argv, FAKE_MAKE_SLEEP="120")
    run.wait_for_process("sleep 120")
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    assert all(lock_is_free(lk) for lk in (env.cache / "verify").glob("*.lock"))
    rc, out = env.run(argv, FAKE_QEMU_MODE="panic")
    assert "verify: copy in sync" in out and "Traceback" not in out, out
    assert rc == 3, out  # the fake QEMU panics: both sides fail to boot
    print(f"verify build stage ({sig.name}): stopped in {took:.2f} s")


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_bisect_step_stops_and_removes_its_worktree(env, fake_tree, sig):
    (fake_tree / "arch" / "x86" / "Kconfig").write_text("# fake\n")  # git keeps no empty dir
    git(fake_tree, "init", "-q")
    git(fake_tree, "add", "-A")
    git(fake_tree, "commit", "-qm", "good")
    (fake_tree / "README").write_text("bad\n")
    git(fake_tree, "add", "-A")
    git(fake_tree, "commit", "-qm", "bad")
    fake_image(env)
    argv = harness("bisect", "--kernel", str(fake_tree), "--good", "HEAD~1", "--bad", "HEAD", "-s", "umount-check")
    run = env.start(argv, FAKE_MAKE_SLEEP="120")
    run.wait_for_process("sleep 120")
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    assert git(fake_tree, "worktree", "list").count("\n") == 0, git(fake_tree, "worktree", "list")
    assert all(lock_is_free(lk) for lk in (env.cache / "worktrees").glob("*.lock"))
    # The next run resumes the same bisect and builds again (the fake QEMU panics: an endpoint error).
    rc, out = env.run(argv, FAKE_QEMU_MODE="panic")
    assert "Traceback" not in out and rc in (2, 3), out
    print(f"bisect step ({sig.name}): stopped in {took:.2f} s")


def test_tree_copy_interrupted_mid_sync_is_copied_whole_next_time(tmp_path, monkeypatch):
    from harness.verify import tree_copy

    src = tmp_path / "linux"
    (src / "fs").mkdir(parents=True)
    for i in range(20):
        (src / "fs" / f"f{i}.c").write_text(f"int f{i};\n")
    copy = tree_copy.TreeCopy(src, tmp_path / "copies")
    real = shutil.copyfile
    calls = []

    def interrupted(a, b):
        calls.append(a)
        if len(calls) == 10:
            Path(b).write_text("half")  # a file cut short, as a signal mid-copy leaves it
            raise KeyboardInterrupt
        return real(a, b)

    monkeypatch.setattr(tree_copy.shutil, "copyfile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        copy.sync(progress=lambda m: None)
    monkeypatch.setattr(tree_copy.shutil, "copyfile", real)
    said = []
    stats = copy.sync(progress=said.append)
    assert any("no sync state" in m for m in said)
    assert stats.copied == 20
    assert all((copy.path / "fs" / f"f{i}.c").read_text() == f"int f{i};\n" for i in range(20))


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_verify_run_stage_stops_the_vms_its_pool_threads_boot(env, fake_tree, tmp_path, sig):
    """verify boots its VMs from pool threads, which no signal reaches: the main thread must end them."""
    fake_image(env)
    (fake_tree / "init").mkdir()
    (fake_tree / "init" / "main.c").write_text("int x;\n")
    patch = tmp_path / "fix.patch"
    patch.write_text("--- a/init/main.c\n+++ b/init/main.c\n@@ -1 +1 @@\n-int x;\n+int y;\n")
    argv = harness("verify", "--kernel", str(fake_tree), "--patch", str(patch), "-s", "umount-check", "-n", "2",
                   "--parallel", "2")
    run = env.start(argv, FAKE_QEMU_MODE="hang")
    run.wait_for_process("qemu-system-x86_64", timeout=60)
    took = run.interrupt(sig)
    run.assert_stopped_by(sig)
    print(f"verify run stage ({sig.name}): stopped in {took:.2f} s")

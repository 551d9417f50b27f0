"""harness.signals and proc.kill_group: SIGTERM unwinds like Ctrl-C, and a
process group is ended even when a second signal arrives while it is."""

import os
import signal
import subprocess
import time

import pytest

from harness import proc, signals


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signal_unwinds_as_keyboard_interrupt_and_names_itself(sig):
    before = {s: signal.getsignal(s) for s in signals.HANDLED}
    with pytest.raises(KeyboardInterrupt):
        with signals.handled():
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the handler interrupts this at once
            assert False, "not interrupted"
    assert {s: signal.getsignal(s) for s in signals.HANDLED} == before
    assert not signals.stopping()  # reset once the block is left


def test_exit_code_is_128_plus_the_signal(monkeypatch):
    with signals.handled():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert signals.stopping() and signals.exit_code() == 143
    with signals.handled():
        assert signals.exit_code() == 130  # a KeyboardInterrupt no signal caused


def test_a_second_signal_while_stopping_is_ignored(monkeypatch):
    """make test passes its SIGTERM on to pytest, which has its own already:
    the second must not break off the teardown the first started."""
    cleaned = []
    with signals.handled():
        with pytest.raises(KeyboardInterrupt):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # arrives during the cleanup
                time.sleep(0.1)
                cleaned.append(True)
        assert cleaned == [True]
        # Much later, a signal raises again: the first was swallowed somewhere.
        monkeypatch.setattr(signals, "IGNORE_REPEATS", 0.0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)


def test_run_kills_the_whole_group_on_interrupt(tmp_path):
    """The child and its own child (make and a compiler) are both gone when run() unwinds."""
    pidfile = tmp_path / "pids"
    script = f"sleep 60 & echo $! > {pidfile}; echo $$ >> {pidfile}; wait"
    with signals.handled():
        with pytest.raises(KeyboardInterrupt):
            import threading

            threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
            proc.run(["sh", "-c", script], timeout=60)
    pids = [int(x) for x in pidfile.read_text().split()]
    time.sleep(0.2)
    for pid in pids:
        assert not _alive(pid), f"{pid} survived"


def test_kill_group_survives_a_second_interrupt_and_still_ends_the_group(monkeypatch):
    # A child that ignores SIGTERM: only SIGKILL ends it, after the grace period.
    child = proc.spawn(["sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"])
    real_wait = child.wait
    calls = []

    def wait(timeout=None):
        calls.append(timeout)
        if len(calls) == 1:
            raise KeyboardInterrupt  # the second Ctrl-C, while waiting out the grace
        return real_wait(timeout)

    monkeypatch.setattr(child, "wait", wait)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        proc.kill_group(child, grace=30)
    assert time.monotonic() - start < 6  # no 30 s grace after the second signal
    assert child.poll() is not None


def test_children_die_with_the_harness(tmp_path):
    """PR_SET_PDEATHSIG: a harness killed by SIGKILL takes its make with it."""
    pidfile = tmp_path / "pid"
    code = (
        "from harness import proc; "
        f"proc.run(['sh', '-c', 'echo $$ > {pidfile}; exec sleep 60'], timeout=60)"
    )
    parent = subprocess.Popen([os.sys.executable, "-c", code])
    end = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < end:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    end = time.monotonic() + 5
    while _alive(child) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False

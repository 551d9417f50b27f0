"""The one place that starts processes.

argv lists only (never a shell), a deadline, ``cwd=`` instead of chdir, and
a result object. Failures raise by default so no caller forgets to check.

Every child starts in a session of its own, so a terminal's Ctrl-C or CI's
SIGTERM to our process group reaches the harness and not the child: whoever
starts a process in its own session must end it. ``run`` kills the child's
whole group on any exception (KeyboardInterrupt included, see
harness.signals), and every child is asked by the kernel to die with the
thread that started it (PR_SET_PDEATHSIG), the last resort when the harness
itself is SIGKILLed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Mapping, Sequence

TAIL_BYTES = 8192


def _tail(data: bytes | None, limit: int = TAIL_BYTES) -> str:
    if not data:
        return ""
    return data[-limit:].decode("utf-8", "replace")


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass
class ProcessError(Exception):
    """A command failed. Callers translate this into a HarnessError kind."""

    result: Result
    log: str | None = None
    what: str = field(default="")

    def __str__(self) -> str:
        r = self.result
        how = "timed out" if r.timed_out else f"exited {r.returncode}"
        msg = f"{self.what or r.argv[0]} {how}"
        if self.log:
            msg += f" (log: {self.log})"
        return msg


def run(
    argv: Sequence[str | os.PathLike],
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    log: str | os.PathLike | None = None,
    input: bytes | None = None,
    what: str = "",
) -> Result:
    """Run argv to completion.

    With ``log``, stdout and stderr go (interleaved, as they come) to that
    file instead of memory, and the result carries the log's tail as stdout.
    ``env`` is *added* to the current environment.
    """
    args = [os.fspath(a) for a in argv]
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update(env)
    start = time.monotonic()
    logf: IO[bytes] | None = None
    try:
        if log is not None:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            logf = open(log, "wb")
        try:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=full_env,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=logf if logf else subprocess.PIPE,
                stderr=subprocess.STDOUT if logf else subprocess.PIPE,
                start_new_session=True,
                # SIGTERM, not SIGKILL: make passes SIGTERM on to its jobs.
                preexec_fn=_die_with_parent(signal.SIGTERM),
            )
        except FileNotFoundError as e:
            raise ProcessError(
                Result(args, 127, "", f"{args[0]}: not found", 0.0), what=what or args[0]
            ) from e
        timed_out = False
        try:
            out, err = proc.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc)
            out, err = proc.communicate()
        except BaseException:
            kill_group(proc)
            raise
    finally:
        if logf:
            logf.close()
    if log is not None:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            out = f.read()
    result = Result(
        args,
        proc.returncode,
        out.decode("utf-8", "replace") if log is None and out else _tail(out),
        _tail(err),
        time.monotonic() - start,
        timed_out,
    )
    if check and not result.ok:
        raise ProcessError(result, log=os.fspath(log) if log else None, what=what)
    return result


_PR_SET_PDEATHSIG = 1
_prctl = None


def _die_with_parent(sig: int):
    """A preexec_fn: the child gets ``sig`` when the thread that started it dies,
    even by SIGKILL. libc is looked up here, in the parent: loading a library
    between fork and exec can deadlock in a threaded process."""
    global _prctl
    if _prctl is None:
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl, parent = _prctl, os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before prctl: nobody will end us
            os._exit(1)

    return preexec


def spawn(
    argv: Sequence[str | os.PathLike],
    *,
    cwd: str | os.PathLike | None = None,
    stdout: IO | int | None = subprocess.DEVNULL,
    stderr: IO | int | None = subprocess.STDOUT,
    stdin: IO | int | None = subprocess.DEVNULL,
    die_with_parent: bool = False,
) -> subprocess.Popen:
    """Start a long-running process (QEMU) in its own process group.

    Raises FileNotFoundError when argv[0] does not exist; the caller knows
    which package to name.
    """
    return subprocess.Popen(
        [os.fspath(a) for a in argv],
        cwd=cwd,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=_die_with_parent(signal.SIGKILL) if die_with_parent else None,
    )


def kill_group(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """End proc and its whole process group: SIGTERM, SIGKILL after ``grace`` seconds.

    A KeyboardInterrupt while this waits (a second Ctrl-C where
    harness.signals is not in charge, or one it lets through) does not
    leave the group running: it skips the grace period, the group is
    killed, and the interrupt is raised again once it is.
    """
    pending: BaseException | None = None
    while True:
        try:
            _end_group(proc, grace)
            break
        except KeyboardInterrupt as e:
            pending, grace = e, 0.0
    if pending is not None:
        raise pending


def _end_group(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # The leader is gone, but its jobs may not be (make does not wait for the
    # compilers it signalled): they are still in the group, so end them too.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def which(name: str) -> str | None:
    from shutil import which as _which

    return _which(name)

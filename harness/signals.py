"""SIGINT and SIGTERM end a run the same way: as KeyboardInterrupt in the main thread.

CI cancels a job by sending SIGTERM to its process group; a terminal sends
SIGINT. Python's default for SIGTERM kills the interpreter on the spot, so no
``finally`` runs: the kernel make and QEMU, which the harness starts in
sessions of their own (so that a terminal's Ctrl-C reaches the harness, not
them), would be orphaned and keep running. Turned into KeyboardInterrupt,
both signals unwind through every ``finally``: process groups killed, locks
released, partial results written.

The signal received is kept, so the exit code says which one it was
(128 + its number: 130 for SIGINT, 143 for SIGTERM), and so threads that are
about to start something new (a VM in verify's pool) can refuse to.

Signals that follow the first one while the run is stopping are ignored.
They come as a matter of course: `make test` passes the SIGTERM it got from
the group on to pytest, which got its own already, and a second
KeyboardInterrupt raised inside the teardown (pytest formatting the first
one, xdist stopping its workers, a process group being killed) would break
it off half done. Stopping takes seconds; one that takes longer than
``IGNORE_REPEATS`` has been swallowed somewhere, so a signal after that
raises again. SIGKILL is always there.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 128 + signal.SIGINT  # a KeyboardInterrupt raised without a signal (tests)

IGNORE_REPEATS = 15.0  # seconds after the first signal in which others are ignored

_received: int | None = None
_first_at = 0.0


def _interrupt(signum, frame) -> None:
    global _received, _first_at
    now = time.monotonic()
    if _received is not None and now - _first_at < IGNORE_REPEATS:
        return  # already stopping
    _received, _first_at = signum, now
    raise KeyboardInterrupt


def received() -> int | None:
    """The number of the signal that is ending this run, or None."""
    return _received


def stopping() -> bool:
    """True once SIGINT or SIGTERM has arrived: start nothing new."""
    return _received is not None


def exit_code() -> int:
    """128 + the signal's number, as a shell reports a process that signal ended."""
    return 128 + _received if _received is not None else EXIT_INTERRUPTED


def install() -> None:
    """Handle SIGINT and SIGTERM from now on (main thread only; elsewhere a no-op)."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        return
    _received = None
    for sig in HANDLED:
        signal.signal(sig, _interrupt)


@contextmanager
def handled() -> Iterator[None]:
    """``install()`` for the duration of a block, then restore the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _received
    old = {sig: signal.getsignal(sig) for sig in HANDLED}
    install()
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _received = None

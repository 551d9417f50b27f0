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
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 128 + signal.SIGINT  # a KeyboardInterrupt raised without a signal (tests)

_received: int | None = None


def _interrupt(signum, frame) -> None:
    global _received
    _received = signum
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

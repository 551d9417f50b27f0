"""pytest side of harness.signals: `make test` stops on SIGTERM as it does on Ctrl-C.

pytest leaves SIGTERM at Python's default, which ends the process on the
spot: a kernel make started in its own session by the controller would be
orphaned and keep both cores busy. With this plugin SIGTERM unwinds like
Ctrl-C in the controller and in every xdist worker, and the run exits with
128 + the signal's number instead of pytest's 2, which the harness uses for
a user error.
"""

from __future__ import annotations

import signal
import sys

import pytest

from harness import signals


def pytest_configure(config: pytest.Config) -> None:
    signals.install()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus):
    result = yield
    if signals.stopping():
        _say_interrupted(session.config)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config):
    # Here, not in sessionfinish: pytest skips sessionfinish when the
    # interrupt comes during sessionstart, where the controller builds.
    code = yield
    if not signals.stopping():
        return code
    if not getattr(config, "_harness_said_interrupted", False):
        _say_interrupted(config)
    return signals.exit_code()


def _say_interrupted(config: pytest.Config) -> None:
    from harness.pytest_plugin import TABLE  # the summary's last line names the exit code

    config._harness_said_interrupted = True
    name = signal.Signals(signals.received()).name
    line = f"harness: interrupted by {name}: exit code {signals.exit_code()}"
    if TABLE in config.stash:
        line += "; the table holds the items that finished"
        config.stash[TABLE] = config.stash[TABLE].rsplit("\n", 1)[0] + "\n" + line
    else:
        print(line, file=sys.stderr, flush=True)

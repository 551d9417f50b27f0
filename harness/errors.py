"""Error families and the exit codes they map to.

One taxonomy everywhere (see docs/design.md): a user error is the user's input
being wrong; build, boot and infrastructure errors are ours or the kernel's
to explain. The CLI prints ``str(err)`` as one line and exits with
``err.exit_code``; no traceback reaches the user for these.
"""

from __future__ import annotations

# Exit codes, shared by every subcommand.
EXIT_OK = 0
EXIT_FAIL = 1  # the kernel misbehaved (a report, a broken oracle, a dead guest)
EXIT_USER = 2  # bad input: path, fragment, YAML, patch
EXIT_ERROR = 3  # build, boot or infrastructure error


class HarnessError(Exception):
    """Base of every error the CLI turns into one line and an exit code."""

    kind = "error"
    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, log: str | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.log = log  # path of the log that tells more, if any
        self.detail = detail  # extra lines (e.g. first compiler errors), shown after the line

    def __str__(self) -> str:
        line = f"{self.kind} error: {self.message}"
        if self.log:
            line += f" (log: {self.log})"
        return line


class UserError(HarnessError):
    kind = "user"
    exit_code = EXIT_USER


class BuildError(HarnessError):
    kind = "build"


class BootError(HarnessError):
    kind = "boot"


class InfraError(HarnessError):
    kind = "infrastructure"


class GuestLost(InfraError):
    """The guest stopped answering (crashed, hung, or QEMU died).

    The runner turns this into a FAIL with a syzkaller-style title when the
    console shows the kernel died, and into an infrastructure ERROR otherwise.
    """

    def __init__(self, message: str, *, console_tail: str = "", log: str | None = None):
        super().__init__(message, log=log, detail=console_tail)
        self.console_tail = console_tail

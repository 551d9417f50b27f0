"""Harness-level verdicts for a guest that died, hung, or stopped answering.

The runner calls these when the guest is lost:

    guest_death_title(console_tail: str | bytes, reason: str) -> str
    guest_death_report(console_tail: str | bytes, reason: str) -> Report

``reason`` says what the harness saw: ``"lost-connection"`` (ssh or QEMU
went away), ``"no-output"`` (nothing on the console nor over ssh for too
long) or ``"reboot"`` (QEMU exited on a guest reboot). If the tail holds a
kernel report, that report names the death: it is the cause, the lost
connection only its effect. Otherwise a reboot seen in the tail gives
``unexpected kernel reboot``, and the reason gives the rest.
"""

from __future__ import annotations

import re

from harness.analysis.report import Report
from harness.analysis.titles import report_type

LOST_CONNECTION = "lost connection to test machine"
NO_OUTPUT = "no output from test machine"
UNEXPECTED_REBOOT = "unexpected kernel reboot"

_REASONS = {
    "lost-connection": LOST_CONNECTION,
    "lost": LOST_CONNECTION,
    LOST_CONNECTION: LOST_CONNECTION,
    "no-output": NO_OUTPUT,
    "hang": NO_OUTPUT,
    NO_OUTPUT: NO_OUTPUT,
    "reboot": UNEXPECTED_REBOOT,
    UNEXPECTED_REBOOT: UNEXPECTED_REBOOT,
}
# What the console shows when the kernel restarts on its own.
_REBOOT = re.compile(r"reboot: Restarting system|Booting the kernel\.|Decompressing Linux|SeaBIOS \(version")


def guest_death_report(console_tail: str | bytes, reason: str) -> Report:
    """The report that names a guest's death (see module doc)."""
    from harness.analysis import analyze

    try:
        title = _REASONS[reason]
    except KeyError:
        raise ValueError(f"unknown guest death reason {reason!r}; one of {sorted(set(_REASONS))}") from None
    data = console_tail.encode("utf-8", "replace") if isinstance(console_tail, str) else console_tail
    reports = analyze(data)
    if reports:
        return reports[0]
    text = data.decode("utf-8", "replace")
    if _REBOOT.search(text):
        title = UNEXPECTED_REBOOT
    lines = text.splitlines()
    return Report(
        title=title,
        type=report_type(title),
        corrupted=False,
        guilty_frame=None,
        frames=[],
        start_line=len(lines),
        end_line=len(lines),
        text="\n".join(lines[-30:]),
    )


def guest_death_title(console_tail: str | bytes, reason: str) -> str:
    return guest_death_report(console_tail, reason).title

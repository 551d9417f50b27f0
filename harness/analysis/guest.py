"""Harness-level verdicts for a guest that died, hung, or stopped answering.

The runner's judge calls ``death_title`` when the guest is lost or hangs and
the console holds no kernel report (it has analyzed the whole console with
the plan's suppressions already):

    death_title(console_since_stress: str | bytes, reason: Death | str) -> str

``reason`` says what the harness saw: ``lost-connection`` (ssh or QEMU went
away), ``no-output`` (nothing on the console nor over ssh for too long) or
``reboot`` (QEMU exited on a guest reboot). A reboot the console shows
(after the stress began: every boot prints the same lines) gives
``unexpected kernel reboot``; the reason gives the rest.

``guest_death_report(console_tail, reason)`` is the same for a bare tail: a
kernel report in it names the death (it is the cause, the lost connection
only its effect), else a harness-level report as above.
"""

from __future__ import annotations

import re
from enum import StrEnum

from harness.analysis.report import Report
from harness.analysis.titles import report_type

LOST_CONNECTION = "lost connection to test machine"
NO_OUTPUT = "no output from test machine"
UNEXPECTED_REBOOT = "unexpected kernel reboot"


class Death(StrEnum):
    LOST_CONNECTION = "lost-connection"
    NO_OUTPUT = "no-output"
    REBOOT = "reboot"


TITLES = {Death.LOST_CONNECTION: LOST_CONNECTION, Death.NO_OUTPUT: NO_OUTPUT, Death.REBOOT: UNEXPECTED_REBOOT}
# Every title the harness gives a death itself (not the kernel's report titles).
HARNESS_TITLES = tuple(TITLES.values())

_REASONS = {
    **{d.value: d for d in Death},
    **{t: d for d, t in TITLES.items()},
    "lost": Death.LOST_CONNECTION,
    "hang": Death.NO_OUTPUT,
}
# What the console shows when the kernel restarts on its own.
_REBOOT = re.compile(r"reboot: Restarting system|Booting the kernel\.|Decompressing Linux|SeaBIOS \(version")


def _reason(reason: Death | str) -> Death:
    try:
        return _REASONS[reason]
    except KeyError:
        raise ValueError(f"unknown guest death reason {reason!r}; one of {sorted(_REASONS)}") from None


def _text(console: str | bytes) -> str:
    return console.decode("utf-8", "replace") if isinstance(console, bytes) else console


def death_title(console: str | bytes, reason: Death | str) -> str:
    """The harness-level title of a death that left no kernel report (see module doc)."""
    death = _reason(reason)
    return UNEXPECTED_REBOOT if _REBOOT.search(_text(console)) else TITLES[death]


def guest_death_report(console_tail: str | bytes, reason: Death | str) -> Report:
    """The report that names a guest's death (see module doc)."""
    # Imported here: harness.analysis imports this module for its public names.
    from harness.analysis import analyze

    title = death_title(console_tail, reason)
    data = console_tail.encode("utf-8", "replace") if isinstance(console_tail, str) else console_tail
    reports = analyze(data)
    if reports:
        return reports[0]
    lines = _text(data).splitlines()
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


def guest_death_title(console_tail: str | bytes, reason: Death | str) -> str:
    return guest_death_report(console_tail, reason).title

"""Console analysis: kernel reports in a console log, titled like syzkaller.

Public API (other layers call only these):

- ``analyze(data: bytes, suppressions=None, *, include_suppressed=False) -> list[Report]``
  every kernel report in the log, in order; suppressed ones are dropped
  unless ``include_suppressed``.
- ``analyze_file(path, suppressions=None, vmlinux=None, *, include_suppressed=False)
  -> list[Report]`` the same, streamed from a file of any size in bounded
  memory; with ``vmlinux`` the reports' frames are symbolized.
- ``Report``: title, type, corrupted, guilty_frame, frames, start_line,
  end_line, text, alt_titles, corrupted_reason, suppressed, symbolized,
  start_offset (byte offset of the first line).
- ``load_suppressions(path) -> list[re.Pattern]`` a YAML list of regexes.
- ``guest_death_report(console_tail, reason) -> Report`` and
  ``guest_death_title(console_tail, reason) -> str``: what to call a guest that
  died, hung or stopped answering. ``reason`` is ``"lost-connection"``,
  ``"no-output"`` or ``"reboot"``; a kernel report in the tail wins over the
  harness-level titles ``lost connection to test machine``, ``no output from
  test machine`` and ``unexpected kernel reboot``.
- ``symbolize(reports, vmlinux, kernel_src=None)`` adds file:line to frames.

Suppressions are regexes (strings or compiled, str or bytes); a report is
suppressed when one matches its title or its text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from harness.analysis.guest import (
    LOST_CONNECTION,
    NO_OUTPUT,
    UNEXPECTED_REBOOT,
    guest_death_report,
    guest_death_title,
)
from harness.analysis.report import Report, SymFrame
from harness.analysis.scan import scan, scan_bytes
from harness.analysis.suppress import Suppressions, compile_suppressions, load_suppressions
from harness.analysis.symbolize import symbolize
from harness.errors import UserError

__all__ = [
    "LOST_CONNECTION",
    "NO_OUTPUT",
    "UNEXPECTED_REBOOT",
    "Report",
    "SymFrame",
    "analyze",
    "analyze_file",
    "guest_death_report",
    "guest_death_title",
    "load_suppressions",
    "symbolize",
]


def _finish(reports: Iterable[Report], suppressions: Suppressions | None, include_suppressed: bool) -> list[Report]:
    patterns = compile_suppressions(suppressions)
    out = []
    for r in reports:
        if patterns and any(p.search(r.title) or p.search(r.text) for p in patterns):
            r.suppressed = True
            if not include_suppressed:
                continue
        out.append(r)
    return out


def analyze(
    data: bytes | str, suppressions: Suppressions | None = None, *, include_suppressed: bool = False
) -> list[Report]:
    """Every kernel report in a console log held in memory, in order of appearance."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return _finish(scan_bytes(bytes(data)), suppressions, include_suppressed)


def analyze_file(
    path: str | os.PathLike,
    suppressions: Suppressions | None = None,
    vmlinux: str | os.PathLike | None = None,
    *,
    include_suppressed: bool = False,
) -> list[Report]:
    """Every kernel report in a console log file, streamed in bounded memory."""
    p = Path(path)
    try:
        stream = open(p, "rb")
        side = open(p, "rb")
    except OSError as e:
        raise UserError(f"cannot read console log {p}: {e.strerror or e}") from e
    with stream, side:

        def read(offset: int, size: int) -> bytes:
            side.seek(offset)
            return side.read(size)

        try:
            reports = _finish(scan(stream, read), suppressions, include_suppressed)
        except IsADirectoryError as e:
            raise UserError(f"cannot read console log {p}: is a directory") from e
        except OSError as e:
            raise UserError(f"cannot read console log {p}: {e.strerror or e}") from e
    if vmlinux is not None:
        symbolize(reports, vmlinux)
    return reports


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
- ``iter_file(path, suppressions=None, *, include_suppressed=False)`` the
  reports of a log one at a time (``-`` is standard input; gzip, xz, bzip2
  and zstd are read transparently); empty or binary logs are a UserError.
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
from typing import Iterable, Iterator

from harness.analysis.inputs import open_log
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
    "iter_file",
    "guest_death_report",
    "guest_death_title",
    "load_suppressions",
    "symbolize",
]


def _suppressed(r: Report, patterns: list) -> bool:
    if patterns and any(p.search(r.title) or p.search(r.text) for p in patterns):
        r.suppressed = True
    return r.suppressed


def _finish(reports: Iterable[Report], suppressions: Suppressions | None, include_suppressed: bool) -> list[Report]:
    patterns = compile_suppressions(suppressions)
    return [r for r in reports if not _suppressed(r, patterns) or include_suppressed]


def analyze(
    data: bytes | str, suppressions: Suppressions | None = None, *, include_suppressed: bool = False
) -> list[Report]:
    """Every kernel report in a console log held in memory, in order of appearance."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return _finish(scan_bytes(bytes(data)), suppressions, include_suppressed)


def iter_file(
    path: str | os.PathLike,
    suppressions: Suppressions | None = None,
    *,
    include_suppressed: bool = False,
) -> Iterator[Report]:
    """Every kernel report in a console log, one at a time, in bounded memory.

    ``path`` may be ``-`` (standard input) and may be gzip, xz, bzip2 or zstd
    compressed. An unreadable, empty or binary log is a UserError.
    """
    patterns = compile_suppressions(suppressions)
    with open_log(path) as stream:
        try:
            for r in scan(stream):
                if _suppressed(r, patterns) and not include_suppressed:
                    continue
                yield r
        except OSError as e:
            raise UserError(f"cannot read console log {os.fspath(path)}: {e.strerror or e}") from e


def analyze_file(
    path: str | os.PathLike,
    suppressions: Suppressions | None = None,
    vmlinux: str | os.PathLike | None = None,
    *,
    include_suppressed: bool = False,
) -> list[Report]:
    """Every kernel report in a console log file (see iter_file), as a list."""
    reports = list(iter_file(path, suppressions, include_suppressed=include_suppressed))
    if vmlinux is not None:
        symbolize(reports, vmlinux)
    return reports

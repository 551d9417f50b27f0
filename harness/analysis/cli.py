"""``harness analyze``: kernel reports in console logs.

    harness analyze [--json] [--vmlinux PATH] [--suppressions FILE] [--all] LOG...

A LOG is a console log or dmesg output; ``-`` reads standard input; gzip,
xz, bzip2 and zstd logs are read as they are. A ``vcpu.tsv`` beside a LOG
(the harness's own runs) is the host's record of its vCPUs: soft lockups of
a vCPU the host starved are marked "set aside", as the run's verdict did.

Without ``--json``, a listing per LOG: identical reports (same title) are
grouped with a count and the lines they start at; each group shows its
first report's own frames (generic ones such as dump_stack and the
sanitizer's machinery left out), the guilty frame marked ``>``. The listing
is streamed: memory grows with the number of distinct titles, not reports.
With ``--json``, one line per LOG, in order:
``{"file": LOG, "reports": [{"title", "type", "corrupted", "frames", "start_line", "end_line", ...}]}``.

Exit status: 0 no report, 1 report(s) found (suppressed and set-aside ones
do not count), 2 user error (a LOG missing, a directory, unreadable, empty
or not text; a bad option), with one line naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import EXIT_FAIL, EXIT_OK, UserError


_SHOWN_FRAMES = 8
_SHOWN_STARTS = 6


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="find kernel reports in console logs",
        description="Find kernel reports (KASAN, BUG, WARNING, lockups, ...) in console logs "
        "and title them like syzkaller. LOG may be '-' (standard input) and may be "
        "gzip, xz, bzip2 or zstd compressed.",
        epilog="exit status: 0 no report found, 1 report(s) found, 2 user error "
        "(missing, unreadable, empty or binary LOG; bad option)",
    )
    p.add_argument("logs", nargs="+", metavar="LOG", help="console log or dmesg output; '-' for standard input")
    p.add_argument("--json", action="store_true", help="one JSON line per LOG")
    p.add_argument("--vmlinux", metavar="PATH", help="vmlinux with debug info, to add file:line to frames")
    p.add_argument("--suppressions", metavar="FILE", help="YAML list of regexes for known noise")
    p.add_argument("--all", action="store_true", help="also list suppressed reports (marked so)")
    p.set_defaults(func=run)


def _check_inputs(args: argparse.Namespace) -> None:
    from harness.analysis.inputs import open_log

    # Every input is checked before any output, so a typo fails fast and alone.
    if args.logs.count("-") > 1:
        raise UserError("standard input ('-') can be read only once")
    for log in args.logs:
        if log == "-":
            continue
        path = Path(log)
        if path.is_dir():
            raise UserError(f"cannot read console log {log}: is a directory")
        if not path.exists():
            raise UserError(f"cannot read console log {log}: does not exist")
        if not os.access(path, os.R_OK):
            raise UserError(f"cannot read console log {log}: permission denied")
        if path.is_file():
            with open_log(path):
                pass  # empty, binary or badly compressed logs fail here
    if args.vmlinux and not Path(args.vmlinux).is_file():
        raise UserError(f"--vmlinux {args.vmlinux}: no such file (expected the build's vmlinux)")


class _SetAside:
    """Why the host, not the kernel, caused a report (from a vcpu.tsv beside the log)."""

    def __init__(self, log: str) -> None:
        from harness.vm import vcpu

        self.samples = None
        tsv = Path(log).parent / "vcpu.tsv"
        if log == "-" or not tsv.is_file():
            return
        try:
            self.samples = vcpu.load(tsv)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read {tsv}: {e}") from e

    def why(self, report) -> str:
        if self.samples is None:
            return ""
        from harness.vm import starvation

        return starvation.starved(report, self.samples) or ""


@dataclass
class _Group:
    lines: list[str]  # the first report's rendering, title line first
    starts: list[int] = field(default_factory=list)
    count: int = 0


def _render(r, aside: str) -> list[str]:
    from harness.analysis.frames import own_frames
    from harness.analysis.stack import strip_frame

    flags = [r.type or "UNKNOWN"]  # syzkaller's name for an untyped report
    if r.corrupted:
        flags.append(f"corrupted: {r.corrupted_reason}")
    if r.suppressed:
        flags.append("suppressed")
    if aside:
        flags.append(f"set aside: {aside}")
    out = [f"  lines {r.start_line}-{r.end_line}: {r.title}  [{'; '.join(flags)}]"]
    names = own_frames(r.frames)
    guilty = next((i for i, f in enumerate(names) if r.guilty_frame in (f, strip_frame(f))), -1)
    shown = names[: max(_SHOWN_FRAMES, guilty + 1)]
    sym = {s.function: str(s) for s in r.symbolized if not s.inline}
    for i, f in enumerate(shown):
        out.append(f"    {'>' if i == guilty else ' '} {sym.get(f, f)}")
    if len(names) > len(shown):
        out.append(f"      ... {len(names) - len(shown)} more")
    return out


def _listing(log: str, reports, aside: _SetAside) -> int:
    groups: dict[str, _Group] = {}
    total = counted = 0
    for r in reports:
        why = aside.why(r)
        total += 1
        counted += not r.suppressed and not why
        key = r.title + ("\0s" if r.suppressed else "") + ("\0a" if why else "")
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(_render(r, why))
        g.count += 1
        if len(g.starts) < _SHOWN_STARTS:
            g.starts.append(r.start_line)
    distinct = f", {len(groups)} distinct" if len(groups) != total else ""
    print(f"{log}: {total} report{'s' if total != 1 else ''}{distinct}")
    for g in groups.values():
        head, *frames = g.lines
        if g.count > 1:
            more = ", ".join(str(s) for s in g.starts[1:]) + (", ..." if g.count > len(g.starts) else "")
            head += f"  x{g.count} (also at lines {more})"
        print(head)
        for ln in frames:
            print(ln)
    sys.stdout.flush()
    return counted


def run(args: argparse.Namespace) -> int:
    from harness.analysis import iter_file, load_suppressions

    _check_inputs(args)
    suppressions = load_suppressions(args.suppressions) if args.suppressions else None
    found = 0
    for log in args.logs:
        aside = _SetAside(log)
        reports = iter_file(log, suppressions, include_suppressed=args.all)
        if args.vmlinux:
            reports = (_symbolized(r, args.vmlinux) for r in reports)
        if not args.json:
            found += _listing(log, reports, aside)
            continue
        docs = []
        for r in reports:
            why = aside.why(r)
            found += not r.suppressed and not why
            docs.append(dict(r.to_dict(), set_aside=why))
        print(json.dumps({"file": log, "reports": docs}, ensure_ascii=False), flush=True)
    return EXIT_FAIL if found else EXIT_OK


def _symbolized(report, vmlinux: str):
    from harness.analysis import symbolize

    symbolize([report], vmlinux)
    return report

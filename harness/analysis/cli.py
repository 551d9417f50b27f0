"""``harness analyze``: kernel reports in console logs.

    harness analyze [--json] [--vmlinux PATH] [--suppressions FILE] LOG...

A ``vcpu.tsv`` beside a LOG (the harness's own runs) is the host's record of
its vCPUs: soft lockups of a vCPU the host starved are marked "set aside",
as the run's verdict did.

With ``--json``, one line per LOG, in order:
``{"file": LOG, "reports": [{"title", "type", "corrupted", "frames", "start_line", "end_line", "start_offset", ...}]}``.
Without it, a readable listing. Exit 0 whether or not reports were found;
an unreadable LOG is a user error (exit 2) with one line naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harness.errors import EXIT_OK, UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="find kernel reports in console logs",
        description="Find kernel reports (KASAN, BUG, WARNING, lockups, ...) in console logs "
        "and title them like syzkaller.",
    )
    p.add_argument("logs", nargs="+", metavar="LOG", help="console log or dmesg file")
    p.add_argument("--json", action="store_true", help="one JSON line per LOG")
    p.add_argument("--vmlinux", metavar="PATH", help="vmlinux with debug info, to add file:line to frames")
    p.add_argument("--suppressions", metavar="FILE", help="YAML list of regexes for known noise")
    p.add_argument("--all", action="store_true", help="also list suppressed reports (marked so)")
    p.set_defaults(func=run)


def _check_inputs(args: argparse.Namespace) -> None:
    # Every input is checked before any output, so a typo fails fast and alone.
    for log in args.logs:
        path = Path(log)
        if path.is_dir():
            raise UserError(f"cannot read console log {log}: is a directory")
        if not path.exists():
            raise UserError(f"cannot read console log {log}: does not exist")
        if not path.is_file():
            raise UserError(f"cannot read console log {log}: not a regular file (save the stream to a file)")
        if not os.access(path, os.R_OK):
            raise UserError(f"cannot read console log {log}: permission denied")
    if args.vmlinux and not Path(args.vmlinux).is_file():
        raise UserError(f"--vmlinux {args.vmlinux}: no such file (expected the build's vmlinux)")


def _set_aside(log: Path, reports) -> dict[int, str]:
    """Report index -> why the host, not the kernel, caused it (from vcpu.tsv)."""
    from harness.vm import starvation
    from harness.vm import vcpu

    tsv = log.parent / "vcpu.tsv"
    if not reports or not tsv.is_file():
        return {}
    try:
        samples = vcpu.load(tsv)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {tsv}: {e}") from e
    found = {i: starvation.starved(r, samples) for i, r in enumerate(reports)}
    return {i: why for i, why in found.items() if why}


def run(args: argparse.Namespace) -> int:
    from harness.analysis import analyze_file, load_suppressions

    _check_inputs(args)
    suppressions = load_suppressions(args.suppressions) if args.suppressions else None
    for log in args.logs:
        reports = analyze_file(log, suppressions, args.vmlinux, include_suppressed=args.all)
        aside = _set_aside(Path(log), reports)
        if args.json:
            line = {"file": log, "reports": [dict(r.to_dict(), set_aside=aside.get(i, "")) for i, r in enumerate(reports)]}
            print(json.dumps(line, ensure_ascii=False), flush=True)
            continue
        print(f"{log}: {len(reports)} report{'s' if len(reports) != 1 else ''}")
        for i, r in enumerate(reports):
            flags = [r.type or "?"]
            if r.corrupted:
                flags.append(f"corrupted: {r.corrupted_reason}")
            if r.suppressed:
                flags.append("suppressed")
            if i in aside:
                flags.append(f"set aside: {aside[i]}")
            print(f"  lines {r.start_line}-{r.end_line}: {r.title}  [{'; '.join(flags)}]")
            frames = [str(f) for f in r.symbolized] if r.symbolized else r.frames
            for f in frames[:8]:
                print(f"      {f}")
        sys.stdout.flush()
    return EXIT_OK

"""Command line: argparse subcommands, ``main(argv) -> int``, exit codes.

Each subcommand lives in the module that owns its logic and registers itself
through ``add_parser(subparsers)``, setting ``func(args) -> int``. This file
only wires them and turns HarnessError into one line plus an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from harness.errors import EXIT_ERROR, EXIT_USER, HarnessError

# module path -> registers one or more subcommands
COMMAND_MODULES = (
    "harness.kbuild.cli",
    "harness.image.cli",
    "harness.vm.cli",
    "harness.analysis.cli",
    "harness.scenarios.cli",
    "harness.session.cli",
    "harness.corpus.cli",
    "harness.verify.cli",
    "harness.compare",
    "harness.bisect.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="QEMU-driven Linux kernel regression harness",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue  # a part not built yet
            raise
        mod.add_parser(sub)
    return parser


def _sigterm(signum, frame):
    # CI cancels jobs with SIGTERM: unwind like Ctrl-C so every QEMU is killed
    # and partial results are written.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _sigterm)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USER
    try:
        return int(args.func(args) or 0)
    except HarnessError as e:
        print(f"harness: {e}", file=sys.stderr)
        if e.detail:
            print(e.detail.rstrip("\n"), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        # The machine, not the user's input: a full disk, a read-only or vanished
        # directory, a missing device. One line, naming the file.
        where = f": {e.filename}" if e.filename else ""
        print(f"harness: infrastructure error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR

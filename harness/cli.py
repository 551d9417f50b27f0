"""Command line: argparse subcommands, ``main(argv) -> int``, exit codes.

Each subcommand lives in the module that owns its logic and registers itself
through ``add_parser(subparsers)``, setting ``func(args) -> int``. This file
wires them, gives every one the same help format (defaults, an example, the
environment), and turns errors and signals into one line and an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from harness import compare, signals
from harness.analysis import cli as analysis_cli
from harness.argtypes import HelpFormatter, Parser
from harness.bisect import cli as bisect_cli
from harness.corpus import cli as corpus_cli
from harness.errors import EXIT_ERROR, EXIT_USER, HarnessError
from harness.image import cli as image_cli
from harness.kbuild import cli as kbuild_cli
from harness.scenarios import cli as scenarios_cli
from harness.session import cli as session_cli
from harness.verify import cli as verify_cli
from harness.vm import cli as vm_cli
from harness.vm.qemu import forced_accel

COMMAND_MODULES = (
    kbuild_cli,
    image_cli,
    vm_cli,
    analysis_cli,
    scenarios_cli,
    session_cli,
    corpus_cli,
    verify_cli,
    compare,
    bisect_cli,
)

# One example per subcommand, shown at the end of its --help.
EXAMPLES = {
    "build": "harness build --kernel ~/src/linux -f kconfigs/debug.config --jobs 4",
    "image": "harness image --rebuild",
    "boot": "harness boot --kernel ~/src/linux --memory 2G -- uname -a",
    "analyze": "harness analyze --json results/latest/vms/*/console.log",
    "scenarios": "harness scenarios --config ~/src/linux/.config",
    "run": "harness run --kernel ~/src/linux -s kprobe-churn --duration 60 --runs 3",
    "validate": "harness validate --bug 01-eventfs-negative-dentry --runs 3",
    "verify": "harness verify --kernel ~/src/linux --patch fix.patch --parallel 2",
    "compare": "harness compare results/20261126-020000-1234 results/latest",
    "bisect": "harness bisect --kernel ~/src/linux --good v6.11 --bad v6.12 --scenario kprobe-churn",
}

ENVIRONMENT = """\
environment:
  HARNESS_CACHE    where kernel builds, ccache, the guest image and the ssh key
                   are kept (default: ~/.cache/harness)
  HARNESS_RESULTS  where results/<run id>/ directories go (default: results/
                   in the checkout)
  HARNESS_ACCEL    kvm or tcg, to force QEMU's accelerator"""

EXIT_CODES = """\
exit codes:
  0    all passed (or failed only in ways known-issues.yaml lists)
  1    the kernel failed (a report, a broken oracle, a dead guest)
  2    user error (bad kernel, fragment, plan, option), or nothing was tested:
       every item was skipped because the kernel lacks what it needs
  3    build, boot or infrastructure error
  130  stopped by SIGINT (Ctrl-C)
  143  stopped by SIGTERM (a CI cancel)"""


def version() -> str:
    try:
        return metadata.version("harness")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="harness",
        description="QEMU-driven Linux kernel regression harness",
        formatter_class=HelpFormatter,
        epilog=f"example:\n  harness run -s kprobe-churn\n\n{ENVIRONMENT}\n\n{EXIT_CODES}",
    )
    parser.add_argument("--version", action="version", version=f"harness {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMAND_MODULES:
        mod.add_parser(sub)
    for name, p in sub.choices.items():
        p.formatter_class = HelpFormatter
        example = f"example:\n  {EXAMPLES[name]}\n\n" if name in EXAMPLES else ""
        # A subcommand's own epilog (analyze's exit codes) stays first.
        p.epilog = (f"{p.epilog}\n\n" if p.epilog else "") + f"{example}{ENVIRONMENT}"
    return parser


def main(argv: list[str] | None = None) -> int:
    with signals.handled():
        try:
            return _main(argv)
        except KeyboardInterrupt:
            # SIGINT or SIGTERM (harness.signals): every finally has run by now,
            # so make, QEMU and the image tools are gone and the locks are free.
            print("harness: interrupted", file=sys.stderr)
            return signals.exit_code()


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or argparse's one-line error (exit 2)
        return e.code if isinstance(e.code, int) else EXIT_USER
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USER
    try:
        forced_accel()  # a misspelt HARNESS_ACCEL is refused before any build
        return int(args.func(args) or 0)
    except HarnessError as e:
        print(f"harness: {e}", file=sys.stderr)
        if e.detail:
            print(e.detail.rstrip("\n"), file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # The reader went away (`harness analyze ... | head`): nothing left to
        # say to it, and Python's exit-time flush must not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as e:
        # The machine, not the user's input: a full disk, a read-only or vanished
        # directory, a missing device. One line, naming the file.
        where = f": {e.filename}" if e.filename else ""
        print(f"harness: infrastructure error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_ERROR

"""`harness validate [--bug NAME] [--runs N]`: build each bug-corpus kernel and show the harness catches it.

Exit codes: 0 every bug caught in every run and the clean kernel clean;
1 a bug missed or a clean-kernel failure; 2 user error; 3 build/boot error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.argtypes import non_negative_int, output_dir, positive_int
from harness.corpus import bugs
from harness.corpus.validate import Request, table, validate
from harness.paths import results_dir
from harness.runner.progress import stderr_progress


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="build each bug-corpus kernel and show the harness catches it")
    p.add_argument("--bug", action="append", default=[], help="only these bugs (default: all)")
    p.add_argument("--runs", type=positive_int, default=3, help="runs of each bug's scenario on its kernel")
    p.add_argument("--peer-runs", type=non_negative_int, default=1, help="stress-ng runs per bug (0: skip the comparison)")
    p.add_argument("--clean-runs", type=positive_int, default=None, help="clean-kernel runs per scenario (default: --runs)")
    p.add_argument("--results", type=output_dir, default=None, help="results dir of this validate (default: $HARNESS_RESULTS/validate-<time>)")
    p.set_defaults(func=run)


def request(args: argparse.Namespace) -> Request:
    return Request(
        bugs=[bugs.get(n) for n in args.bug] if args.bug else bugs.all_bugs(),
        out=Path(args.results) if args.results else results_dir() / f"validate-{time.strftime('%Y%m%d-%H%M%S')}",
        runs=args.runs,
        peer_runs=args.peer_runs,
        clean_runs=args.clean_runs,
    )


def run(args: argparse.Namespace) -> int:
    outcome = validate(request(args), stderr_progress)
    print(table(outcome.rows))
    print(f"results: {outcome.out}", file=sys.stderr)
    return outcome.exit_code

"""`harness build`: build (or reuse) a kernel and print its artifacts."""

from __future__ import annotations

import argparse
import json
import sys

from harness.argtypes import positive_int
from harness.kbuild import get_kernel


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build (or reuse) a kernel with the project's kconfig fragments")
    p.add_argument("--kernel", default=None, help="source tree or bzImage (default: Debian's linux-source-6.12)")
    p.add_argument("--fragment", "-f", action="append", default=[],
                   help="extra kconfig fragment (name or path; not with a prebuilt bzImage)")
    p.add_argument("--jobs", "-j", type=positive_int, default=None, help="make -j (default: the number of CPUs)")
    p.add_argument("--json", action="store_true", help="print the artifacts as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    k = get_kernel(args.kernel, extra_fragments=args.fragment, jobs=args.jobs, progress=_err)
    info = {
        "bzimage": str(k.bzimage),
        "vmlinux": str(k.vmlinux) if k.vmlinux else None,
        "config": str(k.config_path) if k.config_path else None,
        "system_map": str(k.system_map) if k.system_map else None,
        "build_log": str(k.build_log) if k.build_log else None,
        "build_dir": str(k.build_dir) if k.build_dir else None,
        "rebuilt": k.rebuilt,
    }
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:11} {value}")
    return 0


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)

"""`harness boot [--kernel K] -- CMD`: boot a guest, run one command, exit with its status."""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from harness.argtypes import positive_int, positive_seconds, size_mib
from harness.errors import EXIT_FAIL, UserError
from harness.paths import results_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("boot", help="boot the kernel in QEMU and run a command over ssh")
    p.add_argument("--kernel", default=None, help="source tree or bzImage (default: Debian's linux-source-6.12)")
    p.add_argument("--memory", type=size_mib, default="2G", help="guest RAM: 2G, 1536M, or MiB")
    p.add_argument("--cpus", type=positive_int, default=2, help="guest vCPUs")
    p.add_argument("--timeout", type=positive_seconds, default=600.0, help="seconds the command may run")
    p.add_argument("--boot-timeout", type=positive_seconds, default=300.0, help="seconds until the guest must answer ssh")
    p.add_argument("--append", action="append", default=[], help="extra kernel command line parameter")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...] run in the guest")
    p.set_defaults(func=run)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from harness.image import ensure_image
    from harness.kbuild import get_kernel
    from harness.vm import VM, VMOptions

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("harness boot: no command given (usage: harness boot [--kernel K] -- CMD)")
    kernel = get_kernel(args.kernel, progress=_err, require_kasan=False)
    image = ensure_image(progress=_err)
    workdir = results_dir() / f"boot-{time.strftime('%Y%m%d-%H%M%S')}"
    opts = VMOptions(
        memory_mb=args.memory, cpus=args.cpus, boot_timeout=args.boot_timeout, cmdline_extra=tuple(args.append)
    )
    with VM(kernel.bzimage, image.rootfs, image.ssh_key, image.ready_marker, workdir, opts, progress=_err) as vm:
        _err(f"vm: ssh up after {vm.boot_seconds:.1f}s")
        res = vm.run(
            shlex.join(command),
            timeout=args.timeout,
            on_stdout=lambda line: print(line, flush=True),
            on_stderr=lambda line: print(line, file=sys.stderr, flush=True),
        )
    if res.timed_out:
        _err(f"harness: guest command timed out after {args.timeout:.0f}s (console: {workdir / 'console.log'})")
        return EXIT_FAIL
    return int(res.exit_status or 0)

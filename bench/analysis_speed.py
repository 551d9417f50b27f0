#!/usr/bin/env python3
"""Console analysis throughput and memory on a large generated log.

    python bench/analysis_speed.py [--size-mb 1024] [--report-every-mb 8] [--keep PATH]
    python bench/analysis_speed.py --dense [--copies 80] [--keep PATH]

Sparse case (default): writes a console log of the given size (boot chatter,
stress-program output, audit noise from several CPUs, with a kernel report
every few MB), then runs ``harness.analysis.analyze_file`` on it in a child
process and prints the throughput (MB/s of console text) and the child's peak
RSS. The log is streamed: peak RSS must not grow with the log's size.
Target: >= 50 MB/s.

Dense case (``--dense``): the real consoles of ../shared/corpus concatenated
``--copies`` times (80 make about 150 MB, tens of thousands of reports), read
by ``harness analyze`` in text mode in a child process, output discarded.
Targets: >= 10 MB/s, and a peak RSS that does not grow with the number of
reports (compare ``--copies 20`` with ``--copies 80``).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOISE = [
    "[{t:>12.6f}][  T{pid}] audit: type=1400 audit({t:.3f}:{n}): avc:  denied  {{ read }} for  pid={pid} "
    'comm="stress" name="events" dev="tracefs" ino={n} scontext=system_u:system_r:kernel_t tclass=dir',
    "[{t:>12.6f}][  T{pid}] stress-eventfs: iteration {n} ok, {pid} dentries, latency {n}us",
    "[{t:>12.6f}][    C1] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    "[{t:>12.6f}][  T{pid}] EXT4-fs (vda): mounted filesystem {n:08x} r/w with ordered data mode.",
    "[{t:>12.6f}][    T1] systemd[1]: Started session-{n}.scope - Session {n} of User root.",
    "[{t:>12.6f}][  T{pid}] xfs: Mounting V5 Filesystem {n:08x}-5f2e-4b7c-9a3d-6c1e2f7a8b9c",
    "[{t:>12.6f}][    C0] random: crng reseeded on system resumption",
]

REPORTS = [
    (
        "BUG: KASAN: slab-use-after-free in tracing_open_file_tr+0x3a/0x1f0\n"
        "Read of size 8 at addr ffff888012345678 by task stress-eventfs/4321\n"
        "CPU: 1 UID: 0 PID: 4321 Comm: stress-eventfs Not tainted 6.12.117 #1\n"
        "Call Trace:\n <TASK>\n dump_stack_lvl+0x76/0xa0\n print_report+0xd1/0x670\n kasan_report+0xd6/0x120\n"
        " tracing_open_file_tr+0x3a/0x1f0\n do_dentry_open+0x2c2/0xb70\n vfs_open+0x4d/0x1c0\n"
        " path_openat+0xcf3/0x2d20\n do_filp_open+0x1a6/0x3f0\n do_syscall_64+0x82/0x170\n </TASK>\n"
        "Freed by task 4310:\n kasan_save_stack+0x24/0x50\n kmem_cache_free+0x12e/0x480\n event_file_put+0x5c/0x80\n"
        "=================================================================="
    ),
    (
        "BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
        "Oops: Oops: 0010 [#1] PREEMPT SMP NOPTI\nRIP: 0010:0x0\nCall Trace:\n <TASK>\n"
        " pick_link+0x1b8/0x3a0\n step_into+0x2f7/0x730\n path_lookupat+0x3e/0x1a0\n"
        " filename_lookup+0xde/0x1d0\n vfs_statx+0x8d/0x170\n do_syscall_64+0x82/0x170\n </TASK>\n"
        "---[ end trace 0000000000000000 ]---"
    ),
    (
        "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [inotify-storm:733]\n"
        "RIP: 0010:fsnotify_set_children_dentry_flags+0x5e/0x120\nCall Trace:\n <TASK>\n"
        " fsnotify_recalc_mask+0x5c/0x70\n fsnotify_add_mark_locked+0x2c6/0x4a0\n inotify_new_watch+0xd5/0x150\n"
        " __x64_sys_inotify_add_watch+0x173/0x1d0\n do_syscall_64+0x82/0x170\n </TASK>"
    ),
    (
        "BUG: Dentry 000000005f5e7197{{i=67,n=nfs}}  still in use (2) [unmount of tmpfs tmpfs]\n"
        "WARNING: CPU: 1 PID: 1 at fs/dcache.c:1550 umount_check+0x8e/0xa0\nCall Trace:\n"
        " d_walk+0xd2/0x2a0\n shrink_dcache_for_umount+0x49/0x110\n generic_shutdown_super+0x1f/0x120\n"
        "---[ end trace 0000000000000000 ]---"
    ),
]


def _chunk(base_t: float, n0: int, size: int) -> bytes:
    """About ``size`` bytes of noise lines."""
    out: list[str] = []
    total = 0
    n = n0
    while total < size:
        line = NOISE[n % len(NOISE)].format(t=base_t + n * 1e-4, pid=1000 + n % 97, n=n) + "\n"
        out.append(line)
        total += len(line)
        n += 1
    return "".join(out).encode()


def generate(path: Path, size_mb: int, every_mb: float) -> int:
    """Write the log; return how many reports it holds.

    A template may hold more than one report by syzkaller's rules (the
    Dentry message and the WARNING that prints its stack are two), so each
    counts as many as the analysis finds in it alone.
    """
    from harness.analysis import analyze

    def stamped(text: str, n: int) -> bytes:
        stamp = f"[{5000.0 + n:>12.6f}][  T{4000 + n}] "
        return "".join(stamp + ln + "\n" for ln in text.replace("{{", "{").replace("}}", "}").split("\n")).encode()

    per_template = [len(analyze(stamped(t, 0))) for t in REPORTS]
    block = _chunk(100.0, 0, 1 << 20)  # reused: the analysis does not care that it repeats
    size = size_mb << 20
    written = 0
    reports = expected = 0
    next_report = every_mb * (1 << 20)
    with open(path, "wb") as f:
        while written < size:
            f.write(block)
            written += len(block)
            if written >= next_report and written < size:
                data = stamped(REPORTS[reports % len(REPORTS)], reports)
                f.write(data)
                written += len(data)
                expected += per_template[reports % len(REPORTS)]
                reports += 1
                next_report += every_mb * (1 << 20)
    return expected


_REPO = Path(__file__).resolve().parent.parent
# ../shared beside the checkout (or beside the worktrees' directory).
CORPUS = next(
    (b / "shared" / "corpus" / "syzkaller-reports" for b in (_REPO.parent, _REPO.parent.parent)
     if (b / "shared" / "corpus" / "syzkaller-reports").is_dir()),
    _REPO.parent / "shared" / "corpus" / "syzkaller-reports",
)


def generate_dense(path: Path, copies: int) -> int:
    """Concatenate the corpus logs (headers dropped) ``copies`` times; return the corpus log count."""
    logs = []
    for case in sorted(CORPUS.iterdir(), key=lambda p: p.name):
        log = case.read_bytes().partition(b"\n\n")[2]
        logs.append(log if log.endswith(b"\n") else log + b"\n")
    one = b"".join(logs)
    with open(path, "wb") as f:
        for _ in range(copies):
            f.write(one)
    return len(logs)


def _analyze_text(path: str, out) -> None:
    """``harness analyze LOG`` in text mode, stdout discarded."""
    from harness import cli

    sys.stdout = open(os.devnull, "w")
    start, cpu = time.perf_counter(), time.process_time()
    try:
        rc = cli.main(["analyze", path])
    except SystemExit as e:
        rc = e.code
    out.send((time.perf_counter() - start, time.process_time() - cpu, rc))


@contextlib.contextmanager
def _log_file(keep: str | None, name: str) -> Iterator[Path]:
    """Where the generated log goes: ``--keep PATH``, else a temporary file removed afterwards."""
    if keep:
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory(prefix="analysis-bench-") as tmp:
        yield Path(tmp) / name


def _in_child(target, path: Path) -> tuple[tuple, int]:
    """``target(path, pipe)`` in a forked child: what it sent, and the child's peak RSS in KiB.

    A child of its own, so the peak is the analysis's, not the generator's.
    """
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=target, args=(str(path), child))
    p.start()
    sent = parent.recv()
    p.join()
    return sent, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def dense(args: argparse.Namespace) -> int:
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2
    with _log_file(args.keep, "dense.log") as path:
        t0 = time.perf_counter()
        n = generate_dense(path, args.copies)
        size = path.stat().st_size
        print(f"generated {size / 1e6:.0f} MB: {n} corpus logs x {args.copies} in {time.perf_counter() - t0:.1f}s")
        (elapsed, cpu, rc), peak_kb = _in_child(_analyze_text, path)
    mbps = size / 1e6 / elapsed
    cpu_mbps = size / 1e6 / cpu
    # On a shared machine the wall clock counts other people's work too; the
    # CPU time is this analysis's own.
    print(f"dense log: harness analyze (text) in {elapsed:.1f}s wall, {cpu:.1f}s CPU: "
          f"{mbps:.1f} MB/s wall, {cpu_mbps:.1f} MB/s CPU, exit {rc}")
    print(f"peak RSS of the analysis: {peak_kb / 1024:.0f} MB")
    return 0 if cpu_mbps >= 10 else 1


def _analyze(path: str, out) -> None:
    from harness.analysis import analyze_file

    start = time.perf_counter()
    reports = analyze_file(path)
    out.send((time.perf_counter() - start, len(reports), sorted({r.title for r in reports})))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="log size in MiB (default 1024)")
    ap.add_argument("--report-every-mb", type=float, default=8.0, help="one kernel report every N MiB")
    ap.add_argument("--keep", metavar="PATH", help="write the log here and keep it")
    ap.add_argument("--dense", action="store_true", help="the report-dense case: real consoles concatenated")
    ap.add_argument("--copies", type=int, default=80, help="--dense: copies of the corpus (default 80)")
    args = ap.parse_args()
    if args.dense:
        return dense(args)

    with _log_file(args.keep, "console.log") as path:
        t0 = time.perf_counter()
        expected = generate(path, args.size_mb, args.report_every_mb)
        size = path.stat().st_size
        print(f"generated {size / 1e6:.0f} MB with {expected} reports in {time.perf_counter() - t0:.1f}s")
        (elapsed, found, titles), peak_kb = _in_child(_analyze, path)
    mbps = size / 1e6 / elapsed
    print(f"analyzed in {elapsed:.1f}s: {mbps:.1f} MB/s of console text")
    print(f"peak RSS of the analysis: {peak_kb / 1024:.0f} MB")
    print(f"reports: {found} found, {expected} written; titles: {titles}")
    return 0 if found == expected and mbps >= 50 else 1


if __name__ == "__main__":
    sys.exit(main())

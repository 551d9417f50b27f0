"""Soft lockups of a starved vCPU are set aside; real ones are kept."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import analysis
from harness.vm import starvation
from harness.vm import vcpu
from harness.vm.vcpu import Sample

DATA = Path(__file__).parent.parent / "data" / "consoles"


def ledger(console: bytes, offset: int, rate_before: float, rate_stuck: float, stuck_s: float = 5.0):
    """Samples every 0.5 s: vCPU 0 runs at ``rate_before`` for 20 s, then at
    ``rate_stuck`` for ``stuck_s``; the report's bytes (from ``offset``) are out after that."""
    samples, cpu, t = [], 0.0, 100.0
    while t < 100.0 + 20 + stuck_s + 2:
        in_lockup = 120.0 <= t < 120.0 + stuck_s
        size = offset if t < 120.0 + stuck_s else len(console)
        samples.append(Sample(t, size, {0: cpu, 1: cpu}))
        cpu += 0.5 * (rate_stuck if in_lockup else rate_before)
        t += 0.5
    return samples


@pytest.fixture(scope="module")
def starved_console():
    data = (DATA / "starved-soft-lockup.log").read_bytes()
    reports = analysis.analyze(data)
    assert [r.title for r in reports] == ["BUG: soft lockup in inotify_read"]
    return data, reports


def test_lockup_of_a_vcpu_the_host_did_not_run_is_set_aside(starved_console):
    data, reports = starved_console
    kept, aside = starvation.split(reports, ledger(data, reports[0].start_offset, 0.5, 0.0))
    assert kept == []
    assert len(aside) == 1 and aside[0]["title"] == "BUG: soft lockup in inotify_read"
    assert aside[0]["why"].startswith("vCPU 0 ran 0.2 s of the 5.0 s") and "the host starved it" in aside[0]["why"]


def test_lockup_of_a_vcpu_that_kept_its_share_is_kept(starved_console):
    # Two guests on two cores: a CPU really stuck in the kernel still gets half a core.
    data, reports = starved_console
    kept, aside = starvation.split(reports, ledger(data, reports[0].start_offset, 0.5, 0.45))
    assert kept == reports and aside == []


def test_lockup_is_kept_without_a_ledger_or_before_its_first_sample(starved_console):
    data, reports = starved_console
    assert starvation.split(reports, [])[0] == reports
    late = [Sample(200.0 + i, len(data), {0: 0.0}) for i in range(10)]  # report out before sampling began
    assert starvation.split(reports, late)[0] == reports


def test_other_reports_are_never_judged_by_the_ledger():
    data = (DATA / "eventfs-file-uaf.log").read_bytes()
    reports = analysis.analyze(data)
    idle = [Sample(float(i), 0, {0: 0.0, 1: 0.0}) for i in range(60)]
    assert starvation.split(reports, idle) == (reports, [])


def test_cpu_before_windows_end_before_the_report_is_out():
    s = [Sample(float(t), 0 if t < 10 else 100, {0: float(t)}) for t in range(20)]
    # The byte at offset 50 came out between t=9 and t=10: the window ends at 9.
    assert vcpu.cpu_before(s, 0, 50, 4.0) == (4.0, 4.0, None)
    assert vcpu.cpu_before(s, 0, 50, 3.5) == (4.0, 4.0, None)  # starts at a sample at least that far back
    assert vcpu.cpu_before(s, 1, 50, 4.0) is None  # no such vCPU
    assert vcpu.cpu_before(s, 0, 50, 30.0) is None  # before the first sample


@pytest.mark.parametrize("name", ["starved-soft-lockup.log", "fsnotify-rewalk-herd.log", "eventfs-file-uaf.log"])
def test_a_reports_start_offset_is_where_its_first_line_starts(name, tmp_path, monkeypatch):
    """The ledger is matched to the report by this offset: it must be the
    byte where line ``start_line`` starts, from bytes and from a stream alike."""
    import importlib

    scan = importlib.import_module("harness.analysis.scan")  # the package exports a function of that name
    data = (DATA / name).read_bytes()
    reports = analysis.analyze(data)
    assert reports
    for r in reports:
        assert data[: r.start_offset].count(b"\n") == r.start_line - 1
        assert r.start_offset == 0 or data[r.start_offset - 1 : r.start_offset] == b"\n"
    # Streamed in blocks smaller than the log, so offsets cross block bounds.
    monkeypatch.setattr(scan, "BLOCK", 4096)
    (tmp_path / "c.log").write_bytes(data)
    streamed = analysis.analyze_file(tmp_path / "c.log")
    assert [(r.title, r.start_offset) for r in streamed] == [(r.title, r.start_offset) for r in reports]


def test_ledger_reads_a_live_processes_named_threads(tmp_path):
    """A real process whose threads are named like QEMU's vCPU threads."""
    code = (
        "import threading, time, ctypes\n"
        "libc = ctypes.CDLL(None)\n"
        "def spin(n):\n"
        "    libc.prctl(15, f'CPU {n}/TCG'.encode())\n"
        "    end = time.time() + 30\n"
        "    while time.time() < end: pass\n"
        "for n in range(2): threading.Thread(target=spin, args=(n,), daemon=True).start()\n"
        "time.sleep(30)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code])
    console = tmp_path / "console.log"
    console.write_bytes(b"x" * 10)
    led = vcpu.Ledger(p.pid, console, tmp_path / "vcpu.tsv", period=0.1)
    try:
        led.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (led.samples and len(led.samples[-1].cpu) == 2
                                                   and led.samples[-1].cpu[0] > 0.2):
            time.sleep(0.1)
    finally:
        led.stop()
        p.kill()
        p.wait()
    last = led.samples[-1]
    assert sorted(last.cpu) == [0, 1] and last.cpu[0] > 0.2 and last.console_bytes == 10
    assert sorted(last.wait) == [0, 1]  # schedstat: Debian's kernels have it
    rows = (tmp_path / "vcpu.tsv").read_text().splitlines()
    assert rows[0].startswith("#") and len(rows) == len(led.samples) + 1 and "0=" in rows[-1]
    back = vcpu.load(tmp_path / "vcpu.tsv")  # what `harness analyze` reads beside a console
    assert len(back) == len(led.samples) and back[-1].console_bytes == 10
    assert abs(back[-1].cpu[0] - last.cpu[0]) < 0.01 and abs(back[-1].wait[1] - last.wait[1]) < 0.01


def test_the_run_queue_wait_is_named_when_the_ledger_has_it(starved_console, tmp_path):
    data, reports = starved_console
    offset = reports[0].start_offset
    (tmp_path / "vcpu.tsv").write_text(
        "# header\n"
        + "".join(f"{t}.0\t{offset if t < 10 else len(data)}\t0={min(t, 3) * 0.5:.3f}/{max(0, t - 3) * 0.9:.3f} 1={t}\n"
                  for t in range(12))
    )
    samples = vcpu.load(tmp_path / "vcpu.tsv")  # vCPU 1 has no wait column (a kernel without schedstat)
    assert samples[5].wait == {0: 1.8} and samples[5].cpu == {0: 1.5, 1: 5.0}
    _, aside = starvation.split(reports, samples)
    assert "vCPU 0 ran 0.0 s of the 5.0 s before the report, waited 4.5 s for a host CPU" in aside[0]["why"]

"""The guest stress programs, run on the host where they can be.

Built once per session with guest/Makefile. Programs that need the guest's
kernel features get fakes: a directory tree standing in for tracefs makes the
eventfs oracles fire on purpose (spurious ENOENT, ghost files, find loops).
Every run is 1-2 s; durations are checked to be honoured.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness import proc
from harness.paths import GUEST
from harness.scenarios import counters_from_output, get

PROGRAMS = ("kprobe-churn", "eventfs-lookup-race", "symlink-reclaim", "negdentry-inotify", "umount-check")
COMMON_KEYS = {"program", "ok", "oracle_failures", "failures", "oracles", "stuck_threads", "ops", "ops_per_s",
               "elapsed_s", "duration_s", "seed", "threads"}


@pytest.fixture(scope="session")
def bindir() -> Path:
    if not proc.which("make") or not proc.which("gcc"):
        pytest.skip("make/gcc not installed")
    proc.run(["make", "-C", GUEST, "-j2"], timeout=300, what="make -C guest")
    return GUEST / "build"


def run(bindir: Path, program: str, *args: str, timeout: float = 60):
    start = time.monotonic()
    r = proc.run([bindir / program, *args], check=False, timeout=timeout)
    r.wall = time.monotonic() - start
    r.counters = counters_from_output(r.stdout)
    return r


def assert_clean_run(r, duration: float):
    assert r.returncode == 0, r.stderr
    c = r.counters
    assert c is not None and COMMON_KEYS <= c.keys()
    assert c["ok"] is True and c["oracle_failures"] == 0 and c["failures"] == [] and c["oracles"] == {}
    assert c["stuck_threads"] == 0 and c["ops"] > 0
    # Honoured by a deadline: not much past it, not cut short.
    assert duration - 0.2 <= c["elapsed_s"] <= duration + 1.0
    assert r.wall < duration + 10
    assert "[" in r.stderr  # progress/notes went to stderr, the JSON alone to stdout
    assert r.stdout.strip().count("\n") == 0


def fake_tracefs(root: Path, *, with_kprobe_files: bool = False) -> Path:
    """A directory shaped like tracefs: the control files and a few events."""
    for d in ("sched/sched_switch", "sched/sched_wakeup", "irq/irq_handler_entry"):
        (root / "events" / d).mkdir(parents=True)
        for f in ("enable", "format", "id"):
            (root / "events" / d / f).write_text("x\n")
    (root / "kprobe_events").touch()
    (root / "dynamic_events").touch()
    if with_kprobe_files:
        ghost = root / "events" / "kprobes" / "hck0"
        ghost.mkdir(parents=True)
        for f in ("enable", "format", "id"):
            (ghost / f).write_text("x\n")
    return root


@pytest.mark.parametrize("program", PROGRAMS)
def test_usage_errors_exit_2_with_one_line(bindir, program):
    for bad in (["--bogus"], ["--duration", "soon"], ["--threads", "0"], ["positional"], ["--seed"]):
        r = run(bindir, program, *bad)
        assert r.returncode == 2, (bad, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{program}: "), r.stderr
        assert r.stdout == ""
    r = run(bindir, program, "--help")
    assert r.returncode == 0 and "--duration" in r.stdout and "--seed" in r.stdout


@pytest.mark.parametrize("program", ("kprobe-churn", "eventfs-lookup-race"))
def test_eventfs_programs_exit_2_without_tracefs(bindir, program, tmp_path):
    r = run(bindir, program, "--tracefs", str(tmp_path), "--duration", "1")
    assert r.returncode == 2
    assert "tracefs" in r.stderr and r.stderr.count("\n") == 1


def test_kprobe_churn_needs_kprobe_events(bindir, tmp_path):
    root = fake_tracefs(tmp_path)
    (root / "kprobe_events").unlink()
    r = run(bindir, "kprobe-churn", "--tracefs", str(root), "--duration", "1")
    assert r.returncode == 2 and "CONFIG_KPROBE_EVENTS" in r.stderr


def test_kprobe_churn_reports_spurious_enoent(bindir, tmp_path):
    # Adding to a plain file "succeeds" but no event directory appears:
    # exactly what a stale negative dentry looks like from user space.
    root = fake_tracefs(tmp_path)
    r = run(bindir, "kprobe-churn", "--tracefs", str(root), "--duration", "1", "--drop-ms", "0",
            "--find-every", "0.3")
    assert r.returncode == 1, r.stderr
    c = r.counters
    assert c["ok"] is False and c["oracle_failures"] > 0 and c["kprobe_adds"] > 0
    assert c["failures"][0].startswith("spurious-ENOENT: kprobe hck")
    assert c["oracles"]["spurious-ENOENT"] > 0
    assert sum(c["oracles"].values()) == c["oracle_failures"]
    assert "ORACLE spurious-ENOENT: " in r.stderr
    assert get("kprobe-churn").oracle(c)


def test_kprobe_churn_reports_ghost_files(bindir, tmp_path):
    root = fake_tracefs(tmp_path, with_kprobe_files=True)
    r = run(bindir, "kprobe-churn", "--tracefs", str(root), "--duration", "1", "--names", "1",
            "--drop-ms", "0", "--find-every", "0")
    assert r.returncode == 1
    c = r.counters
    assert any(f.startswith("ghost-file: kprobe hck0: stat events/kprobes/hck0 succeeds") for f in c["failures"])
    assert c["gone_checks"] > 0 and c["oracles"]["ghost-file"] == c["gone_checks"]
    assert get("kprobe-churn").oracle_names(c)[0] == "ghost-file"


def test_kprobe_churn_reports_find_loop(bindir, tmp_path):
    root = fake_tracefs(tmp_path, with_kprobe_files=True)
    loop = root / "events" / "sched" / "loop"
    loop.mkdir()
    bind = proc.run(["mount", "--bind", root / "events", loop], check=False)
    if bind.returncode:
        pytest.skip("cannot bind-mount here")
    try:
        r = run(bindir, "kprobe-churn", "--tracefs", str(root), "--duration", "1", "--names", "1",
                "--drop-ms", "0", "--find-every", "0.2", "--threads", "1")
    finally:
        proc.run(["umount", loop], check=False)
    assert r.returncode == 1
    assert r.counters["find_walks"] > 0
    assert any(f.startswith("find-loop: file system loop: ") for f in r.counters["failures"])
    assert r.counters["oracles"]["find-loop"] >= 1


def test_eventfs_lookup_race_static_rounds(bindir, tmp_path):
    root = fake_tracefs(tmp_path)
    (root / "kprobe_events").unlink()
    r = run(bindir, "eventfs-lookup-race", "--tracefs", str(root), "--duration", "1.5", "--no-drop",
            "--threads", "4")
    assert_clean_run(r, 1.5)
    c = r.counters
    assert c["kprobes"] is False and c["static_dirs"] == 3
    assert c["rounds"] > 10 and c["enoent"] == 0
    # Every thread looks up once a round; the round cut by the deadline may be partial.
    assert 4 * c["rounds"] <= c["lookups"] <= 4 * (c["rounds"] + 1)
    assert c["round_latency"]["n"] == c["rounds"]


def test_eventfs_lookup_race_reports_enoent(bindir, tmp_path):
    # kprobe_events is a plain file: the "fresh" event directory never
    # appears, so every lookup thread must report the ENOENT.
    root = fake_tracefs(tmp_path)
    r = run(bindir, "eventfs-lookup-race", "--tracefs", str(root), "--duration", "1", "--no-drop",
            "--threads", "3")
    assert r.returncode == 1
    assert r.counters["enoent"] > 0
    assert r.counters["failures"][0].startswith("spurious-ENOENT: round ")
    assert set(r.counters["oracles"]) == {"spurious-ENOENT"}


def test_symlink_reclaim_on_tmpdir(bindir, tmp_path):
    d = tmp_path / "links"
    r = run(bindir, "symlink-reclaim", "--dir", str(d), "--duration", "1.5", "--drop-ms", "0",
            "--threads", "3", "--links", "24", "--seed", "7")
    assert_clean_run(r, 1.5)
    c = r.counters
    assert c["walks"] > 100 and c["mutations"] > 0 and c["readlinks"] > 0 and c["seed"] == 7
    assert c["memcg"] == "off" and c["drops"] == 0
    assert set(c["walk_latency"]) == {"n", "p50_us", "p99_us", "max_us"}
    assert c["walk_latency"]["p50_us"] <= c["walk_latency"]["p99_us"] <= c["walk_latency"]["max_us"]
    assert not any(p.name.startswith(("l", "f")) for p in d.iterdir())  # cleaned up
    scenario = get("symlink-reclaim")
    assert scenario.oracle(c) == []
    # A host run without drop_caches (and not on XFS) must not count as coverage.
    gaps = scenario.coverage(c)
    assert any(g.startswith("drops is 0") for g in gaps)
    assert any(g.startswith("fs is ") for g in gaps) == (c["fs"] != "xfs")


def test_symlink_reclaim_without_cgroup2_goes_on(bindir, tmp_path):
    r = run(bindir, "symlink-reclaim", "--dir", str(tmp_path / "l"), "--duration", "1", "--drop-ms", "0",
            "--cgroup-mem", "64M", "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert r.counters["memcg"] in ("on", "unavailable")


def test_symlink_reclaim_requires_dir(bindir):
    r = run(bindir, "symlink-reclaim", "--duration", "1")
    assert r.returncode == 2 and "--dir" in r.stderr


def test_negdentry_inotify_on_tmpdir(bindir, tmp_path):
    d = tmp_path / "neg"
    r = run(bindir, "negdentry-inotify", "--dir", str(d), "--count", "20000", "--duration", "2",
            "--hold-ms", "20", "--openers", "2")
    assert_clean_run(r, 2)
    c = r.counters
    assert c["negative_target"] == 20000 and 0 < c["negative_created"] <= 20000
    assert c["opens"] > 0 and c["watch_cycles"] > 0 and c["watchdog_thresh"] == 0
    for key in ("open_latency", "add_watch_latency", "rm_watch_latency", "close_watch_latency"):
        assert set(c[key]) == {"n", "p50_us", "p99_us", "max_us"}
    assert c["add_watch_latency"]["n"] >= c["watch_cycles"]
    assert not d.exists()  # made by the program, removed by it


def test_negdentry_inotify_probes_each_size_alone(bindir, tmp_path):
    r = run(bindir, "negdentry-inotify", "--dir", str(tmp_path / "neg"), "--count", "30000", "--duration", "3",
            "--hold-ms", "20", "--openers", "2", "--scale-at", "1000,10000", "--scale-reps", "6")
    assert_clean_run(r, 3)
    c = r.counters
    pts = c["scaling"]["points"]
    assert c["scaling"]["of"] == "negative dentries" and c["scaling_points"] == len(pts) == 3
    ns = [p["n"] for p in pts]
    assert ns == sorted(ns) and ns[0] >= 1000 and ns[1] >= 10000 and ns[2] == c["negative_created"]
    for p in pts:
        assert p["quiet"] is True and p["keepalive"] is True and 3 <= p["reps"] <= 6
        assert p["first_add"]["n"] == 1 and p["rm_last_watch"]["n"] == 1
        assert p["add_watch"]["n"] == p["reps"] == p["close_watched_file"]["n"]
        assert p["rm_watch"]["n"] + p["close_watch"]["n"] == p["reps"]
        assert p["close_unwatched_file"]["n"] == 10  # every real file, once
    # The host's own kernel is a fixed one: its scaling oracle holds.
    assert get("negdentry-inotify").oracle(c) == []


def test_negdentry_inotify_probe_options(bindir, tmp_path):
    r = run(bindir, "negdentry-inotify", "--dir", str(tmp_path / "n"), "--count", "2000", "--duration", "1",
            "--scale-at", "")
    assert r.returncode == 0, r.stderr
    assert r.counters["scaling_points"] == 0 and r.counters["scaling"]["points"] == []
    for bad in ("10,5", "1k", "0", "1,2,3,4,5,6,7,8"):
        r = run(bindir, "negdentry-inotify", "--dir", str(tmp_path / "n"), "--duration", "1", "--scale-at", bad)
        assert r.returncode == 2 and "--scale-at" in r.stderr and r.stderr.count("\n") == 1, bad


def test_negdentry_inotify_scales_to_ram(bindir, tmp_path):
    # Auto count from MemAvailable; --max-count keeps the host run small.
    r = run(bindir, "negdentry-inotify", "--dir", str(tmp_path / "n"), "--duration", "1",
            "--max-count", "5000", "--watchers", "1", "--hold-ms", "10")
    assert r.returncode == 0, r.stderr
    assert r.counters["negative_target"] == 5000


def test_umount_check_needs_device_for_xfs(bindir, tmp_path):
    r = run(bindir, "umount-check", "--fs", "xfs", "--mountpoint", str(tmp_path / "m"), "--duration", "1")
    assert r.returncode == 2 and "--device" in r.stderr
    r = run(bindir, "umount-check", "--fs", "btrfs", "--duration", "1")
    assert r.returncode == 2 and "btrfs" in r.stderr
    r = run(bindir, "umount-check", "--fs", "tmpfs", "--scale-at", "5000,1000", "--duration", "1")
    assert r.returncode == 2 and "bad --scale-at 5000,1000" in r.stderr
    r = run(bindir, "umount-check", "--fs", "tmpfs", "--scale-reps", "0", "--duration", "1")
    assert r.returncode == 2 and "bad --scale-reps 0: 1 to 9" in r.stderr


def test_umount_check_tmpfs_cycles(bindir, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    r = run(bindir, "umount-check", "--fs", "tmpfs", "--mountpoint", str(tmp_path / "m"), "--duration", "2",
            "--cycle-sec", "0.5", "--storm-sec", "0", "--negative", "2000")
    if r.returncode == 2 and "cannot mount" in r.stderr:
        pytest.skip("no permission to mount tmpfs here")
    assert_clean_run(r, 2)
    c = r.counters
    assert c["cycles"] >= 2 and c["tmpfs_cycles"] == c["cycles"]
    assert c["lookups"] > 0 and c["umount_latency"]["n"] == c["cycles"] and c["kmsg_reports"] == 0
    assert not os.path.ismount(tmp_path / "m")


def test_umount_check_scaling_probe_times_umount_per_size(bindir, tmp_path):
    if os.geteuid() != 0 or not proc.which("mkfs.ext4"):
        pytest.skip("needs root and mkfs.ext4")
    disk = tmp_path / "disk"
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    r = run(bindir, "umount-check", "--device", str(disk), "--fs", "ext4", "--mountpoint", str(tmp_path / "m"),
            "--duration", "6", "--cycle-sec", "0.5", "--storm-sec", "0", "--negative", "1000",
            "--scale-at", "100,5000", "--scale-budget", "4")
    if r.returncode == 2 and ("loop" in r.stderr or "cannot mount" in r.stderr):
        pytest.skip(f"no loop device or ext4 mount here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    c = r.counters
    pts = c["scaling"]["points"]
    assert c["scaling"]["of"] == "dentries" and c["scaling_points"] == len(pts) == 2
    assert [p["target"] for p in pts] == [p["made"] for p in pts] == [100, 5000]
    # n is what the umount freed (nr_dentry before and after): about what was made.
    assert pts[1]["n"] > 2500 and all(p["umount"]["n"] == p["reps"] and p["umount"]["p50_us"] > 0 for p in pts)
    # Repeats, interleaved across the sizes, while the budget allows: on the
    # host a umount of 5000 dentries takes milliseconds, so every size gets them.
    assert pts[0]["reps"] == pts[1]["reps"] == 3
    assert not os.path.ismount(tmp_path / "m")


def test_sigterm_stops_early_with_counters(bindir, tmp_path):
    import signal
    import subprocess

    p = proc.spawn([bindir / "symlink-reclaim", "--dir", tmp_path / "l", "--duration", "60", "--drop-ms", "0",
                    "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=15)
    finally:
        proc.kill_group(p)
    assert p.returncode == 0
    c = counters_from_output(out.decode())
    assert c["ok"] is True and c["elapsed_s"] < 10 and c["walks"] > 0


@pytest.mark.parametrize("at", ["10,5", "0", "10,x", "10;100", "1,2,3,4,5,6,7", "200000"])
def test_eventfs_lookup_race_rejects_bad_probe_sizes(bindir, tmp_path, at):
    root = fake_tracefs(tmp_path)
    r = run(bindir, "eventfs-lookup-race", "--tracefs", str(root), "--duration", "1", "--scale-at", at)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"eventfs-lookup-race: bad --scale-at {at}: up to 6 increasing sizes 1..100000, comma separated"


def synthetic_only(tmp_path):
    """A fake tracefs with a plain synthetic_events file and no kprobe_events:
    the writes go through, but no events/synthetic/<name> directory appears."""
    root = fake_tracefs(tmp_path)
    (root / "kprobe_events").unlink()
    (root / "synthetic_events").touch()
    return root


def test_eventfs_lookup_race_probe_skips_where_no_event_directory_appears(bindir, tmp_path):
    # No size is probed, and the run still ends at its deadline.
    root = synthetic_only(tmp_path)
    r = run(bindir, "eventfs-lookup-race", "--tracefs", str(root), "--duration", "1", "--no-drop", "--threads", "2")
    assert_clean_run(r, 1)
    c = r.counters
    assert c["scaling_points"] == 0 and c["scaling"]["points"] == []
    assert "10 synth events made 0 directories" in r.stderr and "not probed" in r.stderr
    assert (root / "synthetic_events").read_text().startswith("hsc0 u64 lat\nhsc1 u64 lat\n")
    # What it wrote it removed again ("!name" lines).
    assert "!hsc9\n" in (root / "synthetic_events").read_text()
    assert get("eventfs-lookup-race").oracle(c) == []


def test_eventfs_lookup_race_without_a_probe(bindir, tmp_path):
    root = synthetic_only(tmp_path)
    r = run(bindir, "eventfs-lookup-race", "--tracefs", str(root), "--duration", "1", "--no-drop", "--scale-at", "")
    assert_clean_run(r, 1)
    assert r.counters["scaling_points"] == 0 and (root / "synthetic_events").read_text() == ""

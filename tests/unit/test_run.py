"""The runner's verdicts, with a fake VM: every branch of the taxonomy."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.runner import Evidence, Run, Testbed, judge
from harness.runner import drive as run_mod
from harness.errors import BootError, GuestLost
from harness.kbuild import Kernel
from harness.scenarios import Scenario
from harness.verdict import ErrorKind, RunResult, Verdict
from harness.vm.ssh import CommandResult

KASAN_REPORT = """[   12.000001] ==================================================================
[   12.000002] BUG: KASAN: slab-use-after-free in eventfs_iterate+0x1f/0x300
[   12.000003] Read of size 8 at addr ffff888012345678 by task ls/123
[   12.000004]
[   12.000005] CPU: 0 UID: 0 PID: 123 Comm: ls Not tainted 6.12.117 #1
[   12.000006] Call Trace:
[   12.000007]  <TASK>
[   12.000008]  dump_stack_lvl+0x5d/0x80
[   12.000009]  print_report+0xc1/0x5e0
[   12.000010]  kasan_report+0xb9/0xf0
[   12.000011]  eventfs_iterate+0x1f/0x300
[   12.000012]  iterate_dir+0x1a0/0x4f0
[   12.000013]  __x64_sys_getdents64+0xf1/0x1d0
[   12.000014]  do_syscall_64+0x5d/0x170
[   12.000015]  </TASK>
[   12.000016] ==================================================================
"""

SC = Scenario(
    name="fake", description="fake", program="fake-prog", args=(), needs=("CONFIG_FOO",), duration=5,
    minimum=(("ops", 1),),
)


def counters(ok=True, **kw):
    d = {"ok": ok, "oracle_failures": 0 if ok else 1, "failures": [] if ok else ["ENOENT for events/kprobes/p0"],
         "stuck_threads": 0, "ops": 100, "ops_per_s": 20.0, "elapsed_s": 5.0}
    d.update(kw)
    return json.dumps(d)


@dataclass
class Script:
    console: str = "[    0.000000] Linux version 6.12.117\nHARNESS-GUEST-READY\n"
    exit_status: int | None = 0
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    lose: bool = False  # the program run loses the connection
    qemu_status: int | None = None  # QEMU's exit status when lost
    boot_error: bool = False
    vcpu_samples: list = None  # the host's vCPU ledger (harness.vm.vcpu.Sample)
    console_after: str = ""  # what the console gets once the program runs
    stderr_lines: tuple = ()  # the program's progress lines, as ssh hands them over


class FakeProc:
    def __init__(self, status):
        self.status = status

    def poll(self):
        return self.status


class FakeVM:
    script: Script

    def __init__(self, bzimage, rootfs, key, marker, workdir, options, progress=print):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.console_log = self.workdir / "console.log"
        self.boot_seconds = 1.0
        self._proc = FakeProc(None)
        self.vcpu_samples = self.script.vcpu_samples or []

    def __enter__(self):
        if self.script.boot_error:
            raise BootError("no ready marker within 300s", detail="tail")
        self.console_log.write_text(self.script.console)
        return self

    def __exit__(self, *a):
        pass

    def upload(self, *a, **k):
        pass

    def qemu_status(self, wait=0.0):
        return self._proc.poll()

    def console_tail(self, n=40):
        return "\n".join(self.console_log.read_text().splitlines()[-n:])

    def run(self, command, timeout=60, on_stdout=None, on_stderr=None):
        if "fake-prog" not in command:
            return CommandResult(command, 0, "", "", 0.0)
        s = self.script
        with open(self.console_log, "a") as f:
            f.write(s.console_after)
        for line in s.stderr_lines:
            on_stderr(line)
        if s.lose:
            self._proc = FakeProc(s.qemu_status)
            raise GuestLost("ssh connection lost")
        return CommandResult(command, s.exit_status, s.stdout, s.stderr, 1.0, s.timed_out)


@pytest.fixture
def kernel(tmp_path):
    cfg = tmp_path / ".config"
    cfg.write_text("CONFIG_FOO=y\n")
    return Kernel(tmp_path / "bzImage", None, cfg)


@pytest.fixture
def go(tmp_path, kernel, monkeypatch):
    prog = tmp_path / "guest" / "build" / "fake-prog"
    prog.parent.mkdir(parents=True)
    prog.write_text("")
    monkeypatch.setattr(run_mod, "program_path", lambda sc: prog)
    monkeypatch.setattr(run_mod, "SETTLE_SECONDS", 0)
    monkeypatch.setattr(run_mod, "VM", FakeVM)

    @dataclass
    class Img:
        rootfs: Path = tmp_path / "r"
        ssh_key: Path = tmp_path / "k"
        ready_marker: str = "HARNESS-GUEST-READY"

    def _go(script, sc=SC):
        FakeVM.script = script
        return run_mod.execute(Run(sc, 0, 5), Testbed(kernel, Img()), tmp_path / "vm", progress=lambda m: None)

    return _go


def test_clean_run_passes(go):
    r = go(Script(stdout=counters()))
    assert (r.verdict, r.message) == ("PASS", "ok")


def test_kasan_report_on_console_fails_with_its_title(go):
    r = go(Script(console=Script().console + KASAN_REPORT, stdout=counters()))
    assert r.verdict == "FAIL" and r.titles == ["KASAN: slab-use-after-free Read in eventfs_iterate"]
    assert "Read of size 8" in r.report


def test_broken_oracle_fails_with_oracle_message(go):
    r = go(Script(exit_status=1, stdout=counters(ok=False)))
    assert r.verdict == "FAIL" and r.oracle_failures == ["ENOENT for events/kprobes/p0"]
    assert r.signatures == ["oracle: ENOENT for events/kprobes/p0"]


def test_guest_that_died_with_a_report_fails_with_the_report_title(go):
    r = go(Script(console=Script().console + KASAN_REPORT, lose=True, qemu_status=0))
    assert r.verdict == "FAIL" and r.titles[0].startswith("KASAN: slab-use-after-free")


def test_guest_that_died_silently_is_lost_connection(go):
    r = go(Script(lose=True, qemu_status=0))
    assert r.verdict == "FAIL" and r.titles == ["lost connection to test machine"]


def test_qemu_killed_from_outside_is_an_infrastructure_error(go):
    r = go(Script(lose=True, qemu_status=-9))
    assert r.verdict == "ERROR" and r.error_kind == "infrastructure" and "signal 9" in r.message


def test_program_overrunning_its_deadline_is_no_output(go):
    r = go(Script(exit_status=None, timed_out=True))
    assert r.verdict == "FAIL" and r.titles == ["no output from test machine"]


def test_program_setup_error_is_an_infrastructure_error(go):
    r = go(Script(exit_status=2, stderr="kprobe-churn: /sys/kernel/tracing: No such file or directory"))
    assert r.verdict == "ERROR" and r.error_kind == "infrastructure" and "No such file" in r.message


def test_too_little_stress_is_not_a_pass(go):
    r = go(Script(stdout=counters(ops=0)))
    assert r.verdict == "ERROR" and "did too little" in r.message


def test_missing_kconfig_is_a_skip_naming_the_symbol(go):
    r = go(Script(), sc=replace(SC, needs=("CONFIG_FOO", "CONFIG_BAR")))
    assert (r.verdict, r.message) == ("SKIP", "needs CONFIG_BAR")


def test_boot_failure_is_a_boot_error(go):
    r = go(Script(boot_error=True))
    assert r.verdict == "ERROR" and r.error_kind == "boot"


def test_soft_lockup_of_a_starved_vcpu_passes_with_the_report_set_aside(go):
    from harness.vm import starvation
    from harness.vm.vcpu import Sample

    lockup = (Path(__file__).parent.parent / "data" / "consoles" / "starved-soft-lockup.log").read_text()
    console = Script().console + lockup
    start = console.encode().index(b"[   66.063573]")
    # The host gave vCPU 0 nothing for the 6 s before the report came out.
    samples = [Sample(float(t), start if t < 30 else len(console), {0: min(t, 24) * 0.5, 1: t * 0.5})
               for t in range(32)]
    r = go(Script(console=console, stdout=counters(), vcpu_samples=samples))
    assert r.verdict == "PASS" and r.titles == []
    assert r.set_aside == [{"title": "BUG: soft lockup in inotify_read",
                            "why": "vCPU 0 ran 0.0 s of the 5.0 s before the report (reported stuck for 5s): "
                                   "the host starved it"}]
    assert json.loads(json.dumps(r.to_dict()))["set_aside"] == r.set_aside  # results.json keeps the pair
    assert r.message.startswith("ok (1 report(s) set aside: BUG: soft lockup in inotify_read")
    # The same report with the vCPU busy all along is the kernel's: FAIL.
    busy = [replace(s, cpu={0: s.t * 0.5, 1: s.t * 0.5}) for s in samples]
    r = go(Script(console=console, stdout=counters(), vcpu_samples=busy))
    assert r.verdict == "FAIL" and r.titles == ["BUG: soft lockup in inotify_read"] and r.set_aside == []
    assert starvation.STARVED_SHARE < 0.5


def test_a_guest_that_rebooted_during_the_stress_is_an_unexpected_reboot(go):
    r = go(Script(lose=True, qemu_status=0, console_after="[   20.000000] reboot: Restarting system\n"))
    assert r.verdict == "FAIL" and r.titles == ["unexpected kernel reboot"]
    assert "Restarting system" in r.report


def test_boot_lines_before_the_stress_are_not_a_reboot():
    boot = b"Decompressing Linux... Booting the kernel.\n[    0.000000] Linux version 6.12\n"
    ev = Evidence(SC, console=boot + b"[   30.0] tail\n", console_from=len(boot), lost="ssh connection lost",
                  qemu_status=0)
    assert judge(ev).titles == ["lost connection to test machine"]
    assert judge(replace(ev, console_from=0)).titles == ["unexpected kernel reboot"]


def test_the_judge_is_pure_over_plain_evidence():
    ev = Evidence(SC, console=KASAN_REPORT.encode(), stdout=counters(), exit_status=0, start_uptime=10.0)
    j = judge(ev)
    assert (j.verdict, j.error_kind) == (Verdict.FAIL, ErrorKind.NONE)
    assert j.message == "KASAN: slab-use-after-free Read in eventfs_iterate" and j.detection_s == pytest.approx(2.0, abs=1e-3)
    assert judge(ev) == j
    ok = judge(replace(ev, console=b""))
    assert (ok.verdict, ok.message, ok.detection_s) == (Verdict.PASS, "ok", None)
    too_little = judge(replace(ev, console=b"", stdout=counters(ops=0)))
    assert (too_little.verdict, too_little.error_kind) == (Verdict.ERROR, ErrorKind.INFRASTRUCTURE)


def test_progress_lines_are_kept_with_their_time_and_capped(go, monkeypatch):
    r = go(Script(stdout=counters(), stderr_lines=("round 1: 10 ops", "", "round 2: 20 ops")))
    assert [line for _, line in r.progress] == ["round 1: 10 ops", "round 2: 20 ops"]
    assert all(isinstance(t, float) and t >= 0 for t, _ in r.progress)
    assert json.loads(json.dumps(r.to_dict()))["progress"] == r.progress
    monkeypatch.setattr(run_mod, "PROGRESS_LINES", 3)
    r = go(Script(stdout=counters(), stderr_lines=tuple(f"line {i}" for i in range(10))))
    assert [line for _, line in r.progress] == ["line 7", "line 8", "line 9"]


def test_verdicts_and_kinds_read_as_their_names():
    r = RunResult("fake", 0, Verdict.ERROR, error_kind=ErrorKind.BOOT)
    assert json.dumps(r.to_dict()["verdict"]) == '"ERROR"' and f"{r.verdict}({r.error_kind})" == "ERROR(boot)"
    back = RunResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.verdict is Verdict.ERROR and back.error_kind is ErrorKind.BOOT
    assert RunResult.from_dict({"scenario": "x", "index": 0, "verdict": "PASS"}).error_kind is ErrorKind.NONE


def test_each_verdict_maps_to_its_pytest_outcome():
    from harness.pytest_plugin import check_verdict

    check_verdict(RunResult("fake", 0, Verdict.PASS, message="ok"))
    with pytest.raises(pytest.skip.Exception, match="needs CONFIG_BAR"):
        check_verdict(RunResult("fake", 0, Verdict.SKIP, message="needs CONFIG_BAR"))
    with pytest.raises(pytest.fail.Exception, match=r"^FAIL: KASAN"):
        check_verdict(RunResult("fake", 0, Verdict.FAIL, message="KASAN: x"))
    with pytest.raises(pytest.fail.Exception, match=r"^ERROR\(boot\): no marker"):
        check_verdict(RunResult("fake", 0, Verdict.ERROR, error_kind=ErrorKind.BOOT, message="no marker"))


def test_one_request_decides_seed_id_and_file_names(tmp_path):
    from harness.runner import collect, error_result, item_file, load, store
    from harness.errors import BootError

    run = Run(SC, 2, 5, side="patched")
    assert (run.seed, run.item, run.id, run.stem) == (3, "fake#2", "patched/fake#2", "fake-2")
    assert item_file(tmp_path, run) == tmp_path / "fake-2.json"
    boot = error_result(run, BootError("no ready marker"))
    assert (boot.verdict, boot.error_kind, boot.seed) == (Verdict.ERROR, ErrorKind.BOOT, 3)
    bug = error_result(run, KeyError("x"))
    assert bug.error_kind == ErrorKind.INFRASTRUCTURE and bug.message == "KeyError: 'x'"
    store(bug, item_file(tmp_path, run))
    store(RunResult("fake", 0, Verdict.PASS, message="ok"), tmp_path / "fake-0.json")
    assert [r.index for r in collect(tmp_path)] == [0, 2]
    assert load(tmp_path / "fake-2.json") == bug
    assert (tmp_path / "fake-2.json").read_text().endswith("}\n")


def test_store_leaves_no_temporary_file_and_collect_ignores_one(tmp_path):
    from harness.runner import collect, store
    from harness.verdict import RunResult, Verdict

    items = tmp_path / "items"
    store(RunResult("a", 0, Verdict.PASS), items / "a-0.json")
    assert [p.name for p in items.iterdir()] == ["a-0.json"]
    (items / ".a-1.json.123.tmp").write_text('{"truncat')  # a write cut short by a signal
    assert [r.scenario for r in collect(items)] == ["a"]

"""The whole verify flow and `harness verify` on a small fake kernel tree, with build and run faked.

The fake runner looks at the *built tree's* fs/bug.c, so these tests also
show the patched kernel really is built from the patched copy and the
baseline from the untouched tree.
"""

import difflib
import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.cli import main
from harness.errors import BuildError, UserError
from harness.kbuild.build import Kernel
from harness.verdict import RunResult, Verdict
from harness.verify import report
from harness.verify import cli as vcli
from harness.verify.budget import choose
from harness.verify.core import Deps, Request, jobs_for, verify

KASAN = "KASAN: slab-use-after-free Read in d_walk"
CLEAN = "int walk(void)\n{\n\treturn 0;\n}\n"
BUGGY = "int walk(void)\n{\n\tusleep(100);\n\treturn 0;\n}\n"
DOC = "The dentry cache\n================\n\nIt caches dentries.\n"
CHECKPATCH = """#!/usr/bin/perl
# A stand-in for the tree's checkpatch.pl: counts lines, finds one warning.
my $n = 0;
open(my $f, '<', $ARGV[-1]) or die;
$n++ while <$f>;
print "WARNING: fake finding\\n\\ntotal: 0 errors, 1 warnings, $n lines checked\\n";
exit 1;
"""


class Sc:
    def __init__(self, name, duration=120, shortest=0):
        self.name, self.duration, self.shortest = name, duration, shortest


SCENARIOS = [Sc("eventfs-lookup-race"), Sc("umount-check", 60)]


def make_tree(root: Path, bug_c: str = CLEAN, checkpatch: bool = True) -> Path:
    (root / "arch" / "x86").mkdir(parents=True)
    (root / "fs").mkdir()
    (root / "Documentation" / "filesystems").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "Makefile").write_text("# fake kernel\n")
    (root / "Kconfig").write_text("# fake\n")
    (root / "fs" / "bug.c").write_text(bug_c)
    (root / "Documentation" / "filesystems" / "vfs.rst").write_text(DOC)
    if checkpatch:
        (root / "scripts" / "checkpatch.pl").write_text(CHECKPATCH)
    return root


def diff(path: str, old: str, new: str, out: Path) -> Path:
    out.write_text("".join(difflib.unified_diff(
        old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}")))
    return out


class Fakes:
    """Build = check the tree; run = look at the tree's fs/bug.c, like a kernel would behave."""

    def __init__(self, rendezvous: bool = False):
        self.built: list[tuple[str, str | None]] = []
        self.ran: list[str] = []
        self.lock = threading.Lock()
        # With rendezvous, the first two runs must be in flight together: proof of parallel VMs.
        self.barrier = threading.Barrier(2, timeout=10) if rendezvous else None

    def build(self, spec, side):
        tree = Path(spec)
        self.built.append((side, spec))
        if (tree / "fs" / "BROKEN").exists():
            raise BuildError(f"kernel build failed ({tree})", log=str(tree / "build.log"),
                             detail="fs/bug.c:3:2: error: expected ';'")
        return Kernel(bzimage=tree / "bzImage", vmlinux=None, config_path=None, source=str(tree))

    def run(self, kernel, job, workdir):
        with self.lock:
            first_two = len(self.ran) < 2
            self.ran.append(job.id)
        if self.barrier is not None and first_two:
            self.barrier.wait()
        code = (Path(kernel.source) / "fs" / "bug.c").read_text()
        if "panic" in code:
            # A failed boot takes time in life; an instant one would let the pool's
            # workers drain every queued job before the collector can cancel them.
            time.sleep(0.02)
            return RunResult(job.name, job.index, Verdict.ERROR, error_kind="boot", message="Kernel panic - not syncing")
        if "usleep" in code and job.name == "eventfs-lookup-race":
            return RunResult(job.name, job.index, Verdict.FAIL, titles=[KASAN], message=KASAN, seed=job.seed)
        return RunResult(job.name, job.index, Verdict.PASS, message="ok", seed=job.seed)

    def deps(self):
        return Deps(self.build, lambda: self.run)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_RESULTS", str(tmp_path / "results"))
    return tmp_path / "cache"


def request(tree, patches, tmp_path, runs=4, scenarios=SCENARIOS):
    sizing = choose(scenarios, runs=runs, workers=2, cores=2)
    return Request(kernel=str(tree), patches=patches, scenarios=scenarios, sizing=sizing,
                   run_dir=tmp_path / "run")


def quiet(msg):
    pass


def test_bug_patch_on_clean_tree_is_a_regression_and_tree_untouched(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    patch = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    fakes = Fakes(rendezvous=True)
    out = verify(request(tree, [patch], tmp_path), fakes.deps(), quiet)
    assert out.comparison.verdict == "regression" and out.exit_code == 1
    (row,) = out.comparison.introduced
    assert (row.scenario, row.signature, row.baseline, row.patched) == ("eventfs-lookup-race", KASAN, 0, 4)
    assert row.p == pytest.approx(0.0285714, rel=1e-4)
    # Baseline from the user's tree, patched from the copy (verify/<slot>/src/<tree name>).
    assert fakes.built == [("baseline", str(tree)), ("patched", str(out.copy))]
    assert out.copy.parent.parent.parent == tmp_path / "cache" / "verify" and out.copy.name == tree.name
    assert (tree / "fs" / "bug.c").read_text() == CLEAN
    assert len(fakes.ran) == 16
    assert out.checkpatch.summary.startswith("total: 0 errors, 1 warnings")
    items = sorted(p.name for p in (tmp_path / "run" / "patched" / "items").iterdir())
    assert items[0] == "eventfs-lookup-race-0.json" and len(items) == 8


def test_reverse_patch_on_bugged_tree_fixes(tmp_path):
    tree = make_tree(tmp_path / "src" / "bugged", bug_c=BUGGY)
    revert = diff("fs/bug.c", BUGGY, CLEAN, tmp_path / "revert.patch")
    out = verify(request(tree, [revert], tmp_path), Fakes().deps(), quiet)
    assert out.comparison.verdict == "fixes" and out.exit_code == 0
    (row,) = out.comparison.fixed
    assert (row.signature, row.baseline, row.patched) == (KASAN, 4, 0)
    assert out.comparison.introduced == []


def test_docs_only_patch_is_no_change_without_signatures(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    doc = diff("Documentation/filesystems/vfs.rst", DOC, DOC + "\nNegative dentries too.\n", tmp_path / "doc.patch")
    out = verify(request(tree, [doc], tmp_path, runs=2), Fakes().deps(), quiet)
    assert out.comparison.verdict == "no-change" and out.exit_code == 0
    assert out.comparison.rows == [] and out.comparison.introduced == [] and out.comparison.fixed == []
    text = report.text(out)
    assert "(no signature on either side)" in text and "verdict: no-change" in text


def test_copy_is_reused_and_previous_patch_is_undone(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    bug = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    doc = diff("Documentation/filesystems/vfs.rst", DOC, DOC + "more\n", tmp_path / "doc.patch")
    first = verify(request(tree, [bug], tmp_path), Fakes().deps(), quiet)
    second = verify(request(tree, [doc], tmp_path), Fakes().deps(), quiet)
    assert first.copy == second.copy
    assert (second.copy / "fs" / "bug.c").read_text() == CLEAN  # the bug patch is gone
    assert second.comparison.verdict == "no-change"


def test_patched_build_failure_is_error_on_patched_side(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    broken = tmp_path / "broken.patch"
    broken.write_text("--- /dev/null\n+++ b/fs/BROKEN\n@@ -0,0 +1 @@\n+x\n")
    fakes = Fakes()
    out = verify(request(tree, [broken], tmp_path), fakes.deps(), quiet)
    c = out.comparison
    assert (c.verdict, c.error_side, out.exit_code) == ("error", "patched", 3)
    assert "patched kernel failed to build" in c.error and "error: expected ';'" in c.error
    assert fakes.ran == []
    assert "verdict: error (patched side)" in report.text(out)


def test_patched_kernel_that_does_not_boot_stops_early(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    panic = diff("fs/bug.c", CLEAN, CLEAN + "/* panic */\n", tmp_path / "panic.patch")
    fakes = Fakes()
    out = verify(request(tree, [panic], tmp_path, runs=5), fakes.deps(), quiet)
    c = out.comparison
    assert (c.verdict, c.error_side) == ("error", "patched")
    assert "Kernel panic" in c.error
    assert out.cancelled > 0 and len(fakes.ran) < 20


def test_one_scenario_erroring_does_not_stop_the_others(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    patch = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    fakes = Fakes()
    real_run = fakes.run

    def run(kernel, job, workdir):
        if job.name == "umount-check":
            raise RuntimeError("scratch disk missing")  # a harness bug: becomes an infrastructure ERROR
        return real_run(kernel, job, workdir)

    out = verify(request(tree, [patch], tmp_path, runs=4), Deps(fakes.build, lambda: run), quiet)
    assert out.cancelled == 0
    assert out.comparison.verdict == "regression"
    assert any("umount-check: no completed run on either side" in n and "scratch disk missing" in n
               for n in out.comparison.notes)


def test_patch_that_does_not_apply_is_a_user_error_before_any_build(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    stale = diff("fs/bug.c", "int walk(void)\n{\n\treturn 1;\n}\n", BUGGY, tmp_path / "stale.patch")
    fakes = Fakes()
    with pytest.raises(UserError, match=r"stale.patch does not apply to .*src/linux: fs/bug.c: hunk #1"):
        verify(request(tree, [stale], tmp_path), fakes.deps(), quiet)
    assert fakes.built == []


def test_prebuilt_kernel_cannot_be_verified(tmp_path):
    bz = tmp_path / "bzImage"
    data = bytearray(1024)
    data[0x202:0x206] = b"HdrS"
    bz.write_bytes(bytes(data))
    p = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    with pytest.raises(UserError, match="needs a kernel source tree"):
        verify(request(bz, [p], tmp_path), Fakes().deps(), quiet)


def test_jobs_interleave_sides_with_paired_seeds():
    jobs = jobs_for(SCENARIOS, 2, {"eventfs-lookup-race": 30, "umount-check": 30})
    assert [j.id for j in jobs[:4]] == [
        "baseline/eventfs-lookup-race#0", "patched/eventfs-lookup-race#0",
        "baseline/umount-check#0", "patched/umount-check#0",
    ]
    assert jobs[0].seed == jobs[1].seed != jobs[4].seed


def test_checkpatch_absent_is_noted_not_fatal(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux", checkpatch=False)
    p = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    out = verify(request(tree, [p], tmp_path, runs=1), Fakes().deps(), quiet)
    assert not out.checkpatch.available and "checkpatch.pl not found" in out.checkpatch.summary
    assert report.to_json(out)["checkpatch"]["available"] is False


def test_report_table_json_and_junit(tmp_path):
    tree = make_tree(tmp_path / "src" / "linux")
    patch = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    out = verify(request(tree, [patch], tmp_path), Fakes().deps(), quiet)
    text = report.text(out)
    lines = text.splitlines()
    assert any(ln.split()[:2] == ["8", "8"] and ln.endswith("boot successes") for ln in lines)
    assert any(ln.split()[:4] == ["0:4", "4:4", "0.029", "introduced"] and ln.endswith(f"eventfs-lookup-race: {KASAN}")
               for ln in lines)
    assert "checkpatch: total: 0 errors, 1 warnings" in text
    doc = report.to_json(out)
    assert doc["verdict"] == "regression"
    assert doc["introduced"][0]["signature"] == KASAN
    assert {"signature", "baseline", "patched", "p"} <= set(doc["introduced"][0])
    assert doc["fixed"] == [] and doc["checkpatch"]["summary"].startswith("total:")
    json.dumps(doc)  # serializable as is
    written = report.write_all(out, tmp_path / "out" / "junit.xml")
    root = ET.parse(written["junit_copy"]).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["verdict"].find("failure") is not None
    assert cases[KASAN].find("failure") is not None
    assert json.loads(written["json"].read_text())["verdict"] == "regression"


# --- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_fakes(monkeypatch):
    fakes = Fakes()
    by_name = {s.name: s for s in SCENARIOS}

    def get(name):
        if name not in by_name:
            raise UserError(f"unknown scenario '{name}' (known: {', '.join(by_name)})")
        return by_name[name]

    # The catalog also has a self-test the plan leaves out: verify's default must too.
    monkeypatch.setattr(vcli, "_all_scenarios", lambda: list(SCENARIOS) + [Sc("selftest-crash", 5)])
    monkeypatch.setattr(vcli, "_get_scenario", get)
    monkeypatch.setattr(vcli, "_load_plan", lambda path, known: SimpleNamespace(
        items=[SimpleNamespace(name=s.name) for s in SCENARIOS],
        fragments=(), compiled_suppressions=(), memory_mb=2048, cpus=2))
    monkeypatch.setattr(vcli, "_deps", lambda plan, args, progress: fakes.deps())
    return fakes


def test_cli_regression_json_exit_1(tmp_path, cli_fakes, capsys):
    tree = make_tree(tmp_path / "src" / "linux")
    patch = diff("fs/bug.c", CLEAN, BUGGY, tmp_path / "bug.patch")
    junit = tmp_path / "j.xml"
    code = main(["verify", "--kernel", str(tree), "--patch", str(patch), "--runs", "4", "--parallel", "2",
                 "--scenario", "eventfs-lookup-race", "--json", "--junit", str(junit),
                 "--results", str(tmp_path / "res"), "--min-effect", "3"])
    out = capsys.readouterr()
    assert code == 1, out.err
    doc = json.loads(out.out)
    assert doc["verdict"] == "regression" and doc["scenarios"] == ["eventfs-lookup-race"]
    assert [(r["signature"], r["baseline"], r["patched"]) for r in doc["introduced"]] == [(KASAN, 0, 4)]
    assert doc["runs"] == 4 and doc["exit_code"] == 1 and doc["min_effect"] == 3.0
    assert junit.is_file() and (tmp_path / "res" / "verify.json").is_file()


def test_cli_fixes_and_no_change_exit_0_text_table(tmp_path, cli_fakes, capsys):
    tree = make_tree(tmp_path / "src" / "bugged", bug_c=BUGGY)
    revert = diff("fs/bug.c", BUGGY, CLEAN, tmp_path / "revert.patch")
    assert main(["verify", "--kernel", str(tree), "-p", str(revert), "-n", "4", "-s", "eventfs-lookup-race"]) == 0
    out = capsys.readouterr().out
    assert "verdict: fixes" in out and "baseline" in out.splitlines()[5]


def test_cli_build_error_exit_3(tmp_path, cli_fakes, capsys):
    tree = make_tree(tmp_path / "src" / "linux")
    broken = tmp_path / "broken.patch"
    broken.write_text("--- /dev/null\n+++ b/fs/BROKEN\n@@ -0,0 +1 @@\n+x\n")
    assert main(["verify", "--kernel", str(tree), "--patch", str(broken), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert (doc["verdict"], doc["error_side"]) == ("error", "patched")
    assert doc["scenarios"] == [s.name for s in SCENARIOS]  # the plan's, not the self-test


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--patch", "{tmp}/nope.patch"], "harness: user error: --patch {tmp}/nope.patch: no such file"),
        (["--patch", "{tmp}/stale.patch"], "harness: user error: stale.patch does not apply to {tree}: fs/bug.c: hunk #1"),
        (["--patch", "{tmp}/stale.patch", "--scenario", "nope"], "harness: user error: unknown scenario 'nope'"),
    ],
)
def test_cli_user_errors_exit_2_one_line(tmp_path, cli_fakes, capsys, argv, message):
    tree = make_tree(tmp_path / "src" / "linux")
    diff("fs/bug.c", "int walk(void)\n{\n\treturn 1;\n}\n", BUGGY, tmp_path / "stale.patch")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(["verify", "--kernel", str(tree), *argv]) == 2
    err = capsys.readouterr().err
    first = next(ln for ln in err.splitlines() if ln.startswith("harness: "))
    assert first.startswith(message.format(tmp=tmp_path, tree=tree))
    assert "Traceback" not in err


def test_cli_requires_a_patch(capsys):
    assert main(["verify", "--kernel", "/x"]) == 2
    assert "--patch" in capsys.readouterr().err

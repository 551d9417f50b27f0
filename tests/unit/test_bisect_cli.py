"""`harness bisect` end to end with the kernel faked: a real git repo, our worktree, exit codes.

The fakes stand in for kbuild, the image and one run; everything else is
real: the user's repository, the worktree bisect makes, its checkouts, the
state file, the renderings. Each commit's ``kernel.txt`` says how its
"kernel" behaves, and the fake run reads it from the tree it was given, so
a run sees exactly what the worktree had checked out.
"""

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli
from harness.bisect import git as bgit
from harness.bisect.synthetic import Change, commit_series, init
from harness.errors import BuildError
from harness.kbuild import Kernel
from harness.paths import REPO
from harness.verdict import RunResult, Verdict

TARGET = "BUG: Dentry still in use in umount_check"
N = 13


def flags_for(i, bug_at, extra):
    return sorted(({"bug"} if i >= bug_at else set()) | set(extra.get(i, ())))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HARNESS_RESULTS", str(tmp_path / "results"))
    return tmp_path


def make_repo(tmp_path, bug_at=9, extra=None):
    """The user's checkout: 13 commits, then left dirty (an edit and an untracked file)."""
    repo = tmp_path / "linux"
    init(repo)
    extra = extra or {}
    commits = commit_series(
        repo,
        [
            Change(f"c{i}: change {i}", files={"kernel.txt": "\n".join(flags_for(i, bug_at, extra)) + "\n",
                                               f"notes/{i}.txt": f"{i}\n"})
            for i in range(N)
        ],
    )
    (repo / "notes" / "0.txt").write_text("edited by the user\n")
    (repo / "scratch.c").write_text("/* untracked work in progress */\n")
    return repo, commits


class FakeKernel:
    """Stands in for get_kernel / ensure_image / the runner's execute; records what it saw."""

    def __init__(self, monkeypatch, interrupt_at=None):
        self.trees: list[Path] = []
        self.built: list[str] = []
        self.runs = 0
        self.interrupt_at = interrupt_at
        monkeypatch.setattr("harness.kbuild.get_kernel", self.get_kernel)
        monkeypatch.setattr("harness.image.ensure_image", lambda progress=print: object())
        monkeypatch.setattr("harness.runner.execute", self.execute)

    def get_kernel(self, tree, extra_fragments=None, jobs=None, progress=print):
        tree = Path(tree)
        self.trees.append(tree)
        flags = (tree / "kernel.txt").read_text().split()
        self.built.append(bgit.git(tree, "rev-parse", "HEAD").stdout.strip())
        log = tree.parent / "build.log"
        log.write_text("  CC fs/dcache.o\n")
        if "broken" in flags:
            log.write_text("fs/dcache.c:1: error: broken on purpose\n")
            raise BuildError("kernel build failed", log=str(log))
        return Kernel(tree / "bzImage", None, None, build_log=log, source=str(tree), rebuilt=True)

    def execute(self, run, bed, workdir, progress=print):
        kernel = bed.kernel
        self.runs += 1
        if self.interrupt_at is not None and len(self.trees) >= self.interrupt_at:
            raise KeyboardInterrupt
        flags = (Path(kernel.source) / "kernel.txt").read_text().split()
        (workdir / "console.log").write_text("console\n")
        titles = [TARGET] if "bug" in flags else []
        return RunResult(run.scenario.name, run.index, Verdict.FAIL if titles else Verdict.PASS, titles=titles,
                         duration=2.0, console_log=str(workdir / "console.log"))


def bisect(repo, good, bad, *extra):
    return cli.main(["bisect", "--kernel", str(repo), "--good", good, "--bad", bad, "--scenario", "umount-check",
                     "--runs", "2", *extra])


def worktrees(repo):
    out = bgit.git(repo, "worktree", "list", "--porcelain").stdout
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


def test_finds_the_culprit_in_a_worktree_and_leaves_the_checkout_alone(env, monkeypatch, capsys):
    repo, commits = make_repo(env)
    before = bgit.status(repo)
    head = bgit.git(repo, "rev-parse", "HEAD").stdout
    fake = FakeKernel(monkeypatch)
    junit = env / "out" / "junit.xml"
    rc = bisect(repo, commits[0], commits[-1], "--json", "--junit", str(junit))
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["culprit"] == {"commit": commits[9], "subject": "c9: change 9"}
    assert doc["confidence"] == 1.0 and doc["runs_per_step"] == 2 and doc["bisect_steps"] <= 4
    # Every build happened in our worktree (worktrees/<slot>/src/<repo name>), never in the user's tree.
    wt = {t for t in fake.trees}
    assert len(wt) == 1 and next(iter(wt)).parent.parent.parent == env / "cache" / "worktrees"
    assert next(iter(wt)).name == repo.name
    # The user's checkout: same status, same HEAD, no worktree left registered or on disk.
    assert bgit.status(repo) == before and " M notes/0.txt" in before and "?? scratch.c" in before
    assert bgit.git(repo, "rev-parse", "HEAD").stdout == head
    assert worktrees(repo) == [str(repo)]
    assert not any((env / "cache" / "worktrees").glob(f"*/src/{repo.name}"))  # the slot keeps only build dirs
    # Logs of every step, the state, and the renderings.
    res = Path(doc["bisect"]["results"])
    assert res.parent == env / "results" and res.name == f"bisect-{doc['bisect']['id']}"
    for step in doc["steps"]:
        d = Path(step["log_dir"])
        assert (d / "build.log").is_file() and (d / "run-0" / "result.json").is_file()
        assert step["titles"] == ([TARGET] if step["verdict"] == "bad" else [])
    assert {p.name for p in res.iterdir()} >= {"state.json", "bisect.json", "junit.xml", "summary.txt", "bisect.log"}
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == len(doc["steps"]) + 1
    assert "culprit: " + commits[9] in (res / "summary.txt").read_text()


def test_text_output_and_rerun_is_answered_from_the_state(env, monkeypatch, capsys):
    repo, commits = make_repo(env, bug_at=4)
    fake = FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 0
    first = capsys.readouterr().out
    assert first.startswith(f"culprit: {commits[4]} c4: change 4\nconfidence: 1.000\n")
    built = len(fake.trees)
    assert bisect(repo, commits[0], commits[-1]) == 0
    assert capsys.readouterr().out == first and len(fake.trees) == built  # nothing tested again


def test_interrupted_bisect_resumes_and_cleans_up(env, monkeypatch, capsys):
    repo, commits = make_repo(env, extra={6: {"broken"}})
    before = bgit.status(repo)
    first = FakeKernel(monkeypatch, interrupt_at=4)  # Ctrl-C during the 4th commit's runs
    assert bisect(repo, commits[0], commits[-1]) == 130
    assert "harness: interrupted" in capsys.readouterr().err
    assert worktrees(repo) == [str(repo)] and bgit.status(repo) == before
    state = json.loads(next((env / "results").glob("bisect-*/state.json")).read_text())
    assert len(state["steps"]) == 3  # BAD, GOOD and the first step (a skip: c6 does not build)
    assert state["steps"][2]["verdict"] == "skip" and state["steps"][2]["error_kind"] == "build"

    second = FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 0
    out = capsys.readouterr().out
    assert f"culprit: {commits[9]}" in out
    assert len(second.built) == len(set(second.built)) >= 2
    assert not set(second.built) & set(first.built[:3])  # nothing finished before is built again
    assert worktrees(repo) == [str(repo)] and bgit.status(repo) == before


def test_good_that_reproduces_is_one_line_user_error(env, monkeypatch, capsys):
    repo, commits = make_repo(env, bug_at=0)
    FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"harness: user error: GOOD {commits[0][:12]} reproduces the failure too ({TARGET})")
    assert worktrees(repo) == [str(repo)]


def test_bad_that_does_not_reproduce_is_a_user_error(env, monkeypatch, capsys):
    repo, commits = make_repo(env, bug_at=99)
    FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 2
    assert "does not reproduce: 2 runs of the scenario passed" in capsys.readouterr().err


def test_bad_endpoint_that_does_not_build_is_a_build_error(env, monkeypatch, capsys):
    repo, commits = make_repo(env, extra={N - 1: {"broken"}})
    FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 3
    assert "harness: build error: BAD" in capsys.readouterr().err
    assert worktrees(repo) == [str(repo)]


def test_skips_that_hide_the_culprit_exit_3_with_candidates(env, monkeypatch, capsys):
    repo, commits = make_repo(env, extra={8: {"broken"}})
    FakeKernel(monkeypatch)
    assert bisect(repo, commits[0], commits[-1]) == 3
    out, err = capsys.readouterr()
    assert "no single culprit" in out and commits[8] in out and commits[9] in out
    assert "harness: no single culprit: skipped commits leave 2 candidates" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--good", "nope"), "user error: --good 'nope': not a commit in"),
        (("--swap",), "is not an ancestor of --bad"),
        (("--same",), "are the same commit"),
        (("--scenario", "no-such"), "unknown scenario 'no-such'"),
        (("--runs", "0"), "argument --runs/-n: expected a positive integer, got '0'"),
        (("--kernel-dir",), "not a git checkout"),
    ],
)
def test_bad_input_is_one_line_exit_2_before_anything_runs(env, monkeypatch, capsys, args, message):
    repo, commits = make_repo(env)
    fake = FakeKernel(monkeypatch)
    argv = {"--kernel": str(repo), "--good": commits[0], "--bad": commits[-1], "--scenario": "umount-check"}
    if args == ("--swap",):
        argv["--good"], argv["--bad"] = commits[-1], commits[0]
    elif args == ("--same",):
        argv["--good"] = commits[-1]
    elif args == ("--kernel-dir",):
        (env / "plain").mkdir()
        argv["--kernel"] = str(env / "plain")
    else:
        argv[args[0]] = args[1]
    assert cli.main(["bisect", *[x for kv in argv.items() for x in kv]]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert fake.trees == []


def test_make_bisect_target_calls_harness_bisect():
    r = subprocess.run(["make", "-n", "-s", "-C", str(REPO), "bisect", "KERNEL=/k", "GOOD=v1", "BAD=v2",
                        "SCENARIO=umount-check", "RUNS=4"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert ".venv/bin/harness bisect --kernel /k --good v1 --bad v2 --scenario umount-check --runs 4" in r.stdout
    # A missing argument stops make while it reads the makefile (-n: even a mistake here runs nothing).
    r = subprocess.run(["make", "-n", "-C", str(REPO), "bisect", "KERNEL=/k"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "usage: make bisect KERNEL=<git tree> GOOD=<rev>" in r.stderr


def test_kconfig_that_cannot_apply_skips_the_commit_but_is_a_user_error_at_an_endpoint(env, monkeypatch, capsys):
    from harness.errors import UserError

    repo, commits = make_repo(env, extra={6: {"noconfig"}, 0: set()})
    fake = FakeKernel(monkeypatch)
    real = fake.get_kernel

    def get_kernel(tree, **kw):
        if "noconfig" in (Path(tree) / "kernel.txt").read_text().split():
            raise UserError("kconfig symbols did not stick (unknown, or their dependencies are not met): CONFIG_X")
        return real(tree, **kw)

    monkeypatch.setattr("harness.kbuild.get_kernel", get_kernel)
    assert bisect(repo, commits[0], commits[-1], "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    step = next(s for s in doc["steps"] if s["commit"] == commits[6])
    assert step["verdict"] == "skip" and step["error_kind"] == "config" and "did not stick" in step["reason"]
    assert doc["culprit"]["commit"] == commits[9]

    repo2, commits2 = make_repo(env / "second", extra={0: {"noconfig"}})
    assert bisect(repo2, commits2[0], commits2[-1]) == 2
    assert "user error: GOOD" in capsys.readouterr().err

"""The bisect engine over a real (small) git history, with fake commit testers: no kernel."""

import itertools
import json
import math
import random
import xml.etree.ElementTree as ET

import pytest

from harness.bisect import report, stats
from harness.bisect.engine import Bisector, GitHistory, Settings
from harness.bisect.model import ANY_ORACLE, BAD, GOOD, ORACLE, SKIP, STEP, TITLE, RunRecord, Target, oracle_key
from harness.bisect.state import StateFile
from harness.bisect.synthetic import Change, commit_series, init
from harness.errors import BootError, BuildError, UserError
from harness.verdict import Verdict

TARGET = "KASAN: slab-use-after-free Read in tracing_open_file_tr"
DECOY = "WARNING in harness_bisect_decoy"
N = 13  # commits c0 (good) .. c12 (bad)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """c0..c12, one text file each: the engine only needs the shape of the history."""
    repo = tmp_path_factory.mktemp("hist") / "repo"
    init(repo)
    commits = commit_series(repo, [Change(f"c{i}: edit", files={f"f{i}.txt": f"{i}\n"}) for i in range(N)])
    return repo, commits


class Fake:
    """A commit tester whose behaviour per commit index is given as flags.

    ``flags(i)`` -> set of: "bug" (runs may fail with TARGET), "decoy" (every
    run fails with DECOY), "broken" (build error), "noboot" (boot error),
    "oracle" (the bug shows as oracle failures with run-specific text).
    ``repro(i, run)`` says whether a run of a buggy commit reproduces.
    """

    def __init__(self, commits, flags, repro=lambda i, run: True, interrupt_at=None):
        self.index = {c: i for i, c in enumerate(commits)}
        self.flags, self.repro = flags, repro
        self.calls: list[int] = []
        self.runs = 0
        self.interrupt_at = interrupt_at

    def __call__(self, rev):
        i = self.index[rev]
        self.calls.append(i)
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        return self._runs(i, self.flags(i))

    def _runs(self, i, flags):
        if "broken" in flags:
            raise BuildError(f"kernel build failed (c{i})", log="/nonexistent/build.log")
        for run in itertools.count():
            self.runs += 1
            if "noboot" in flags:
                yield RunRecord(run, Verdict.ERROR, error_kind="boot", message="Kernel panic - not syncing: VFS")
                continue
            titles, oracle = [], []
            if "decoy" in flags:
                titles.append(DECOY)
            if "stuck" in flags:  # another oracle of the same scenario
                oracle.append(f"stuck-thread: reader thread {run} stuck in stat for 31s after it was told to stop")
            if "bug" in flags and self.repro(i, run):
                if "oracle" in flags:
                    oracle.append(f"spurious-ENOENT: round {run + 7}: stat events/k{i}/format gave ENOENT "
                                  f"for a name that exists (thread {run})")
                    oracle.append("... and 12 more oracle failures")
                else:
                    titles.append(TARGET)
            yield RunRecord(run, Verdict.FAIL if titles or oracle else Verdict.PASS, titles=titles, oracle_failures=oracle, seconds=1.0)


def bug_from(k, extra=None):
    """Flags: the bug from commit k on, plus extra {index: flags}."""
    extra = extra or {}

    def flags(i):
        f = {"bug"} if i >= k else set()
        return f | set(extra.get(i, ()))

    return flags


def bisect(history, fake, *, runs=1, good=0, bad=N - 1, **kw):
    repo, commits = history
    settings = Settings(commits[good], commits[bad], runs=runs, **kw)
    return Bisector(GitHistory(repo), fake, settings).run()


def test_stats_runs_needed_keeps_a_miss_under_five_percent():
    assert stats.runs_needed(1.0) == 1
    assert stats.runs_needed(0.5) == 5  # 0.5^4 = 6.25% is not enough, 0.5^5 = 3.1% is
    assert stats.runs_needed(0.9) == 2
    assert stats.runs_needed(1 / 3) == 8
    assert stats.runs_needed(0.0) > 10**6
    for p in [i / 100 for i in range(1, 100)]:
        r = stats.runs_needed(p)
        assert (1 - p) ** r < 0.05 <= (1 - p) ** (r - 1) or r == 1


def test_stats_runs_per_step_and_confidence():
    assert stats.runs_per_step(1.0, base=3, cap=20) == 3
    assert stats.runs_per_step(0.5, base=3, cap=20) == 5
    assert stats.runs_per_step(0.1, base=3, cap=20) == 20
    assert stats.rate(2, 4) == 0.5 and stats.rate(0, 0) == 0.0
    assert stats.confidence(0.5, [5, 5]) == pytest.approx((1 - 1 / 32) ** 2)
    assert stats.confidence(1.0, [1, 1, 1]) == 1.0
    assert stats.steps_left(11) == 4 and stats.steps_left(1) == 1 and stats.steps_left(0) == 0


@pytest.mark.parametrize("k", range(1, N))
def test_finds_the_culprit_in_about_log2_steps(history, k):
    fake = Fake(history[1], bug_from(k))
    result = bisect(history, fake)
    assert result.culprit.commit == history[1][k]
    assert result.culprit.subject == f"c{k}: edit"
    # 12 suspects (c1..c12): git's midpoints need ceil(log2(12)) = 4 steps at most.
    assert 3 <= result.bisect_steps <= math.ceil(math.log2(N - 1))
    assert fake.calls[:2] == [N - 1, 0]  # BAD first (the target and the rate), then GOOD
    assert len(fake.calls) == len(set(fake.calls)) == 2 + result.bisect_steps
    assert result.target == Target(TITLE, TARGET)
    assert result.rate == 1.0 and result.runs_per_step == 1 and result.confidence == 1.0


def test_stops_at_the_first_reproduction_but_runs_good_commits_in_full(history):
    fake = Fake(history[1], bug_from(7), repro=lambda i, run: run >= 1)  # every run but the first
    result = bisect(history, fake, runs=3)
    bad_ep, good_ep = result.steps[0], result.steps[1]
    assert len(bad_ep.runs) == 3 and result.reproduced == 2  # BAD runs in full: the rate needs them
    assert len(good_ep.runs) == good_ep.planned_runs == result.runs_per_step
    for s in result.steps[2:]:
        if s.verdict == BAD:
            assert len(s.runs) == 2 and s.reason == "run 2 reproduced it"
        else:
            assert len(s.runs) == result.runs_per_step


def test_build_and_boot_failures_are_skipped(history):
    commits = history[1]
    # c6 is the first midpoint of c1..c12: it cannot be built; c5 (tried next) cannot boot.
    fake = Fake(commits, bug_from(9, {6: {"broken"}, 5: {"noboot"}}))
    result = bisect(history, fake)
    assert result.culprit.commit == commits[9]
    by = {s.commit: s for s in result.steps}
    assert by[commits[6]].verdict == SKIP and by[commits[6]].error_kind == "build"
    assert "kernel build failed" in by[commits[6]].reason
    assert by[commits[5]].verdict == SKIP and by[commits[5]].error_kind == "boot"
    assert len(by[commits[5]].runs) == 1  # the first boot error settles it
    assert result.confidence == 1.0


def test_skips_next_to_the_culprit_leave_candidates_not_a_guess(history):
    commits = history[1]
    fake = Fake(commits, bug_from(9, {8: {"broken"}}))
    result = bisect(history, fake)
    assert result.culprit is None
    assert {c.commit for c in result.candidates} == {commits[8], commits[9]}
    assert "no single culprit" in report.text(result, {})


def test_flaky_bug_raises_runs_per_step_and_lowers_confidence(history):
    commits = history[1]
    # Reproduces in every other run: BAD shows 2 of 4, p = 0.5, so 5 runs per step (0.5^5 < 5%).
    fake = Fake(commits, bug_from(7), repro=lambda i, run: run % 2 == 1)
    result = bisect(history, fake, runs=4)
    assert result.rate == 0.5 and result.reproduced == 2 and result.endpoint_runs == 4
    assert result.runs_per_step == 5
    assert result.culprit.commit == commits[7]
    goods = [s for s in result.steps if s.verdict == GOOD]
    assert goods and all(len(s.runs) == 5 for s in goods)
    assert result.confidence == pytest.approx((1 - 0.5**5) ** len(goods))
    assert 0.8 < result.confidence < 0.97


def test_random_flakiness_follows_the_estimated_rate(history):
    commits = history[1]
    rng = random.Random(7)
    coin = {}

    def repro(i, run):  # the same (commit, run) always answers the same
        return coin.setdefault((i, run), rng.random() < 0.5)

    fake = Fake(commits, bug_from(4), repro=repro)
    result = bisect(history, fake, runs=6, max_runs=12)
    p = result.reproduced / 6
    assert result.rate == pytest.approx(p) and 0 < p < 1
    assert result.runs_per_step == stats.runs_per_step(p, 6, 12)
    assert all(len(s.runs) == result.runs_per_step for s in result.steps if s.verdict == GOOD)
    assert result.confidence == pytest.approx(
        stats.confidence(p, [result.runs_per_step] * sum(s.verdict == GOOD for s in result.steps)))


def test_unrelated_crash_in_the_good_range_does_not_derail(history):
    commits = history[1]
    # c5..c7 fail at every boot with another title; c6 is the first midpoint.
    fake = Fake(commits, bug_from(10, {i: {"decoy"} for i in (5, 6, 7)}))
    result = bisect(history, fake, runs=2)
    assert result.culprit.commit == commits[10]
    decoyed = [s for s in result.steps if DECOY in s.titles]
    assert decoyed and all(s.verdict == GOOD for s in decoyed)
    assert all(len(s.runs) == 2 for s in decoyed)  # failures with another title are no reason to stop
    assert "not the target" in decoyed[0].reason
    assert result.target.text == TARGET


def test_signature_picks_the_target_when_bad_shows_another_report_first(history):
    commits = history[1]
    # A decoy from c3 to the end: BAD's first title is the decoy's.
    fake = Fake(commits, bug_from(8, {i: {"decoy"} for i in range(3, N)}))
    assert bisect(history, fake).culprit.commit == commits[3]  # the decoy is what BAD shows first
    fake = Fake(commits, bug_from(8, {i: {"decoy"} for i in range(3, N)}))
    result = bisect(history, fake, signature=TARGET)
    assert result.culprit.commit == commits[8]
    assert all(s.verdict == BAD for s in result.steps if TARGET in s.titles)


def test_oracle_targets_match_by_oracle_name_whatever_the_details(history):
    commits = history[1]
    # From c6 the oracle breaks (details differ in every run); c3..c4 break another oracle.
    fake = Fake(commits, lambda i: ({"bug", "oracle"} if i >= 6 else set()) | ({"stuck"} if i in (3, 4) else set()))
    result = bisect(history, fake, runs=2)
    assert result.target == Target(ORACLE, "spurious-ENOENT") and str(result.target) == "oracle: spurious-ENOENT"
    assert result.culprit.commit == commits[6] and result.rate == 1.0


def test_oracle_key_and_signature_parsing():
    assert oracle_key("ghost-file: kprobe p3: stat events/kprobes/p3 succeeds after removal") == "ghost-file"
    # Texts without an oracle name (the runner's own) compare with numbers masked.
    assert oracle_key("3 threads stuck in the kernel after the deadline") == oracle_key(
        "5 threads stuck in the kernel after the deadline")
    teardown = RunRecord(0, Verdict.FAIL, oracle_failures=["teardown failed: umount /mnt/scratch: busy"])
    assert not Target.parse("oracle").matches(teardown)
    assert Target.parse("oracle") == Target(ORACLE, ANY_ORACLE)
    assert Target.parse("oracle: nr_negative-drift") == Target(ORACLE, "nr_negative-drift")
    assert Target.parse("oracle: nr_negative-drift: dentry-state after drop_caches: 12") == Target(ORACLE, "nr_negative-drift")
    assert Target.parse(TARGET) == Target(TITLE, TARGET)
    run = RunRecord(0, Verdict.FAIL, titles=[DECOY], oracle_failures=["umount-busy: umount /mnt/x gave EBUSY"])
    assert Target.parse("oracle").matches(run) and Target.parse("oracle: umount-busy").matches(run)
    assert not Target.parse("oracle: ghost-file").matches(run) and not Target.parse(TARGET).matches(run)


def test_bad_endpoint_that_does_not_reproduce_is_a_user_error(history):
    fake = Fake(history[1], lambda i: set())
    with pytest.raises(UserError, match=r"BAD [0-9a-f]{12} does not reproduce: 3 runs .*passed"):
        bisect(history, fake, runs=3)
    assert fake.calls == [N - 1]


def test_good_endpoint_that_reproduces_is_a_user_error(history):
    fake = Fake(history[1], lambda i: {"bug"})
    with pytest.raises(UserError, match=r"GOOD [0-9a-f]{12} reproduces the failure too \(KASAN.*not a good endpoint"):
        bisect(history, fake)


def test_signature_that_bad_does_not_show_is_a_user_error(history):
    fake = Fake(history[1], bug_from(5))
    with pytest.raises(UserError, match="does not show BUG: other in 2 runs \\(it showed: KASAN"):
        bisect(history, fake, runs=2, signature="BUG: other")


def test_endpoints_that_cannot_be_built_or_booted_say_so(history):
    fake = Fake(history[1], bug_from(5, {N - 1: {"broken"}}))
    with pytest.raises(BuildError, match="BAD .* cannot be tested: .*build failed.*choose another BAD"):
        bisect(history, fake)
    fake = Fake(history[1], bug_from(5, {0: {"noboot"}}))
    with pytest.raises(BootError, match="GOOD .* cannot be tested: boot error"):
        bisect(history, fake)


def test_resume_after_an_interruption_tests_nothing_twice(history, tmp_path):
    repo, commits = history
    settings = Settings(commits[0], commits[N - 1], runs=2)
    flags = bug_from(9, {6: {"broken"}})
    full = Bisector(GitHistory(repo), Fake(commits, flags), settings).run()

    state_file = StateFile(tmp_path / "state.json")
    first = Fake(commits, flags, interrupt_at=4)  # Ctrl-C while testing the 4th commit
    with pytest.raises(KeyboardInterrupt):
        Bisector(GitHistory(repo), first, settings, state=state_file.load(settings.to_dict()), save=state_file.save).run()
    recorded = json.loads(state_file.path.read_text())["steps"]
    assert [s["commit"] for s in recorded] == [commits[i] for i in first.calls[:3]]

    second = Fake(commits, flags)
    resumed = Bisector(
        GitHistory(repo), second, settings, state=state_file.load(settings.to_dict()), save=state_file.save
    ).run()
    assert second.calls[0] == first.calls[3]  # the interrupted commit is tested afresh ...
    assert not set(second.calls) & set(first.calls[:3])  # ... and no finished one again
    assert resumed.culprit == full.culprit
    assert [(s.commit, s.verdict, len(s.runs)) for s in resumed.steps] == [
        (s.commit, s.verdict, len(s.runs)) for s in full.steps
    ]
    # A finished bisect run again is answered from the state file alone.
    third = Fake(commits, flags)
    again = Bisector(GitHistory(repo), third, settings, state=state_file.load(settings.to_dict())).run()
    assert third.calls == [] and again.culprit == full.culprit


def test_state_recorded_with_other_settings_is_refused(history, tmp_path):
    commits = history[1]
    sf = StateFile(tmp_path / "state.json")
    state = sf.load(Settings(commits[0], commits[5], runs=2).to_dict())
    sf.save(state)
    with pytest.raises(UserError, match=r"other settings \(runs\).*--restart"):
        sf.load(Settings(commits[0], commits[5], runs=3).to_dict())
    sf.path.write_text("{not json")
    with pytest.raises(UserError, match="unreadable"):
        sf.load({})


def test_merges_are_bisected_through_the_side_branch(tmp_path):
    repo = tmp_path / "merge"
    init(repo)
    from harness.bisect.synthetic import _git

    base = commit_series(repo, [Change(f"m{i}", files={f"m{i}": "x"}) for i in range(3)])
    _git(repo, "checkout", "--quiet", "-b", "side", base[1])
    side = commit_series(repo, [Change(f"s{i}", files={f"s{i}": "x"}) for i in range(4)], start=10)
    _git(repo, "checkout", "--quiet", "main")
    _git(repo, "merge", "--quiet", "--no-ff", "-m", "merge side", "side", n=20)
    merge = _git(repo, "rev-parse", "HEAD").stdout.strip()
    tip = commit_series(repo, [Change("after", files={"after": "x"})], start=30)[0]
    commits = [*base, *side, merge, tip]
    culprit = side[2]
    buggy = {side[2], side[3], merge, tip}
    fake = Fake(commits, lambda i: {"bug"} if commits[i] in buggy else set())
    result = Bisector(GitHistory(repo), fake, Settings(base[0], tip)).run()
    assert result.culprit.commit == culprit and result.culprit.subject == "s2"


def test_renderings_text_json_junit(history):
    commits = history[1]
    fake = Fake(commits, bug_from(9, {6: {"broken"}}))
    result = bisect(history, fake, runs=2)
    meta = {"id": "abc", "scenario": "kprobe-churn", "duration": 60, "results": "/r/bisect-abc"}
    txt = report.text(result, meta)
    assert txt.splitlines()[0] == f"culprit: {commits[9]} c9: edit"
    assert "confidence: 1.000" in txt and "reproduction rate: 1.00 (2/2 runs at BAD)" in txt
    assert "  BAD " in txt and "  GOOD " in txt and "skip" in txt and "logs: /r/bisect-abc" in txt
    doc = json.loads(json.dumps(report.document(result, meta)))
    assert doc["culprit"] == {"commit": commits[9], "subject": "c9: edit"}
    assert doc["confidence"] == 1.0 and doc["bisect_steps"] == result.bisect_steps
    assert doc["target"] == {"kind": "title", "text": TARGET}
    step = doc["steps"][0]
    assert {"commit", "subject", "role", "verdict", "runs", "titles", "seconds", "log_dir"} <= set(step)
    root = ET.fromstring(report.junit(result, meta))
    cases = root.findall(".//testcase")
    assert len(cases) == len(result.steps) + 1
    assert len(root.findall(".//failure")) == sum(s.verdict == BAD for s in result.steps)
    assert len(root.findall(".//skipped")) == sum(s.verdict == SKIP for s in result.steps) == 1
    assert cases[-1].get("name") == "culprit" and cases[-1].find("error") is None
    assert all(s.role == STEP for s in result.steps[2:])

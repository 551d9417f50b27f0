"""verify's verdict logic on synthetic run results: regression, fixes, no-change, error (which side)."""

import pytest

from harness.analysis.guest import LOST_CONNECTION
from harness.verdict import ERROR, FAIL, PASS, SKIP, RunResult
from harness.verify.budget import choose, estimate, workers_for
from harness.verify.compare import (
    FIXES,
    NO_CHANGE,
    REGRESSION,
    ANY_FAILURE,
    VERDICT_ERROR,
    compare,
    normalize,
)

KASAN = "KASAN: slab-use-after-free Read in eventfs_root_lookup"


def runs(scenario, n, fails=0, titles=(KASAN,), oracle=(), start=0):
    """n completed runs of a scenario, the first ``fails`` of them failing with titles/oracle failures."""
    out = []
    for i in range(n):
        if i < fails:
            out.append(RunResult(scenario, start + i, FAIL, titles=list(titles), oracle_failures=list(oracle)))
        else:
            out.append(RunResult(scenario, start + i, PASS, message="ok"))
    return out


def boot_errors(scenario, n, start=0):
    return [RunResult(scenario, start + i, ERROR, error_kind="boot", message="Kernel panic - not syncing: VFS")
            for i in range(n)]


def test_new_kernel_report_on_patched_is_a_regression_even_once():
    c = compare(runs("eventfs", 2), runs("eventfs", 2, fails=1))
    assert c.verdict == REGRESSION
    (row,) = c.introduced
    assert (row.scenario, row.signature, row.baseline, row.patched, row.new) == ("eventfs", KASAN, 0, 1, True)
    assert row.p == 1.0  # not significant, but new: a KASAN report does not happen on a healthy kernel


def test_significantly_more_frequent_on_patched_is_a_regression():
    c = compare(runs("eventfs", 10, fails=1), runs("eventfs", 10, fails=9))
    assert c.verdict == REGRESSION
    assert c.introduced[0].p < 0.05 and not c.introduced[0].new


def test_slightly_more_frequent_is_no_change():
    c = compare(runs("eventfs", 5, fails=2), runs("eventfs", 5, fails=3))
    assert c.verdict == NO_CHANGE and not c.introduced and not c.fixed
    assert len(c.rows) == 1 and c.rows[0].change == ""


def test_significantly_less_frequent_is_fixes():
    c = compare(runs("eventfs", 5, fails=5), runs("eventfs", 5))
    assert c.verdict == FIXES
    (row,) = c.fixed
    assert (row.baseline, row.patched) == (5, 0) and row.p == pytest.approx(0.0079365, rel=1e-4)


def test_fixed_but_something_new_is_a_regression():
    other = "WARNING in d_invalidate"
    c = compare(runs("eventfs", 5, fails=5), runs("eventfs", 5, fails=1, titles=(other,)))
    assert c.verdict == REGRESSION
    assert [r.signature for r in c.introduced] == [other]
    assert [r.signature for r in c.fixed] == [KASAN, ANY_FAILURE]  # 5:5 -> 1:5 runs failing at all


def test_too_few_runs_to_call_a_fix_says_so():
    c = compare(runs("eventfs", 2, fails=2), runs("eventfs", 2))
    assert c.verdict == NO_CHANGE
    assert any("too few completed runs" in n and "eventfs (2 vs 2)" in n and "at least 4 runs" in n for n in c.notes)


def test_docs_only_patch_is_no_change_with_no_false_signature():
    # Identical behaviour on both sides, one pre-existing flaky failure on each.
    base = runs("eventfs", 3, fails=1) + runs("umount", 3)
    patched = runs("eventfs", 3, fails=1) + runs("umount", 3)
    c = compare(base, patched)
    assert c.verdict == NO_CHANGE
    assert c.introduced == [] and c.fixed == []
    assert [(r.signature, r.baseline, r.patched, r.change) for r in c.rows] == [(KASAN, 1, 1, "")]


def test_signatures_are_per_scenario_and_counted_once_per_run():
    base = runs("a", 4, fails=4) + runs("b", 4)
    patched = runs("a", 4, fails=4) + runs("b", 4, fails=4, titles=(KASAN, KASAN))
    c = compare(base, patched)
    by = {(r.scenario, r.signature): r for r in c.rows}
    assert by[("a", KASAN)].change == "" and by[("b", KASAN)].change == "introduced"
    assert by[("b", KASAN)].patched == 4 and by[("b", KASAN)].patched_runs == 4


def test_one_bug_under_two_titles_is_fixed_through_the_any_failure_row():
    # Bug 03's use-after-free shows as a read in f_start in some runs and in
    # tracing_open_file_tr in others: 3:5 and 2:5, neither significant alone.
    a, b = "KASAN: slab-use-after-free Read in f_start", "KASAN: slab-use-after-free Read in tracing_open_file_tr"
    bugged = runs("kprobe", 3, fails=3, titles=(a,)) + runs("kprobe", 2, fails=2, titles=(b,), start=3)
    c = compare(bugged, runs("kprobe", 5))
    by = {r.signature: r for r in c.rows}
    assert by[a].change == "" and by[b].change == ""
    assert (by[ANY_FAILURE].baseline, by[ANY_FAILURE].patched, by[ANY_FAILURE].change) == (5, 0, "fixed")
    assert c.verdict == FIXES
    # The other way round it is a regression (new titles), with the aggregate row introduced too.
    c = compare(runs("kprobe", 5), bugged)
    assert c.verdict == REGRESSION and {r.signature for r in c.introduced} == {a, b, ANY_FAILURE}


def test_no_any_failure_row_when_it_would_repeat_the_only_signature():
    c = compare(runs("eventfs", 5, fails=5), runs("eventfs", 5))
    assert [r.signature for r in c.rows] == [KASAN]


def test_any_failure_row_does_not_turn_noise_into_a_fix():
    a, b = "KASAN: slab-use-after-free Read in f_start", "WARNING in foo"
    base = runs("s", 1, fails=1, titles=(a,)) + runs("s", 1, fails=1, titles=(b,), start=1) + runs("s", 3, start=2)
    c = compare(base, runs("s", 5))
    assert {r.signature: (r.baseline, r.patched) for r in c.rows}[ANY_FAILURE] == (2, 0)
    assert c.verdict == NO_CHANGE and not c.fixed


def test_oracle_failures_compare_by_oracle_name():
    base = runs("eventfs", 3)
    patched = [
        RunResult("eventfs", 0, FAIL, oracle_failures=["spurious-ENOENT: events/kprobes/p3 failed lookup",
                                                       "... and 17 more oracle failures"]),
        RunResult("eventfs", 1, FAIL, oracle_failures=["spurious-ENOENT: events/kprobes/p9 failed lookup"]),
        RunResult("eventfs", 2, PASS),
    ]
    c = compare(base, patched)
    assert c.verdict == REGRESSION
    assert [(r.signature, r.patched) for r in c.rows] == [("oracle: spurious-ENOENT", 2)]


def test_normalize():
    assert normalize(KASAN) == KASAN
    assert normalize("oracle: ghost-file: events/kprobes/p1/enable still opens") == "oracle: ghost-file"
    assert normalize("oracle: ... and 3 more oracle failures") == ""
    assert normalize("oracle: 4 threads stuck in the kernel after the deadline") == \
        "oracle: N threads stuck in the kernel after the deadline"


def test_harness_titles_need_two_runs_to_count_as_new():
    once = compare(runs("a", 3), runs("a", 3, fails=1, titles=(LOST_CONNECTION,)))
    assert once.verdict == NO_CHANGE and once.rows[0].new
    twice = compare(runs("a", 3), runs("a", 3, fails=2, titles=(LOST_CONNECTION,)))
    assert twice.verdict == REGRESSION


def test_build_failure_names_the_side():
    c = compare([], [], build_errors={"patched": "kernel build failed (/cache/verify/linux-1234)"})
    assert (c.verdict, c.error_side) == (VERDICT_ERROR, "patched")
    assert c.error.startswith("patched kernel failed to build: kernel build failed")
    c = compare([], [], build_errors={"baseline": "kernel build failed"})
    assert c.error_side == "baseline"


def test_patched_side_that_never_boots_is_an_error_on_that_side():
    c = compare(runs("a", 2), boot_errors("a", 2))
    assert (c.verdict, c.error_side) == (VERDICT_ERROR, "patched")
    assert "no completed run of a" in c.error and "boot error: Kernel panic" in c.error
    both = compare(boot_errors("a", 2), boot_errors("a", 2))
    assert both.error_side == "both"
    assert c.sides["patched"].boot_failures == 2 and c.sides["baseline"].boot_successes == 2


def test_patched_side_booting_significantly_less_often_is_an_error():
    c = compare(runs("a", 10), runs("a", 3) + boot_errors("a", 7, start=3))
    assert (c.verdict, c.error_side) == (VERDICT_ERROR, "patched")
    assert "failed to boot in 7 of 10 runs" in c.error


def test_one_flaky_boot_is_not_an_error():
    c = compare(runs("a", 5), runs("a", 4) + boot_errors("a", 1, start=4))
    assert c.verdict == NO_CHANGE
    assert (c.sides["patched"].boot_failures, c.sides["patched"].completed) == (1, 4)


def test_scenario_neither_side_can_run_is_noted_not_an_error():
    infra = [RunResult("b", i, ERROR, error_kind="infrastructure", message="scenario did too little") for i in range(2)]
    c = compare(runs("a", 2) + infra, runs("a", 2, fails=2) + infra)
    assert c.verdict == REGRESSION
    assert any(n.startswith("b: no completed run on either side") for n in c.notes)
    # Only the patched side failing to complete it is the patch's doing.
    c = compare(runs("a", 2) + runs("b", 2), runs("a", 2) + infra)
    assert (c.verdict, c.error_side) == (VERDICT_ERROR, "patched")
    assert "no completed run of b (infrastructure error: scenario did too little)" in c.error


def test_skipped_scenarios_are_not_compared_or_errors():
    skip = [RunResult("b", 0, SKIP, message="needs CONFIG_XFS_FS")]
    c = compare(runs("a", 2) + skip, runs("a", 2) + skip)
    assert c.verdict == NO_CHANGE and c.sides["patched"].skipped == 1


# --- default sizing ------------------------------------------------------------------------------


class Sc:
    def __init__(self, name, duration, shortest=0):
        self.name, self.duration, self.shortest = name, duration, shortest


def test_default_sizing_fits_the_30_minute_budget_on_two_cores():
    six = [Sc(f"s{i}", 120) for i in range(6)]
    s = choose(six, cores=2, workers=2)
    assert s.runs >= 1 and s.estimate_seconds <= 30 * 60
    # Six 120 s scenarios do not fit at full length: cut to the floor, not below.
    assert set(s.durations.values()) == {30}
    one = choose(six[:1], cores=2, workers=2)
    assert one.runs > s.runs and one.estimate_seconds <= 30 * 60
    assert one.runs >= 5  # enough for a fix to be significant when focused on one scenario
    # One scenario has the budget for its own duration: a slow-to-show bug is not cut short.
    assert one.durations == {"s0": 120}
    # Mixed lengths: only the long ones are cut, and only as far as the budget needs.
    mixed = choose([Sc("short", 20), Sc("long", 120), Sc("mid", 60)], cores=2, workers=2)
    assert mixed.durations["short"] == 20
    assert 30 <= mixed.durations["mid"] <= 60 and mixed.durations["mid"] <= mixed.durations["long"] < 120
    assert mixed.runs >= 5 and mixed.estimate_seconds <= 30 * 60 * 0.9
    # A scenario whose coverage needs 60 s (umount-check's three filesystems) keeps them.
    slow = Sc("umount", 90, shortest=60)
    cut = choose([Sc(f"s{i}", 90) for i in range(5)] + [slow], cores=2, workers=2)
    assert cut.durations["umount"] == 60 and cut.durations["s0"] == 30
    # --runs given: durations still fit the budget for that many runs.
    many = choose(six[:1], runs=10, cores=2, workers=2)
    assert many.runs == 10 and many.durations["s0"] < 120
    forced = choose(six, runs=5, duration=60, cores=2, workers=2)
    assert forced.runs == 5 and set(forced.durations.values()) == {60}
    assert forced.estimate_seconds > 30 * 60
    assert "about" in forced.describe() and "budget 30 min" in forced.describe()


def test_workers_and_estimate():
    assert workers_for(cores=2, vm_cpus=2, vm_memory_mb=2048, available_mb=20000) == 2
    assert workers_for(cores=16, vm_cpus=2, vm_memory_mb=2048, available_mb=20000) == 7
    assert workers_for(cores=16, vm_cpus=2, vm_memory_mb=2048, available_mb=1000) == 1
    # Two VMs halve the wall time of the same runs when cores allow.
    one = estimate({"a": 30}, 4, workers=1, cores=4, build_seconds=0)
    two = estimate({"a": 30}, 4, workers=2, cores=4, build_seconds=0)
    assert two == pytest.approx(one / 2)

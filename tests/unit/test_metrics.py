"""Metric regressions: the rank test, the minimum effect, and the rows verify and compare show."""

import math

import pytest

from harness.metrics import (
    BETTER,
    HIGHER,
    LOWER,
    WORSE,
    Metric,
    compare_runs,
    mann_whitney,
    smallest_p,
    value,
)
from harness.verdict import ERROR, FAIL, PASS, RunResult

SC = "negdentry-inotify"
ADD = Metric("add_watch_latency.p50_us")
OPS = Metric("ops_per_s", LOWER)
DECLARED = {SC: (ADD, OPS)}


def runs(adds, ops=None, verdict=PASS, scenario=SC):
    ops = ops or [1000.0] * len(adds)
    return [RunResult(scenario, i, verdict, counters={"add_watch_latency": {"n": 40, "p50_us": a}, "ops_per_s": o})
            for i, (a, o) in enumerate(zip(adds, ops))]


# ---------------------------------------------------------------- the test


def test_exact_p_of_full_separation():
    assert mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert mann_whitney([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert mann_whitney([6, 7, 8], [1, 2, 3]) == pytest.approx(0.1)


def test_exact_p_of_interleaved_samples_is_large():
    assert mann_whitney([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]) > 0.5
    assert mann_whitney([], [1, 2]) == 1.0


def test_ties_use_the_normal_approximation_with_tie_correction():
    # Reference: scipy.stats.mannwhitneyu(x, y, method="asymptotic").pvalue = 0.0073653 (scipy 1.17).
    x, y = [1, 1, 2, 2, 3, 3], [3, 4, 4, 5, 5, 6]
    assert mann_whitney(x, y) == pytest.approx(0.0073653, abs=1e-6)
    assert mann_whitney([2, 2, 2], [2, 2, 2]) == 1.0


def test_smallest_p_says_3_runs_a_side_cannot_reach_005():
    assert smallest_p(3, 3) == pytest.approx(0.1)
    assert smallest_p(4, 4) < 0.05 and smallest_p(5, 5) == pytest.approx(2 / 252)
    assert smallest_p(0, 5) == 1.0


# ------------------------------------------------------------ the values


def test_value_reads_dotted_keys_and_skips_unmeasured_latencies():
    c = {"a": {"n": 3, "p50_us": 12.5}, "b": {"n": 0, "p50_us": 0.0}, "ops_per_s": 5, "flag": True}
    assert value(c, "a.p50_us") == 12.5 and value(c, "ops_per_s") == 5.0
    assert value(c, "b.p50_us") is None  # no samples: not "instant"
    assert value(c, "flag") is None and value(c, "missing.key") is None and value(None, "a") is None


def test_metric_direction_is_checked():
    with pytest.raises(ValueError, match="worse must be"):
        Metric("x", worse="up")


# ---------------------------------------------------------- the comparison


def test_issue_example_is_a_worse_metric_with_its_signature():
    rows = compare_runs(runs([250, 240, 260, 255, 245]), runs([42000, 41000, 43000, 40000, 42500]), declared=DECLARED)
    add = next(r for r in rows if r.key == ADD.key)
    assert add.change == WORSE and add.p == pytest.approx(2 / 252)
    assert add.signature == "metric: negdentry-inotify add_watch_latency.p50_us 250 -> 42000 (x168), p 0.008"
    ops = next(r for r in rows if r.key == OPS.key)
    assert ops.change == "" and ops.p == 1.0
    assert rows[0] is add  # changed rows first


def test_separated_but_within_the_minimum_effect_is_no_change():
    # x1.5, fully separated: TCG noise between two hosts' loads can do that.
    rows = compare_runs(runs([100, 101, 102, 103, 104]), runs([150, 151, 152, 153, 154]), declared=DECLARED)
    assert rows[0].p < 0.01 and rows[0].change == ""
    rows = compare_runs(runs([100, 101, 102, 103, 104]), runs([150, 151, 152, 153, 154]), declared=DECLARED,
                        min_effect=1.4)
    assert rows[0].change == WORSE


def test_a_big_effect_from_one_outlier_run_is_not_significant():
    rows = compare_runs(runs([100, 110, 120, 130, 140]), runs([105, 115, 125, 135, 90000]), declared=DECLARED)
    assert all(r.change == "" for r in rows)


def test_direction_decides_worse_or_better():
    lower_ops = compare_runs(runs([1] * 5, [1000, 1010, 1020, 990, 980]), runs([1] * 5, [300, 310, 320, 290, 280]),
                             declared=DECLARED)
    assert next(r for r in lower_ops if r.key == "ops_per_s").change == WORSE
    faster = compare_runs(runs([42000, 41000, 43000, 40000, 42500]), runs([250, 240, 260, 255, 245]),
                          declared=DECLARED)
    row = next(r for r in faster if r.key == ADD.key)
    assert row.change == BETTER and row.signature.endswith("(x168 lower), p 0.008")


def test_per_metric_min_effect_overrides_the_default():
    declared = {SC: (Metric(ADD.key, HIGHER, min_effect=10.0),)}
    (row,) = compare_runs(runs([100] * 4 + [101]), runs([500, 501, 502, 503, 504]), declared=declared)
    assert row.change == "" and row.min_effect == 10.0


def test_the_command_lines_effect_is_a_floor_under_each_metrics_own():
    declared = {SC: (Metric(ADD.key, HIGHER, min_effect=10.0), OPS)}
    old, new = runs([100] * 4 + [101], [1000] * 5), runs([2000, 2001, 2002, 2003, 2004], [300] * 5)
    rows = {r.key: r for r in compare_runs(old, new, declared=declared, min_effect=1.5)}
    assert (rows[ADD.key].min_effect, rows[ADD.key].change) == (10.0, WORSE)  # x20 > its own x10
    assert (rows[OPS.key].min_effect, rows[OPS.key].change) == (1.5, WORSE)
    rows = {r.key: r for r in compare_runs(old, new, declared=declared, min_effect=25.0)}
    assert rows[ADD.key].min_effect == rows[OPS.key].min_effect == 25.0
    assert not any(r.change for r in rows.values())


def test_errored_runs_and_undeclared_scenarios_are_left_out():
    old = runs([250] * 5) + runs([99999], verdict=ERROR)
    new = runs([251] * 5) + runs([1, 2], scenario="other")
    rows = compare_runs(old, new, declared=DECLARED)
    assert {r.scenario for r in rows} == {SC}
    assert len(next(r for r in rows if r.key == ADD.key).old) == 5


def test_accepts_result_dicts_as_results_json_holds_them():
    old = [r.to_dict() for r in runs([250, 240, 260, 255, 245])]
    new = [r.to_dict() for r in runs([42000, 41000, 43000, 40000, 42500], verdict=FAIL)]
    rows = compare_runs(old, new, declared=DECLARED)
    assert rows[0].change == WORSE
    j = rows[0].to_json()
    assert j["metric"] == ADD.key and j["old_median"] == 250 and j["signature"].startswith("metric: ")


def test_zero_baseline_gives_an_infinite_ratio_not_a_crash():
    (row, _) = compare_runs(runs([0, 0, 0, 0, 0]), runs([5, 6, 7, 8, 9]), declared=DECLARED)
    assert math.isinf(row.ratio) and row.change == WORSE and "xinf" in row.signature
    assert row.to_json()["ratio"] is None


def test_declared_metrics_default_to_the_scenarios_own():
    rows = compare_runs(runs([250] * 5), runs([250] * 5))
    assert {r.key for r in rows} >= {"add_watch_latency.p50_us", "ops_per_s"} - {"ops_per_s"}
    with pytest.raises(ValueError):
        compare_runs([], [], min_effect=0.5)


def test_results_json_and_junit_carry_each_runs_declared_metrics(tmp_path):
    import json
    import xml.etree.ElementTree as ET

    from harness.results import RunMeta, write_all

    rs = runs([250.0, 260.0])
    rs[1].counters["add_watch_latency"]["n"] = 0  # not measured: left out, not shown as 0
    out = write_all(tmp_path / "run1", rs, RunMeta(run_id="run1", kernel_source="src", bzimage="bz"))
    doc = json.loads(out["results"].read_text())
    assert doc["results"][0]["metrics"] == {"add_watch_latency.p50_us": 250.0}
    assert doc["results"][1]["metrics"] == {}
    cases = list(ET.parse(out["junit"]).getroot().iter("testcase"))
    assert cases[0].find("system-out").text == "metric add_watch_latency.p50_us=250"
    assert cases[1].find("system-out") is None


def test_load_results_reads_results_json_run_dirs_and_item_dirs(tmp_path):
    import json

    from harness.errors import UserError
    from harness.metrics import load_results

    run = tmp_path / "run1"
    run.mkdir()
    (run / "results.json").write_text(json.dumps({"results": [r.to_dict() for r in runs([1.0, 2.0])]}))
    items = tmp_path / "items"
    items.mkdir()
    for r in runs([3.0, 4.0, 5.0]):
        (items / f"{r.scenario}-{r.index}.json").write_text(json.dumps(r.to_dict()))
    assert len(load_results(run)) == 2 and len(load_results(run / "results.json")) == 2
    assert len(load_results(items)) == 3
    rows = compare_runs(load_results(run), load_results(items), declared=DECLARED)
    assert rows and rows[0].old == (1.0, 2.0)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UserError, match="bad.json: not a results JSON file"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no results.json"):
        load_results(tmp_path / "empty")


def test_every_declared_metric_is_a_number_its_program_prints():
    import re

    from harness.paths import GUEST
    from harness.scenarios import all_scenarios

    sources = {p.name: p.read_text() for p in GUEST.glob("*.c")}
    common = sources["report.c"]
    for sc in all_scenarios():
        src = sources[sc.program.replace("-", "_") + ".c"]
        # The modules it includes print part of its JSON (eventfs_scaling.c: eventfs-lookup-race's probe).
        src += "".join(sources.get(f"{h}.c", "") for h in re.findall(r'#include "(\w+)\.h"', src))
        for m in sc.metrics:
            if m.key.startswith("scaling."):
                op = m.key.split(".")[1]
                assert any(b.op == op for b in sc.scaling), (sc.name, m.key)
                assert f'"{op}"' in src, (sc.name, m.key)
                continue
            head, _, stat = m.key.rpartition(".")
            if head:
                assert stat in ("p50_us", "p99_us", "max_us", "n"), (sc.name, m.key)
                assert re.search(rf'json_lat\(&j, "{re.escape(head)}"', src), (sc.name, m.key)
            else:
                assert f'"{m.key}"' in src or f'"{m.key}"' in common, (sc.name, m.key)

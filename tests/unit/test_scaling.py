"""Scaling oracles: ratios between probe sizes of one run, judged against the scenario's bound."""

import pytest

from harness import scaling
from harness.corpus import bugs
from harness.scaling import Scaling, growth, human, judge, ratio_key
from harness.scenarios import get
from harness.verdict import oracle_key


def lat(p50, n=24):
    return {"n": n, "p50_us": p50, "p99_us": p50 * 2, "max_us": p50 * 3}


def counters(*points, of="negative dentries"):
    """points: (n, {op: p50_us})"""
    return {"ok": True, "scaling": {"of": of, "points": [{"n": n, **{op: lat(v) for op, v in ops.items()}}
                                                          for n, ops in points]}}


FLAT = counters((1000, {"add_watch": 40.0}), (10000, {"add_watch": 55.0}), (412000, {"add_watch": 90.0}))
LINEAR = counters((1000, {"add_watch": 40.0}), (10000, {"add_watch": 300.0}), (412000, {"add_watch": 42000.0}))


def test_flat_cost_holds_and_linear_cost_breaks_the_bound():
    bound = (Scaling("add_watch", 10.0),)
    assert judge(bound, FLAT) == []
    (msg,) = judge(bound, LINEAR)
    assert msg == ("scaling: add_watch p50 x1050 from 1k to 412k negative dentries (40 -> 42000 us; bound x10)")
    assert oracle_key(msg) == "scaling"


def test_ratio_is_between_the_smallest_and_largest_size_whatever_the_order():
    shuffled = counters((412000, {"add_watch": 42000.0}), (1000, {"add_watch": 40.0}))
    g = growth(shuffled, "add_watch")
    assert (g.n_small, g.n_large, g.ratio) == (1000, 412000, 1050.0)


def test_too_small_a_spread_of_sizes_is_not_judged():
    # 5k to 20k dentries: a x4 growth of n cannot show a x10 growth of an O(n) cost.
    c = counters((5000, {"add_watch": 40.0}), (20000, {"add_watch": 4000.0}))
    assert growth(c, "add_watch") is None and judge((Scaling("add_watch", 10.0),), c) == []


def test_sizes_where_the_op_was_not_timed_are_skipped():
    c = counters((1000, {"add_watch": 40.0}), (10000, {"add_watch": 50.0}), (400000, {}))
    c["scaling"]["points"][2]["add_watch"] = {"n": 0, "p50_us": 0.0}
    g = growth(c, "add_watch")
    assert (g.n_small, g.n_large) == (1000, 10000)
    assert growth({"ok": True}, "add_watch") is None and growth(None, "add_watch") is None


def test_costs_below_the_timer_floor_do_not_make_ratios():
    c = counters((1000, {"rm_watch": 0.4}), (400000, {"rm_watch": 4.5}))
    # x11 in raw numbers, but both are under the 5 us floor: no growth to speak of.
    assert growth(c, "rm_watch").ratio == 1.0
    assert judge((Scaling("rm_watch", 2.0),), c) == []
    above = counters((1000, {"rm_watch": 0.4}), (400000, {"rm_watch": 60.0}))
    assert growth(above, "rm_watch").ratio == 12.0


@pytest.mark.parametrize("n, text", [(999, "999"), (1000, "1k"), (1536, "1.5k"), (412345, "412k"), (2_500_000, "2.5M")])
def test_human_sizes(n, text):
    assert human(n) == text


def test_ratio_metric_key_reads_the_growth():
    key = ratio_key("add_watch")
    assert key == "scaling.add_watch.p50_ratio"
    assert scaling.value(LINEAR, key) == 1050.0
    assert scaling.value(LINEAR, "scaling.add_watch") is None
    assert scaling.value({"ok": True}, key) is None


def test_negdentry_inotify_fails_its_scaling_oracle_and_bug_08_expects_it():
    sc = get("negdentry-inotify")
    assert {b.op for b in sc.scaling} >= {"add_watch", "rm_watch", "close_watched_file", "close_unwatched_file"}
    clean = dict(FLAT, oracle_failures=0, failures=[], oracles={}, stuck_threads=0)
    assert sc.oracle(clean) == []
    broken = dict(LINEAR, oracle_failures=0, failures=[], oracles={}, stuck_threads=0)
    failures = sc.oracle(broken)
    assert len(failures) == 1 and failures[0].startswith("scaling: add_watch p50 x1050")
    bug = bugs.get("fsnotify-walk-every-add")
    assert bug.scenario == "negdentry-inotify" and bug.matches("oracle", oracle_key(failures[0]))
    assert bug.delay.startswith("none")


def test_negdentry_inotify_needs_three_probe_sizes_for_coverage():
    sc = get("negdentry-inotify")
    c = {"negative_created": 20000, "watch_cycles": 5, "opens": 500, "scaling_points": 2}
    assert any(g.startswith("scaling_points is 2") for g in sc.coverage(c))
    assert sc.coverage(dict(c, scaling_points=3)) == []


def test_scenarios_listing_shows_metrics_and_bounds():
    import io
    import json
    from types import SimpleNamespace

    from harness.scenarios import cli

    out = io.StringIO()
    assert cli.run(SimpleNamespace(config=None, json=True), out) == 0
    rec = next(json.loads(ln) for ln in out.getvalue().splitlines() if '"negdentry-inotify"' in ln)
    assert {"key": "add_watch_latency.p50_us", "worse": "higher", "min_effect": None} in rec["metrics"]
    assert {"op": "add_watch", "stat": "p50_us", "bound": 5.0, "per": ""} in rec["scaling"]
    out = io.StringIO()
    cli.run(SimpleNamespace(config=None, json=False), out)
    assert "scaling: add_watch p50 <= x5" in out.getvalue() and "ops_per_s (lower is worse)" in out.getvalue()


def eventfs_counters(warm_2k=31.0, cold_2k=140.0, miss_2k=300.0, readdir_2k=5000.0):
    c = counters((10, {"lookup_cold": 100.0, "lookup_warm": 31.0, "lookup_miss": 80.0, "readdir": 250.0}),
                 (100, {"lookup_cold": 80.0, "lookup_warm": 30.0, "lookup_miss": 90.0, "readdir": 350.0}),
                 (2000, {"lookup_cold": cold_2k, "lookup_warm": warm_2k, "lookup_miss": miss_2k,
                         "readdir": readdir_2k}),
                 of="events in events/synthetic")
    return dict(c, oracle_failures=0, failures=[], oracles={}, stuck_threads=0)


def test_eventfs_lookup_race_bounds_its_lookups_against_the_events_in_a_directory():
    sc = get("eventfs-lookup-race")
    assert {b.op for b in sc.scaling} == {"lookup_warm", "lookup_cold", "lookup_miss", "readdir"}
    assert {ratio_key(b.op, b.stat) for b in sc.scaling} <= {m.key for m in sc.metrics}
    assert sc.oracle(eventfs_counters()) == []
    # A warm lookup (a dcache hit) that walks the directory: x10 from 10 to 2000 events.
    (msg,) = sc.oracle(eventfs_counters(warm_2k=310.0))
    assert msg.startswith("scaling: lookup_warm p50 x10 from 10 to 2k events in events/synthetic (31 -> 310 us")
    assert oracle_key(msg) == "scaling"
    # The miss walks all n children on a clean kernel too: linear and cheap passes, x100 does not.
    assert sc.oracle(eventfs_counters(miss_2k=8000.0)) != []
    # readdir is linear by nature: at most as steep as n itself.
    assert sc.oracle(eventfs_counters(readdir_2k=40000.0)) == []
    assert sc.oracle(eventfs_counters(readdir_2k=250.0 * 1000)) != []


def test_eventfs_lookup_race_coverage_does_not_need_the_probe():
    # The probe needs synthetic (or user) events for its sizes; a kernel with
    # kprobe events only still runs the race, so no scaling_points minimum.
    sc = get("eventfs-lookup-race")
    assert sc.coverage({"rounds": 5, "fresh_rounds": 2, "scaling_points": 0}) == []


# umount-check's probe: umount frees every dentry, so its sound cost is O(n) and
# the bound is on the cost per dentry.
PER_DENTRY = (Scaling("umount", 3.0, per="dentry"),)


def umount_counters(*points):
    """points: (n dentries held, umount us)"""
    return counters(*((n, {"umount": us}) for n, us in points), of="dentries")


def test_linear_umount_holds_per_dentry_and_a_fixed_cost_only_lowers_the_ratio():
    linear = umount_counters((1000, 25_000.0), (10_000, 260_000.0), (100_000, 2_700_000.0))
    assert judge(PER_DENTRY, linear) == []
    assert growth(linear, "umount", per=True).ratio == pytest.approx(1.08)
    # 40 ms of fixed cost: 65 us per dentry at 1k, 27.4 at 100k.
    fixed = umount_counters((1000, 65_000.0), (100_000, 2_740_000.0))
    assert growth(fixed, "umount", per=True).ratio < 1
    # The same numbers judged as a raw cost would fail: x108.
    assert judge((Scaling("umount", 3.0),), linear)


def test_quadratic_umount_breaks_the_per_dentry_bound():
    quadratic = umount_counters((1000, 30_000.0), (10_000, 500_000.0), (100_000, 30_000_000.0))
    (msg,) = judge(PER_DENTRY, quadratic)
    assert msg == ("scaling: umount p50 per dentry x10.0 from 1k to 100k dentries "
                   "(30 -> 300 us per dentry; bound x3)")
    assert oracle_key(msg) == "scaling"
    assert PER_DENTRY[0].label == "umount p50 per dentry"


def test_per_dentry_ignores_empty_points_and_small_spreads():
    # A size whose umount freed nothing has no cost per dentry; what is left spans x5 only.
    c = umount_counters((0, 9_000.0), (2000, 50_000.0), (10_000, 900_000.0))
    assert growth(c, "umount", per=True) is None and judge(PER_DENTRY, c) == []
    # One point (a short run): nothing to judge.
    assert judge(PER_DENTRY, umount_counters((1000, 30_000.0))) == []


def test_per_dentry_ratio_metric_key():
    key = ratio_key("umount", per="dentry")
    assert key == "scaling.umount.p50_per_n_ratio"
    quadratic = umount_counters((1000, 30_000.0), (100_000, 30_000_000.0))
    assert scaling.value(quadratic, key) == pytest.approx(10.0)
    # The raw ratio's key still reads the raw growth.
    assert scaling.value(quadratic, ratio_key("umount")) == pytest.approx(1000.0)


def test_umount_check_bounds_umount_per_dentry():
    sc = get("umount-check")
    (b,) = sc.scaling
    assert (b.op, b.per) == ("umount", "dentry")
    assert ratio_key(b.op, b.stat, b.per) in {m.key for m in sc.metrics}
    base = dict(oracle_failures=0, failures=[], oracles={}, stuck_threads=0)
    assert sc.oracle(dict(umount_counters((1000, 25_000.0), (100_000, 2_700_000.0)), **base)) == []
    (msg,) = sc.oracle(dict(umount_counters((1000, 25_000.0), (100_000, 250_000_000.0)), **base))
    assert msg.startswith("scaling: umount p50 per dentry x")
    # A short run's probe may get no point at all: coverage does not ask for one.
    c = {"xfs_cycles": 1, "ext4_cycles": 1, "tmpfs_cycles": 1, "scaling_points": 0}
    assert sc.coverage(c) == []

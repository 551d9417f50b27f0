"""verify's metric rows: a metric worse beyond the effect is a regression, better is fixes,
and the text table, JSON and junit carry them."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.scenarios import get
from harness.verdict import PASS, RunResult
from harness.verify import report
from harness.verify.budget import Sizing
from harness.verify.checkpatch import Checkpatch
from harness.verify.core import Outcome, Request
from harness.verify.compare import FIXES, NO_CHANGE, REGRESSION, compare

SC = "negdentry-inotify"  # the catalog's scenario: its declared metrics are the ones compared


def runs(adds, scenario=SC):
    return [RunResult(scenario, i, PASS, message="ok",
                      counters={"add_watch_latency": {"n": 40, "p50_us": a},
                                "open_latency": {"n": 900, "p50_us": 30.0 + i, "p99_us": 900.0}})
            for i, a in enumerate(adds)]


CLEAN = [250, 240, 260, 255, 245]
SLOW = [42000, 41000, 43000, 40000, 42500]


def outcome(cmp, tmp_path: Path) -> Outcome:
    sizing = Sizing(runs=5, durations={SC: 90}, workers=1, estimate_seconds=900)
    req = Request(kernel="/src/linux", patches=[], scenarios=[get(SC)], sizing=sizing, run_dir=tmp_path / "run")
    return Outcome(request=req, tree=Path("/src/linux"), patches=[], checkpatch=Checkpatch(False, "not run"),
                   comparison=cmp)


def test_worse_metric_alone_is_a_regression_with_its_signature():
    c = compare(runs(CLEAN), runs(SLOW))
    assert c.verdict == REGRESSION and c.rows == []
    (m,) = c.metrics_worse
    assert m.signature == "metric: negdentry-inotify add_watch_latency.p50_us 250 -> 42000 (x168), p 0.008"


def test_a_larger_min_effect_turns_the_same_numbers_into_no_change():
    three_x = [750, 720, 780, 765, 735]
    assert compare(runs(CLEAN), runs(three_x)).verdict == REGRESSION
    c = compare(runs(CLEAN), runs(three_x), min_effect=4.0)
    assert c.verdict == NO_CHANGE and {m.min_effect for m in c.metric_rows} >= {4.0}


def test_better_metric_alone_is_fixes():
    c = compare(runs(SLOW), runs(CLEAN))
    assert c.verdict == FIXES and [m.key for m in c.metrics_better] == ["add_watch_latency.p50_us"]


def test_same_numbers_are_no_change_with_rows_but_no_change_marked():
    c = compare(runs(CLEAN), runs([252, 238, 262, 250, 249]))
    assert c.verdict == NO_CHANGE and c.metric_rows and not any(m.change for m in c.metric_rows)


def test_three_runs_a_side_cannot_call_a_metric_and_the_note_says_so():
    c = compare(runs(CLEAN[:3]), runs(SLOW[:3]))
    assert c.verdict == NO_CHANGE
    assert any("metric's rank test" in n and "negdentry-inotify (3 vs 3)" in n for n in c.notes)


def test_report_text_json_and_junit_carry_metric_rows(tmp_path):
    o = outcome(compare(runs(CLEAN), runs(SLOW)), tmp_path)
    text = report.text(o)
    line = next(ln for ln in text.splitlines() if "add_watch_latency.p50_us (x168, effect x2" in ln)
    assert line.split()[:4] == ["250", "42000", "0.008", "worse"]
    assert "verdict: regression: 1 signature(s) introduced on patched: metric: negdentry-inotify" in text
    doc = report.to_json(o)
    (m,) = [m for m in doc["metrics"] if m["change"] == "worse"]
    assert m["metric"] == "add_watch_latency.p50_us" and m["p"] == pytest.approx(2 / 252)
    json.dumps(doc)
    root = ET.fromstring(report.junit_xml(o).encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["verdict"].find("failure") is not None
    assert cases["metric add_watch_latency.p50_us"].find("failure") is not None
    assert cases["metric open_latency.p50_us"].find("failure") is None

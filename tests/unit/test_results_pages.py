"""The results pages rendered from hand-made results: run, verify, bisect, compare."""

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.results import RunMeta, write_all
from harness.results.bisect_page import render_bisect
from harness.results.compare_page import FIXED, FLAKY, NEW, STILL_FAILING, CompareRow, render_compare
from harness.results.html import seconds
from harness.results.progress import series
from harness.results.run_page import render_run
from harness.results.verify_page import render_verify
from harness.verdict import ERROR, FAIL, PASS, SKIP, RunResult

import pagedom

CONSOLE = Path(__file__).parents[1] / "data" / "consoles" / "eventfs-file-uaf.log"
UAF = "KASAN: slab-use-after-free Read in tracing_open_file_tr"


def prog(name, rows, duration=30):
    """Progress entries as the runner stores them: [seconds, the program's stderr line]."""
    return [[t, f"{name}: [{t:6.1f}/{duration}s] {line}"] for t, line in rows]


# --- progress lines ----------------------------------------------------------------------------


def test_running_totals_become_rates_and_units_stay_samples():
    p = series(prog("negdentry-inotify", [
        (5.0, "negative=400/4000 opens=50 watch_cycles=10 add_p50=1.5ms add_max=9.0ms failures=0"),
        (10.0, "negative=800/4000 opens=150 watch_cycles=20 add_p50=2.5ms add_max=30.0ms failures=0"),
        (15.0, "negative=800/4000 opens=150 watch_cycles=20 add_p50=2.5ms add_max=31.0ms failures=2"),
    ]))
    by = {s.name: s for s in p.series}
    assert by["negative/s"].points == [(5.0, 80.0), (10.0, 80.0), (15.0, 0.0)]  # "/4000" is a limit, not a value
    assert by["opens/s"].points == [(5.0, 10.0), (10.0, 20.0), (15.0, 0.0)]
    assert by["add_p50 (ms)"].points == [(5.0, 1.5), (10.0, 2.5), (15.0, 2.5)] and not by["add_p50 (ms)"].rate
    assert by["failures (total)"].points[-1] == (15.0, 2.0)
    assert p.first_failure_s == 15.0 and p.duration_s == 30 and p.lines == 3


def test_progress_tolerates_absent_field_notes_and_lines_without_times():
    assert series(None).empty and series([]).empty
    p = series([[5.0, "kprobe-churn: note: 3 probes busy"], ["bad"], [None, "kprobe-churn: [  10.0/20s] adds=10"],
                [None, "adds=99"], [2, 7]])
    (s,) = p.series
    assert s.points == [(10.0, 1.0)]  # the line's own clock when the stored time is missing
    assert p.lines == 1


def test_closing_counters_add_the_last_seconds():
    rows = prog("kprobe-churn", [(5.0, "adds=10 instances=2 walks=1 add_p50=3ms"), (10.0, "adds=20 instances=4 walks=2 add_p50=3ms")], 20)
    final = {"adds": 50, "instances": True, "find_walks": 4, "add_p50": 9.0, "elapsed_s": 20.0}
    p = series(rows, final)
    by = {s.key: s for s in p.series}
    assert by["adds"].points == [(5.0, 2.0), (10.0, 2.0), (20.0, 3.0)]
    # A flag, another name, a value with a unit: not the same counter, not extended.
    assert by["instances"].points[-1][0] == 10.0 and by["walks"].points[-1][0] == 10.0
    assert by["add_p50"].points[-1][0] == 10.0
    assert p.lines == 2
    assert series(rows, {"adds": 50, "elapsed_s": 9.0}).series[0].points[-1][0] == 10.0  # not before the last line


def test_total_that_goes_down_is_drawn_as_is():
    p = series(prog("x", [(5.0, "inflight=10"), (10.0, "inflight=4")]))
    assert p.series[0].name == "inflight" and p.series[0].points == [(5.0, 10.0), (10.0, 4.0)]


# --- the run page ------------------------------------------------------------------------------


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "results" / "20261127-120000-1"
    con = d / "vms" / "eventfs-lookup-race-0" / "console.log"
    con.parent.mkdir(parents=True)
    shutil.copy(CONSOLE, con)
    from harness.analysis import analyze_file

    rep = analyze_file(con)[0]
    assert rep.title == UAF
    return d, con, rep


def results(con, rep):
    return [
        RunResult("kprobe-churn", 0, PASS, message="ok", seed=1, duration=70),
        RunResult("eventfs-lookup-race", 0, FAIL, titles=[UAF], message=UAF, report=rep.text, console_log=str(con),
                  seed=1, detection_s=17.5, duration=95, boot_seconds=31),
        RunResult("umount-check", 0, ERROR, error_kind="boot", message="no ready marker within 300s",
                  report="\n".join(f"early line {i}" for i in range(60)) + "\nKernel panic - not syncing: VFS\n"),
        RunResult("negdentry-inotify", 0, SKIP, message="needs CONFIG_INOTIFY_USER"),
    ]


def extra(doc, index, **fields):
    doc["results"][index].update(fields)


def write(run_dir, rs, mutate=None):
    (run_dir / "items").mkdir(parents=True, exist_ok=True)
    for r in rs:  # the item files session.run_item writes before the run ends
        (run_dir / "items" / f"{r.scenario}-{r.index}.json").write_text(json.dumps(r.to_dict()))
    files = write_all(run_dir, rs, RunMeta(run_dir.name, "/usr/src/linux-source-6.12", "/c/bzImage", compiler="gcc 12"))
    doc = json.loads(files["results"].read_text())
    if mutate:
        mutate(doc)
    return files, doc


def test_write_all_writes_the_page_and_it_stands_alone(run_dir):
    d, con, rep = run_dir
    files, _ = write(d, results(con, rep))
    page = files["page"]
    assert page == d / "index.html"
    text = page.read_text()
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in text and "<link" not in text and "<img" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    dom = pagedom.parse(text)
    verdicts = [tr.attrs["data-verdict"] for tr in dom.by_id("summary").find_all("tr") if "data-verdict" in tr.attrs]
    assert verdicts == ["ERROR", "FAIL", "SKIP", "PASS"]  # worst first
    hrefs = [a.attrs["href"] for a in dom.find_all("a") if not a.attrs["href"].startswith("#")]
    assert hrefs and all((run_dir[0] / h).is_file() for h in hrefs)


def test_fail_item_marks_the_guilty_frame_and_links_its_console(run_dir):
    d, con, rep = run_dir
    write(d, results(con, rep))
    dom = pagedom.parse((d / "index.html").read_text())
    item = dom.by_id("item-eventfs-lookup-race-0")
    assert "v-fail" in item.find_all("span", cls="badge")[0].classes
    guilty = [e.text for e in item.find_all("span", cls="guilty")]
    # The reliable frame, not the "? " ones the unwinder found lying on the stack.
    assert len(guilty) == 2  # once in the report, once in the console around it
    assert all(re.sub(r"^\d*(\[[^]]*\])*\s*", "", g).startswith("tracing_open_file_tr+0x") for g in guilty)
    (code,) = item.find_all("code", cls="guilty-frame")
    assert code.text == "tracing_open_file_tr"
    (console,) = item.find_all("a", cls="console-link")
    assert console.attrs["href"] == "vms/eventfs-lookup-race-0/console.log"
    assert (d / console.attrs["href"]).is_file()
    (js,) = item.find_all("a", cls="json-link")
    assert json.loads((d / js.attrs["href"]).read_text())["verdict"] == FAIL
    # The excerpt starts before the report, with the console's own line numbers.
    nos = [int(e.text) for e in item.find_all("span", cls="no")]
    assert nos[0] < rep.start_line <= nos[-1]
    assert "seed" in item.text and "18s" in item.text  # detection_s 17.5
    assert "No progress series stored" in item.text  # an old result without the field still renders
    (row,) = [tr for tr in dom.by_id("summary").find_all("tr") if tr.attrs.get("data-verdict") == "FAIL"]
    assert [td.text.strip() for td in row.find_all("td")][-2:] == ["18s", "95s"]  # detected, run time


def test_error_item_shows_its_kind_and_last_lines(run_dir):
    d, con, rep = run_dir
    write(d, results(con, rep))
    dom = pagedom.parse((d / "index.html").read_text())
    item = dom.by_id("item-umount-check-0")
    assert item.find_all("span", cls="badge")[0].text.strip() == "ERROR (boot)"
    text = item.text
    assert "Kernel panic - not syncing: VFS" in text and "early line 59" in text and "early line 10\n" not in text
    assert not item.find_all("a", cls="console-link")  # no console file: no dead link


def test_known_verdict_shows_the_issue_id_and_link(run_dir):
    d, con, rep = run_dir
    rs = results(con, rep)
    known = {"id": "ext4-fast-symlink-evict", "title": "ext4 clears a fast symlink's body", "comment": "since 2022",
             "report_url": "mid:YeWxHPDbdSfBDtyX@harness.invalid"}

    def mutate(doc):
        extra(doc, 1, verdict="KNOWN", known=[known])

    _, doc = write(d, rs, mutate)
    render_run(d, doc)
    dom = pagedom.parse((d / "index.html").read_text())
    row = [tr for tr in dom.by_id("summary").iter() if tr.attrs.get("data-verdict") == "KNOWN"][0]
    assert row.find_all("span", cls="v-known")
    (a,) = row.find_all("a", cls="known-link")
    assert a.text == "ext4-fast-symlink-evict" and a.attrs["href"] == known["report_url"]


def test_progress_series_is_drawn_with_the_detection_mark(run_dir):
    d, con, rep = run_dir
    rows = [(t, f"rounds={40 * i} lookups={(900 * i if i < 4 else 2700)} failures={0 if i < 4 else 1}")
            for i, t in enumerate((5.0, 10.0, 15.0, 20.0, 25.0), start=1)]

    def mutate(doc):
        extra(doc, 1, progress=prog("eventfs-lookup-race", rows),
              counters={"rounds": 200, "metrics": {"lookups_per_s": 12.5}, "names": ["a"]})

    _, doc = write(d, results(con, rep), mutate)
    render_run(d, doc)
    dom = pagedom.parse((d / "index.html").read_text())
    item = dom.by_id("item-eventfs-lookup-race-0")
    (svg,) = item.find_all("svg", cls="chart")
    labels = " ".join(t.text for t in svg.find_all("text"))
    assert "lookups/s" in labels and "failures (total)" in labels and "detected 18s" in labels
    assert "viewbox" in svg.attrs and "width" not in svg.attrs  # scales with the page
    counters = {tr.find_all("td")[0].text: tr.find_all("td")[1].text for tr in item.find_all("table", cls="counters")[0].find_all("tr")}
    assert counters == {"rounds": "200", "metrics.lookups_per_s": "12.5"}  # a scenario's metrics, one level down


def test_run_page_renders_again_from_results_json(run_dir):
    d, con, rep = run_dir
    write(d, results(con, rep))
    (d / "index.html").unlink()
    assert render_run(d).is_file()


def test_seconds_filter():
    assert [seconds(x) for x in (None, 0, 3.24, 62.4, 3725)] == ["-", "-", "3.2s", "62s", "1h02m"]


# --- verify, bisect, compare ---------------------------------------------------------------------


VERIFY_DOC = {
    "verdict": "regression", "error_side": "", "error": "", "alpha": 0.05, "notes": ["a note"],
    "introduced": [], "fixed": [],
    "rows": [
        {"scenario": "umount-check", "signature": "BUG: Dentry still in use in umount_check", "baseline": 0,
         "patched": 4, "baseline_runs": 4, "patched_runs": 4, "p": 0.0286, "new": True, "change": "introduced"},
        {"scenario": "kprobe-churn", "signature": "oracle: spurious-ENOENT", "baseline": 1, "patched": 1,
         "baseline_runs": 4, "patched_runs": 4, "p": 1.0, "new": False, "change": ""},
    ],
    "boot": {"baseline": {"runs": 8, "completed": 8, "boot_successes": 8, "boot_failures": 0, "errors": 0, "skipped": 0},
             "patched": {"runs": 8, "completed": 8, "boot_successes": 8, "boot_failures": 0, "errors": 0, "skipped": 0}},
    "boot_p": 1.0, "kernel": "/src/linux", "patched_tree": "/c/linux", "kernels": {"baseline": "/b", "patched": "/p"},
    "patches": [{"label": "0001-x.patch", "source": "/x", "kind": "mail", "subject": "dcache: x", "files": ["fs/dcache.c"],
                 "applied_with": "git am"}],
    "checkpatch": {"summary": "total: 0 errors, 0 warnings, 10 lines checked"},
    "scenarios": ["umount-check", "kprobe-churn"], "runs": 4, "durations": {"umount-check": 60}, "workers": 2,
    "cancelled": 0, "exit_code": 1, "results_dir": "/r",
}


def test_verify_page_shows_metric_rows_when_present(tmp_path):
    doc = dict(VERIFY_DOC, metrics=[{"scenario": "negdentry-inotify", "metric": "add_p50_ms", "worse": "higher",
                                     "old": [1.0, 1.2, 1.1], "new": [9.0, 8.0, 10.0], "old_median": 1.1,
                                     "new_median": 9.0, "ratio": 8.18, "p": 0.0495, "change": "worse"}])
    dom = pagedom.parse(render_verify(tmp_path, doc).read_text())
    (row,) = dom.find_all("tr", cls="metric-row")
    assert row.attrs["data-change"] == "worse" and row.find_all("span", cls="v-worse")
    assert "×8.18" in row.text and "0.050" in row.text and "3 vs 3 runs" in row.text


def test_run_page_takes_the_release_and_metrics_the_run_recorded(run_dir):
    d, con, rep = run_dir

    def mutate(doc):
        doc["meta"]["kernel_release"] = "6.12.57+deb13-amd64"
        extra(doc, 0, metrics={"add_p50_ms": 1.25})

    _, doc = write(d, results(con, rep), mutate)
    dom = pagedom.parse(render_run(d, doc).read_text())
    assert "6.12.57+deb13-amd64" in dom.by_id("kernel").text
    assert "add_p50_ms 1.25" in " ".join(dom.find_all("div", cls="metrics")[0].text.split())


def test_verify_page_has_bars_rows_and_run_links(tmp_path):
    d = tmp_path / "verify-1"
    con = d / "patched" / "vms" / "umount-check-0" / "console.log"
    con.parent.mkdir(parents=True)
    con.write_text("boot\n")
    (d / "patched" / "items").mkdir()
    (d / "patched" / "items" / "umount-check-0.json").write_text(json.dumps(
        RunResult("umount-check", 0, FAIL, titles=["BUG: Dentry still in use in umount_check"], console_log=str(con)).to_dict()))
    page = render_verify(d, VERIFY_DOC)
    dom = pagedom.parse(page.read_text())
    rows = dom.find_all("tr", cls="sig-row")
    assert [r.attrs["data-change"] for r in rows] == ["introduced", "unchanged"]
    assert rows[0].find_all("span", cls="v-introduced") and "0.029" in rows[0].text and "4:4" in rows[0].text
    (svg,) = dom.by_id("signatures").find_all("svg", cls="chart")
    assert "BUG: Dentry still in use in umount_check" in " ".join(t.text for t in svg.find_all("text"))
    (run,) = dom.find_all("tr", cls="run-row")
    assert run.find_all("a", cls="console-link")[0].attrs["href"] == "patched/vms/umount-check-0/console.log"
    assert "v-regression" in dom.find_all("header")[0].find_all("span", cls="badge")[0].classes


def test_bisect_page_steps_verdicts_and_confidence(tmp_path):
    doc = {
        "bisect": {"id": "abc", "scenario": "umount-check", "duration": 60, "repo": "/src/linux"},
        "good": "1" * 40, "bad": "2" * 40, "target": {"kind": "title", "text": "BUG: Dentry still in use in umount_check"},
        "reproduced": 2, "endpoint_runs": 2, "reproduction_rate": 1.0, "runs_per_step": 2,
        "culprit": {"commit": "3" * 40, "subject": "dcache: break it"}, "candidates": [], "confidence": 1.0,
        "bisect_steps": 1,
        "steps": [
            {"commit": "2" * 40, "subject": "tip", "role": "bad-endpoint", "verdict": "bad", "planned_runs": 2,
             "completed_runs": 2, "titles": ["BUG: Dentry still in use in umount_check"], "seconds": 300,
             "build_seconds": 200, "reason": "2/2",
             "runs": [{"index": i, "verdict": "FAIL", "titles": ["BUG: Dentry still in use in umount_check"],
                       "log": str(tmp_path / "c.log"), "seconds": 50} for i in range(2)]},
            {"commit": "1" * 40, "subject": "base", "role": "good-endpoint", "verdict": "good", "planned_runs": 2,
             "completed_runs": 2, "titles": [], "runs": [], "seconds": 100},
            {"commit": "3" * 40, "subject": "dcache: break it", "role": "step", "verdict": "skip", "planned_runs": 2,
             "completed_runs": 0, "titles": [], "runs": [], "reason": "build failed", "error_kind": "build"},
        ],
    }
    (tmp_path / "c.log").write_text("x\n")
    dom = pagedom.parse(render_bisect(tmp_path, doc).read_text())
    steps = dom.find_all("tr", cls="step-row")
    assert [s.attrs["data-verdict"] for s in steps] == ["bad", "good", "skip"]
    assert [s.find_all("td")[0].text.strip() for s in steps] == ["BAD", "GOOD", "1"]
    assert "2/2" in steps[0].text and "0.750" not in steps[1].text and "1.000" in steps[1].text
    assert steps[0].find_all("a", cls="console-link")[0].attrs["href"] == "c.log"
    assert "build failed" in steps[2].text
    assert "3" * 40 in dom.by_id("answer").text


def test_compare_page_groups_rows_by_class(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for d in (old, new):
        d.mkdir()
        (d / "index.html").write_text("<html></html>")
    rows = [
        CompareRow("kprobe-churn", "oracle: spurious-ENOENT", FLAKY, 1, 5, 2, 5, 1.0),
        CompareRow("umount-check", "BUG: Dentry still in use in umount_check", NEW, 0, 5, 5, 5, 0.0079),
        CompareRow("symlink-reclaim-ext4", "oracle: empty-body", STILL_FAILING, 3, 5, 4, 5, 1.0, known="ext4-evict"),
        CompareRow("eventfs-lookup-race", UAF, FIXED, 4, 5, 0, 5, 0.048),
    ]
    page = render_compare(rows, new / "compare.html", old=old, new=new, exit_code=1)
    dom = pagedom.parse(page.read_text())
    groups = [g.attrs["data-class"] for g in dom.find_all("section", cls="group")]
    assert groups == ["new", "still failing", "flaky", "fixed"]
    assert [r.attrs["data-status"] for r in dom.find_all("tr", cls="cmp-row")] == groups
    assert "0.008" in dom.by_id("v-new").text and "ext4-evict" in dom.by_id("v-still-failing").text
    hrefs = [a.attrs["href"] for a in dom.by_id("sides").find_all("a")]
    assert hrefs == ["../old/index.html", "index.html"]
    assert "v-new" in dom.find_all("header")[0].find_all("span", cls="badge")[0].classes
    with pytest.raises(ValueError, match="status"):
        CompareRow("a", "b", "gone", 0, 1, 0, 1)


def test_compare_page_with_no_rows(tmp_path):
    dom = pagedom.parse(render_compare([], tmp_path / "c.html").read_text())
    assert dom.find_all("header")[0].find_all("span", cls="badge")[0].text.strip() == "no change"

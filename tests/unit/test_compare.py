"""harness compare: verify's statistics, sorted into new / still failing / fixed / flaky."""

from __future__ import annotations

import json

import pytest

from harness import compare, known
from harness.cli import main
from harness.errors import UserError
from harness.results import RunMeta, write_all
from harness.verdict import ERROR, FAIL, KNOWN, PASS, RunResult


def runs(scenario, pattern, title="WARNING in foo"):
    """One run per character: F fails with ``title``, P passes, E errors."""
    out = []
    for i, c in enumerate(pattern):
        if c == "F":
            out.append(RunResult(scenario, i, FAIL, titles=[title], message=title))
        elif c == "E":
            out.append(RunResult(scenario, i, ERROR, error_kind="boot", message="no ssh"))
        else:
            out.append(RunResult(scenario, i, PASS, message="ok"))
    return out


def test_four_classes_and_exit_code():
    old = runs("a", "PPPPP") + runs("b", "FFFFF", "BUG: b") + runs("c", "FFPPP", "BUG: c") + runs("d", "FPFPP", "BUG: d")
    new = runs("a", "FFFFF", "BUG: a") + runs("b", "FFFFF", "BUG: b") + runs("c", "PPPPP") + runs("d", "PFPFP", "BUG: d")
    c = compare.compare_runs(old, new)
    got = {r.scenario: r.status for r in c.rows}
    assert got == {"a": "new", "b": "still failing", "c": "fixed", "d": "flaky"}
    a = next(r for r in c.rows if r.scenario == "a")
    assert (a.old, a.old_runs, a.new, a.new_runs) == (0, 5, 5, 5) and a.p < 0.01 and compare.significant_new(a)
    assert c.exit_code == 1
    assert "new signature(s) significant" in compare.text(c)


def test_a_single_new_run_is_listed_but_not_significant():
    c = compare.compare_runs(runs("a", "P"), runs("a", "F", "BUG: a"))
    (row,) = c.rows
    assert row.status == "new" and row.p == 1.0 and c.exit_code == 0
    assert "none significant" in compare.text(c)


def test_same_results_report_nothing_new():
    same = runs("a", "PPFPP", "BUG: a") + runs("b", "PPPPP")
    c = compare.compare_runs(same, same)
    assert not any(r.status == "new" for r in c.rows) and c.exit_code == 0


def test_known_runs_count_as_failures_and_are_marked(tmp_path):
    k = tmp_path / "k.yaml"
    k.write_text("issues:\n  - id: ext4-x\n    comment: c\n    match: {oracle: symlink-inconsistent}\n")
    issues = known.load([k], shipped=False)
    old = [RunResult("s", i, PASS) for i in range(3)]
    new = [RunResult("s", i, KNOWN, oracle_failures=["symlink-inconsistent: l5"], known=[{"id": "ext4-x"}]) for i in range(3)]
    c = compare.compare_runs(old, new, issues)
    (row,) = c.rows
    assert row.signature == "oracle: symlink-inconsistent" and row.new == 3 and row.known == "ext4-x"
    assert "[known: ext4-x]" in compare.text(c)


def test_cli_on_results_dirs(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    write_all(a, runs("x", "PPPPP"), RunMeta("a", "/src", "/bz"))
    write_all(b, runs("x", "FFFFF", "KASAN: use-after-free Read in f_show"), RunMeta("b", "/src", "/bz"))
    assert main(["compare", str(a), str(b), "--known", "none"]) == 1
    out = capsys.readouterr().out
    assert "KASAN: use-after-free Read in f_show" in out and "new" in out
    assert out.rstrip().endswith(f"page: {b / 'compare.html'}") and (b / "compare.html").is_file()
    assert main(["compare", str(a), str(a), "--json", "--known", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == []


@pytest.mark.parametrize("setup", ["missing", "empty", "garbage"])
def test_bad_dirs_are_user_errors(tmp_path, setup, capsys):
    d = tmp_path / "d"
    if setup != "missing":
        d.mkdir()
    if setup == "garbage":
        (d / "results.json").write_text("{not json")
    with pytest.raises(UserError):
        compare.load_results(d)
    assert main(["compare", str(d), str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_worse_metric_fails_the_comparison_and_an_equal_one_does_not():
    def run(i, p50):
        return RunResult("negdentry-inotify", i, PASS, message="ok",
                         counters={"add_watch_latency": {"p50_us": p50}})

    old = [run(i, 250 + i) for i in range(5)]
    slow = [run(i, 42000 + i) for i in range(5)]
    c = compare.compare_runs(old, slow)
    (worse,) = [m for m in c.worse_metrics if m.key == "add_watch_latency.p50_us"]
    assert worse.p < 0.05 and c.exit_code == 1
    assert "metric: negdentry-inotify add_watch_latency.p50_us 252 -> 4.2e+04" in compare.text(c) or \
        "metric(s) worse: metric: negdentry-inotify add_watch_latency.p50_us" in compare.text(c)
    same = compare.compare_runs(old, [run(i, 251 + i) for i in range(5)])
    assert not same.worse_metrics and same.exit_code == 0


def test_cli_min_effect_decides_whether_a_metric_counts(tmp_path, capsys):
    def run(i, p50):
        return RunResult("negdentry-inotify", i, PASS, message="ok",
                         counters={"add_watch_latency": {"p50_us": p50}})

    a, b = tmp_path / "a", tmp_path / "b"
    write_all(a, [run(i, 250 + i) for i in range(5)], RunMeta("a", "/src", "/bz"))
    write_all(b, [run(i, 750 + i) for i in range(5)], RunMeta("b", "/src", "/bz"))  # x3
    assert main(["compare", str(a), str(b), "--known", "none", "--json"]) == 1
    (row,) = [m for m in json.loads(capsys.readouterr().out)["metrics"] if m["change"]]
    assert row["min_effect"] == 2.0 and row["metric"] == "add_watch_latency.p50_us"
    assert main(["compare", str(a), str(b), "--known", "none", "--min-effect", "x4"]) == 0
    assert "metrics: 0 of 1 changed" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--min-effect", "0.9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--min-effect" in err and "at least 1" in err

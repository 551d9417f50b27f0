"""validate's driver over the runner, with execute faked: rows, result files, exit code."""

import json
from dataclasses import replace

from harness.corpus import bugs
from harness.corpus.validate import CLEAN, Outcome, Row, evaluate, table
from harness.verdict import RunResult, Verdict

TITLE = "KASAN: slab-use-after-free Read in eventfs_iterate"


class FakeExecute:
    """Run i of our program fails with ``titles[i]``; stress-ng runs pass."""

    def __init__(self, titles):
        self.titles, self.seen = titles, []

    def __call__(self, run, bed, workdir, progress=print):
        self.seen.append((run.command is not None, run.index, run.seed, workdir.name))
        t = [] if run.command else self.titles[run.index]
        return RunResult(run.name, run.index, Verdict.FAIL if t else Verdict.PASS, titles=t,
                         message=t[0] if t else "ok", seed=run.seed, detection_s=4.0 if t else None)


def test_rows_count_expected_signatures_and_keep_every_result(tmp_path, monkeypatch):
    bug = replace(bugs.all_bugs()[0], expect_kind="title", expect="KASAN: * in eventfs_*", also=())
    fake = FakeExecute([[TITLE], ["WARNING in foo"], [TITLE]])
    monkeypatch.setattr("harness.runner.execute", fake)
    row = evaluate(bug, bug.scenario, bed=None, runs=3, peer_runs=2, workdir=tmp_path, progress=lambda m: None)
    assert (row.detected, row.runs, row.seen, row.median_s) == (2, 3, [TITLE], 4.0)
    assert row.other == ["FAIL: WARNING in foo"]
    assert (row.peer_runs, row.peer_detected, row.peer_median_s) == (2, 0, None)
    # The seed rule is the runner's: 1 + index, for our program and for the peer alike.
    assert [s[2] for s in fake.seen] == [1, 2, 3, 1, 2]
    stored = json.loads((tmp_path / f"{bug.scenario}-1" / "result.json").read_text())
    assert stored["titles"] == ["WARNING in foo"] and stored["verdict"] == "FAIL"
    assert (tmp_path / f"stress-ng-{bug.scenario}-0" / "result.json").is_file()
    assert row.bug in table([row]) and "2/3" in table([row])


def test_exit_code_counts_misses_and_clean_failures(tmp_path):
    caught = Row("b", "s", 3, 3)
    assert Outcome([caught, Row(CLEAN, "s", 3, 0)], tmp_path).exit_code == 0
    assert Outcome([Row("b", "s", 3, 2)], tmp_path).exit_code == 1
    assert Outcome([caught, Row(CLEAN, "s", 3, 1)], tmp_path).exit_code == 1

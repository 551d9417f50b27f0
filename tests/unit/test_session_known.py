"""The run driver with known issues and retries: triage, reruns, closing lines, baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import plan as plan_mod
from harness import scenarios
from harness.runner import Run
from harness.session import core as session
from harness.verdict import FAIL, KNOWN, PASS, RunResult

KNOWN_FILE = """issues:
  - id: ext4-x
    comment: empty body
    match: {oracle: made-up-oracle, scenarios: [symlink-reclaim-ext4]}
  - id: never-seen
    comment: not in this run
    match: {title: '^BUG: never$'}
"""


@pytest.fixture
def prep(tmp_path):
    (tmp_path / "known.yaml").write_text(KNOWN_FILE)
    config = tmp_path / "config"
    config.write_text("CONFIG_EXT4_FS=y\n")
    return session.Prepared(
        bzimage=str(tmp_path / "bzImage"), vmlinux=None, config_path=str(config), build_log=None,
        kernel_source="/src", rootfs="/r", ssh_key="/k", ready_marker="m", run_dir=str(tmp_path / "run"),
        kernel_release="6.12.57", known_files=[str(tmp_path / "known.yaml")],
    )


@pytest.fixture
def plan():
    return plan_mod.load(None, None)


def fake_runs(monkeypatch, *results):
    calls = []

    def execute(run, bed, workdir, progress):
        calls.append(workdir.name)
        r = results[min(len(calls), len(results)) - 1]
        return RunResult(run.name, run.index, r[0], titles=list(r[1]), oracle_failures=list(r[2]), message="m")

    monkeypatch.setattr(session, "execute", execute)
    return calls


def test_known_failure_is_triaged_and_not_retried(monkeypatch, prep, plan):
    prep.retries = 2
    calls = fake_runs(monkeypatch, (FAIL, [], ["made-up-oracle: l5 ..."]))
    r = session.run_item(prep, plan, Run(scenarios.get("symlink-reclaim-ext4"), 0, 10), progress=lambda m: None)
    assert r.verdict == KNOWN and r.known[0]["id"] == "ext4-x" and calls == ["symlink-reclaim-ext4-0"]
    stored = json.loads((Path(prep.run_dir) / "items" / "symlink-reclaim-ext4-0.json").read_text())
    assert stored["verdict"] == "KNOWN"
    code, text = session.finish(prep, session.collect(Path(prep.run_dir)))
    assert code == 0
    assert "1 known failure(s): ext4-x" in text
    assert "known issue never-seen: not seen in 1 run(s) of symlink-reclaim-ext4" in text


def test_new_failure_is_retried_and_its_rate_reported(monkeypatch, prep, plan):
    prep.retries = 2
    calls = fake_runs(monkeypatch, (FAIL, ["WARNING in foo"], []), (PASS, [], []), (FAIL, ["WARNING in foo"], []))
    r = session.run_item(prep, plan, Run(scenarios.get("kprobe-churn"), 0, 10), progress=lambda m: None)
    assert r.verdict == FAIL and r.reproduced == "2/3: flaky" and r.retries == [PASS, FAIL]
    assert calls == ["kprobe-churn-0", "kprobe-churn-0-retry1", "kprobe-churn-0-retry2"]
    assert "(reproduced 2/3: flaky)" in r.message
    code, text = session.finish(prep, session.collect(Path(prep.run_dir)))
    assert code == 1 and "reproduced 2/3: flaky" in text


def test_no_retries_without_the_option_or_on_pass(monkeypatch, prep, plan):
    calls = fake_runs(monkeypatch, (FAIL, ["WARNING in foo"], []))
    r = session.run_item(prep, plan, Run(scenarios.get("kprobe-churn"), 0, 10), progress=lambda m: None)
    assert r.reproduced == "" and len(calls) == 1


def test_known_none_keeps_the_failure(monkeypatch, prep, plan):
    prep.known_files = ["none"]
    fake_runs(monkeypatch, (FAIL, [], ["symlink-inconsistent: l5 ..."]))  # the shipped entry's oracle
    r = session.run_item(prep, plan, Run(scenarios.get("symlink-reclaim-ext4"), 0, 10), progress=lambda m: None)
    assert r.verdict == FAIL


def test_baseline_comparison_is_written_and_printed(monkeypatch, prep, plan, tmp_path):
    fake_runs(monkeypatch, (FAIL, ["KASAN: use-after-free Read in f_show"], []))
    session.run_item(prep, plan, Run(scenarios.get("kprobe-churn"), 0, 10), progress=lambda m: None)
    base = tmp_path / "base"
    from harness.results import RunMeta, write_all

    write_all(base, [RunResult("kprobe-churn", 0, PASS, message="ok")], RunMeta("base", "/src", "/bz"))
    prep.baseline = str(base)
    code, text = session.finish(prep, session.collect(Path(prep.run_dir)))
    assert code == 1 and "new" in text and "KASAN: use-after-free Read in f_show" in text
    assert json.loads((Path(prep.run_dir) / "compare.json").read_text())["rows"][0]["status"] == "new"
    assert (Path(prep.run_dir) / "compare.html").is_file() and "page: " in text

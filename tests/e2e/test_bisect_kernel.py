"""The issue's bar: bisect a real kernel history under QEMU and name the planted bug.

The history (harness.bisect.synthetic.kernel_history, built once and cached):
Debian's linux-source-6.12 as the first commit, then 14 small commits: fillers
(comment-only edits of fs/*.c, so each step is a real incremental build), a
decoy that WARNs at every boot ("WARNING in harness_bisect_decoy") and its
removal, both in the good range, and one commit applying a bug-corpus patch.

Slow: a full build at the first endpoint, then per step an incremental build,
boots and scenario runs. Skipped unless HARNESS_SLOW=1. Progress goes to
<tmp>/bisect/bisect.log while it runs (tail -f it).
"""

import itertools
import json
import math
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from harness.corpus import bugs
from harness.bisect import git as bgit
from harness.bisect.engine import Bisector, GitHistory, Settings
from harness.bisect.model import RunRecord
from harness.bisect.synthetic import DECOY_TITLE, LAYOUT, kernel_history
from harness.kbuild.source import debian_source
from harness.paths import REPO
from harness.verdict import Verdict

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("HARNESS_SLOW") != "1", reason="builds and boots a kernel per step; HARNESS_SLOW=1"),
]

HARNESS = str(REPO / ".venv" / "bin" / "harness")
# Bugs whose scenario reproduces them every time (BUGS header: "Deterministic ..."), title-based first.
PREFERRED = ("inotify-dentry-leak", "eventfs-stale-dentry")
RUNS = 2  # enough to see a flaky reproduction at BAD; a deterministic bug keeps 2 runs per step
TIMEOUT = 10 * 3600


def _progress(msg: str) -> None:
    import sys

    print(msg, file=sys.__stderr__, flush=True)


def pick_bug() -> bugs.Bug:
    by_name = {b.name: b for b in bugs.all_bugs()}
    for name in PREFERRED:
        if name in by_name:
            return by_name[name]
    return next(iter(by_name.values()))


@pytest.fixture(scope="module")
def planted():
    bug = pick_bug()
    source = debian_source(_progress)
    bugs.check_applies(bug, source)
    return bug, kernel_history(bug, source, progress=_progress)


def simulate(h):
    """The same bisection with a perfect tester: the step count the real one must match."""
    index = {c: i for i, c in enumerate(h.commits)}
    first_bad = index[h.culprit]

    def test_commit(rev):
        def runs():
            for n in itertools.count():
                titles = [DECOY_TITLE] if rev in h.decoy else []
                titles += ["the bug"] if index[rev] >= first_bad else []
                yield RunRecord(n, Verdict.FAIL if titles else Verdict.PASS, titles=titles)

        return runs()

    return Bisector(GitHistory(h.repo), test_commit, Settings(h.good, h.bad, runs=1)).run()


def test_history_has_the_shape_of_the_bar(planted):
    bug, h = planted
    assert len(h.commits) == 1 + len(LAYOUT) and len(LAYOUT) >= 12
    assert bgit.subject(h.repo, h.culprit).startswith(f"{bug.name}: apply {bug.path.name}")
    assert h.decoy and all(h.commits.index(c) < h.commits.index(h.culprit) for c in h.decoy)
    sim = simulate(h)
    assert sim.culprit.commit == h.culprit
    # The layout must make the bisection meet the decoy, or the test proves nothing about it.
    assert any(s.commit in h.decoy for s in sim.steps), "no step lands on a decoy kernel: fix LAYOUT"


def test_bisect_names_the_planted_bug(planted, tmp_path):
    bug, h = planted
    expected = simulate(h)
    before = bgit.status(h.repo)
    out = tmp_path / "bisect"
    junit = tmp_path / "junit.xml"
    r = subprocess.run(
        [HARNESS, "bisect", "--kernel", str(h.repo), "--good", h.good, "--bad", h.bad, "--scenario", bug.scenario,
         "--runs", str(RUNS), "--json", "--junit", str(junit), "--results", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    doc = json.loads(r.stdout)

    assert doc["culprit"]["commit"] == h.culprit, json.dumps(doc["steps"], indent=1)[-4000:]
    assert doc["culprit"]["subject"].startswith(bug.name)
    assert doc["bisect_steps"] == expected.bisect_steps <= math.ceil(math.log2(len(h.commits) - 1))
    assert doc["confidence"] >= 0.95
    # The target is one of the bug's signatures (a title, or an oracle by name).
    assert bug.matches(doc["target"]["kind"], doc["target"]["text"]), doc["target"]

    # The decoy kernels failed, with another title (DECOY_TITLE from the analysis' WARNING
    # format), and were judged good: an unrelated crash did not derail the bisection.
    decoyed = [s for s in doc["steps"] if s["commit"] in h.decoy]
    assert decoyed and all(s["verdict"] == "good" for s in decoyed)
    for s in decoyed:
        assert DECOY_TITLE in s["titles"] and doc["target"]["text"] not in s["titles"], s["titles"]

    # Logs of every step kept; junit has a case per step plus the answer.
    for s in doc["steps"]:
        d = s["log_dir"]
        assert os.path.isfile(os.path.join(d, "build.log")) and os.path.isfile(os.path.join(d, "run-0", "console.log"))
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == len(doc["steps"]) + 1

    # The tree bisected is as it was, and our worktree is gone.
    assert bgit.status(h.repo) == before
    assert [ln for ln in bgit.git(h.repo, "worktree", "list", "--porcelain").stdout.splitlines()
            if ln.startswith("worktree ")] == [f"worktree {h.repo}"]

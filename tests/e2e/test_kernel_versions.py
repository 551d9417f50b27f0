"""Every kernel a user has: the project's fragments merged (no build) on Debian's 6.12 and 6.1 trees.

Fast: one kconfig merge (allnoconfig + fragments) per tree, a few seconds
each, plus a one-time unpack of the tarball into the cache. It checks that
each merged config sets every symbol the scenarios need, or that the
version facts say why a scenario will be skipped.

HARNESS_SLOW=1 adds the whole run on 6.1 (`make test KERNEL=debian:6.1`):
a kernel build (~10 min uncontended) and every scenario's guest.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from harness.kbuild import facts, kconfig
from harness.kbuild.source import debian_source
from harness.paths import REPO
from harness.scenarios import all_scenarios, features, missing_needs


def _progress(msg: str) -> None:
    print(msg, file=sys.__stderr__, flush=True)


def merged(series, tmp_path, monkeypatch):
    tree = debian_source(_progress, series)
    # The merge's scratch dir in a cache of the test's own: never shared with a build running meanwhile.
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    frags = [kconfig.load_fragment(n) for n in kconfig.DEFAULT_FRAGMENTS]
    m = kconfig.merge(tree, frags, progress=_progress)
    return facts.tree_version(tree), m, kconfig.parse_config(m.text)


def test_6_12_needs_no_fitting_and_sets_every_symbol_the_scenarios_need(tmp_path, monkeypatch):
    version, m, cfg = merged("6.12", tmp_path, monkeypatch)
    assert version[:2] == (6, 12)
    assert m.facts.resolved == [] and m.facts.missing == [], m.facts.lines()
    for sc in all_scenarios():
        assert missing_needs(sc, cfg) == [], sc.name
        g = features.expected(sc, version)
        assert not g.skip and not g.notes, f"{sc.name} would skip on 6.12: {g}"


def test_6_1_turns_modules_on_lacks_only_user_events_and_says_what_it_skips(tmp_path, monkeypatch):
    version, m, cfg = merged("6.1", tmp_path, monkeypatch)
    assert version[:2] == (6, 1)
    # KPROBES needs MODULES before 6.10: turned on, said, and then KPROBES sticks.
    assert [(r["symbol"], r["value"]) for r in m.facts.resolved] == [("CONFIG_MODULES", "y")]
    assert cfg["CONFIG_MODULES"] == "y" and cfg["CONFIG_KPROBES"] == "y" and cfg["CONFIG_KPROBE_EVENTS"] == "y"
    # The one request 6.1 cannot meet, with its reason.
    assert [x["symbol"] for x in m.facts.missing] == ["CONFIG_USER_EVENTS"]
    assert "BROKEN" in m.facts.missing_reason("CONFIG_USER_EVENTS")
    # Everything else the project asks for stuck.
    want = kconfig.requested([kconfig.load_fragment(n) for n in kconfig.DEFAULT_FRAGMENTS])
    wrong = [s for s, v in want.items() if cfg.get(s, "n") != v and s not in ("CONFIG_MODULES", "CONFIG_USER_EVENTS")]
    assert wrong == []
    for sc in all_scenarios():
        assert missing_needs(sc, cfg) == [], sc.name
    # What the run will skip, and why, as the README's table says.
    skips = {sc.name: features.expected(sc, version) for sc in all_scenarios()}
    assert skips["eventfs-lookup-race"].skip.startswith("eventfs not in this kernel")
    assert {n.split(" not in ")[0] for n in skips["kprobe-churn"].notes} == {"eventfs", "user_events"}
    assert not any(g.skip or g.notes for name, g in skips.items() if name not in ("eventfs-lookup-race", "kprobe-churn"))


def test_the_default_kernel_answers_every_feature_probe_with_yes(kernel, image):
    """The probes on a real guest: 6.12 has every feature, so no scenario skips a part there."""
    names = sorted(features.FEATURES)
    r = subprocess.run(
        [str(REPO / ".venv" / "bin" / "harness"), "boot", "--", "sh", "-c", features.probe_command(names)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    probe = features.parse_probe(r.stdout, names)
    assert r.returncode == 0 and probe is not None, r.stdout[-2000:] + r.stderr[-2000:]
    assert probe.kernel.startswith("6.12") and all(probe.have.values()), probe


# What 6.1.192 is known to show (findings/6.1-f_show-uaf.md, findings/README.md): a failure
# of these scenarios with these signatures is the kernel's known bug, anything else is news.
KNOWN_ON_6_1 = {
    "kprobe-churn": re.compile(r"^KASAN: (slab-)?use-after-free Read in (f_(show|next|start)|tracing_open_file_tr)$"),
    "symlink-reclaim-ext4": re.compile(r"^oracle: symlink-inconsistent"),
}


@pytest.mark.skipif(os.environ.get("HARNESS_SLOW") != "1", reason="HARNESS_SLOW=1: builds 6.1 and runs every scenario")
def test_make_test_on_6_1_end_to_end(tmp_path):
    env = {**os.environ, "HARNESS_RESULTS": str(tmp_path / "results")}
    r = subprocess.run(
        ["make", "-s", "test", "KERNEL=debian:6.1", "JOBS=1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=4 * 3600,
    )
    out = (r.stdout + r.stderr)[-4000:]
    [results] = list((tmp_path / "results").glob("*/results.json"))
    runs = {x["scenario"]: x for x in json.loads(results.read_text())["results"]}
    skip = runs.pop("eventfs-lookup-race")
    assert skip["verdict"] == "SKIP" and skip["message"].startswith("eventfs not in this kernel (6.1."), out
    for name, x in runs.items():
        if x["verdict"] == "PASS":
            if name == "kprobe-churn":
                assert "user_events not in this kernel (6.1." in x["message"], x["message"]
            continue
        assert x["verdict"] in ("FAIL", "KNOWN") and name in KNOWN_ON_6_1, f"{name}: {x['verdict']} {x['message']}"
        sigs = x["titles"] + [f"oracle: {o}" for o in x["oracle_failures"]]
        assert all(KNOWN_ON_6_1[name].search(t) for t in sigs), f"{name}: new signature on 6.1: {sigs}"
    # Exit 0 once both are KNOWN (known-issues.yaml), 1 while either is a plain FAIL; never an error.
    fails = [name for name, x in runs.items() if x["verdict"] == "FAIL"]
    assert r.returncode == (1 if fails else 0), out

"""Scenario records: registry, kconfig needs, oracle and coverage on sample counters, CLI."""

from __future__ import annotations

import json
import re

import pytest

from harness import scenarios
from harness.errors import UserError
from harness.scenarios import cli as scenarios_cli
from harness.paths import GUEST, KCONFIGS
from harness.scenarios import (
    GUEST_BIN,
    MAX_DURATION,
    Scenario,
    all_scenarios,
    counters_from_output,
    get,
    missing_needs,
    parse_kconfig,
)

REQUIRED = {"kprobe-churn", "eventfs-lookup-race", "symlink-reclaim", "symlink-reclaim-ext4",
            "negdentry-inotify", "umount-check"}


def fragments() -> dict[str, str]:
    merged: dict[str, str] = {}
    for f in sorted(KCONFIGS.glob("*.config")):
        merged.update(parse_kconfig(f.read_text()))
    return merged


def makefile_programs() -> set[str]:
    text = (GUEST / "Makefile").read_text()
    m = re.search(r"^PROGRAMS\s*=\s*(.+)$", text, re.M)
    return set(m.group(1).split())


def main(argv: list[str]) -> int:
    """Just this subcommand, wired as harness/cli.py wires it, so the test does
    not depend on the other subcommands importing cleanly."""
    import argparse

    parser = argparse.ArgumentParser(prog="harness")
    scenarios_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def sample(**over) -> dict:
    base = {"program": "x", "ok": True, "oracle_failures": 0, "failures": [], "stuck_threads": 0,
            "ops": 10, "ops_per_s": 5.0, "elapsed_s": 2.0}
    base.update(over)
    return base


def test_registry_has_the_issue_scenarios_with_sane_records():
    names = [s.name for s in all_scenarios()]
    assert len(names) == len(set(names))
    assert REQUIRED <= set(names)
    programs = makefile_programs()
    for s in all_scenarios():
        assert s.program in programs, s.name
        assert 0 < s.duration <= MAX_DURATION
        assert s.needs and all(n.startswith("CONFIG_") for n in s.needs)
        assert "--duration" not in s.args and "--seed" not in s.args  # the harness appends them
        # Bug hunts must prove they stressed something; the crash self-test has nothing to count.
        assert s.description and (s.minimum or s.name.startswith("selftest-"))
        if any("/dev/vdb" in x for x in s.args + s.setup):
            assert s.scratch_disk_mb >= 300  # mkfs.xfs refuses smaller


def test_every_need_is_set_by_the_project_fragments():
    have = fragments()
    for s in all_scenarios():
        assert missing_needs(s, have) == [], s.name


def test_symlink_reclaim_mounts_noatime_and_unmounts():
    for name, mkfs in (("symlink-reclaim", "mkfs.xfs"), ("symlink-reclaim-ext4", "mkfs.ext4")):
        s = get(name)
        assert s.setup[0].startswith(mkfs)
        assert any("noatime" in line for line in s.setup)
        assert any(line.startswith("umount ") for line in s.teardown)


def test_get_unknown_names_the_known_ones():
    with pytest.raises(UserError) as e:
        get("kprobe-chrun")
    msg = str(e.value)
    assert "kprobe-chrun" in msg and "kprobe-churn" in msg and "umount-check" in msg
    assert e.value.exit_code == 2


def test_parse_kconfig():
    text = "\n".join([
        "# comment", "CONFIG_A=y", "CONFIG_B=m", "# CONFIG_C is not set", 'CONFIG_D="str ing"',
        "CONFIG_E=21", "", "garbage",
    ])
    assert parse_kconfig(text) == {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": "n",
                                   "CONFIG_D": '"str ing"', "CONFIG_E": "21"}


def test_missing_needs():
    s = Scenario("t", "d", "p", (), ("CONFIG_A", "CONFIG_B", "CONFIG_C", "CONFIG_D"), 10)
    kc = {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_C": "n"}
    assert missing_needs(s, kc) == ["CONFIG_C", "CONFIG_D"]
    assert missing_needs(get("umount-check"), {}) == list(get("umount-check").needs)


def test_argv_appends_duration_and_seed():
    s = get("kprobe-churn")
    argv = s.argv(seed=9)
    assert argv[0] == f"{GUEST_BIN}/kprobe-churn"
    assert argv[-4:] == ["--duration", str(s.duration), "--seed", "9"]
    assert s.argv(5)[-3] == "5"


def test_oracle_held_and_broken():
    s = get("eventfs-lookup-race")
    assert s.oracle(sample()) == []
    broken = sample(ok=False, oracle_failures=12,
                    failures=["round 3: spurious ENOENT: stat /x gave ENOENT for a name that exists (thread 1)"])
    msgs = s.oracle(broken)
    assert msgs[0].startswith("round 3: spurious ENOENT")
    assert msgs[-1] == "... and 11 more oracle failures"
    assert s.oracle(sample(ok=False, oracle_failures=2, failures=[])) == ["eventfs-lookup-race: oracle broken (2 failures)"]


def test_oracle_names_most_failures_first():
    s = get("kprobe-churn")
    c = sample(ok=False, oracle_failures=5, oracles={"spurious-ENOENT": 1, "ghost-file": 4, "odd": "x"})
    assert s.oracle_names(c) == ["ghost-file", "spurious-ENOENT"]
    assert s.oracle_names(sample()) == [] and s.oracle_names({}) == [] and s.oracle_names(None) == []


def test_oracle_names_are_the_bug_corpus_contract():
    # Names the bug corpus expects must be ones the programs can report.
    programs = "".join(p.read_text() for p in GUEST.glob("*.h"))
    for name in ("spurious-ENOENT", "ghost-file", "find-loop", "nr_negative-drift"):
        assert f'"{name}"' in programs


def test_oracle_without_counters_or_with_stuck_threads():
    s = get("umount-check")
    assert "no final JSON" in s.oracle({})[0]
    assert "no final JSON" in s.oracle(None)[0]
    assert "stuck" in s.oracle(sample(stuck_threads=2))[0]


def test_coverage_minimum_and_expect():
    s = get("symlink-reclaim")
    good = sample(fs="xfs", walks=50000, mutations=300, drops=100)
    assert s.coverage(good) == []
    gaps = s.coverage(sample(fs="ext4", walks=50000, mutations=0))
    assert "mutations is 0, needs at least 10: the stress did not run" in gaps
    assert "drops is None, needs at least 1: the stress did not run" in gaps
    assert "fs is 'ext4', expected 'xfs': check the scenario setup" in gaps
    nested = Scenario("t", "d", "p", (), ("CONFIG_A",), 10, minimum=(("lat.n", 3),))
    assert nested.coverage({"lat": {"n": 3}}) == []
    assert nested.coverage({"lat": {"n": 2}}) != []


def test_counters_from_output_takes_the_last_json_line():
    out = 'noise\n{"ok": false}\nmore noise\n{"ok": true, "ops": 3}\n\n'
    assert counters_from_output(out) == {"ok": True, "ops": 3}
    assert counters_from_output("no json here\n{broken") is None
    assert counters_from_output("[1, 2]\n") is None


def test_cli_lists_scenarios(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in REQUIRED:
        assert name in out
    assert "KPROBE_EVENTS" in out and "60s" in out


def test_cli_marks_missing_needs_from_a_config(tmp_path, capsys):
    cfg = tmp_path / ".config"
    cfg.write_text("CONFIG_FTRACE=y\nCONFIG_KPROBE_EVENTS=y\n# CONFIG_XFS_FS is not set\n")
    assert main(["scenarios", "--config", str(cfg), "--json"]) == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["kprobe-churn"]["missing"] == []
    assert rows["symlink-reclaim"]["missing"] == ["CONFIG_XFS_FS"]
    assert {"op": "umount", "stat": "p50_us", "bound": 3.0, "per": "dentry"} in rows["umount-check"]["scaling"]
    ops = {m["key"]: m for m in rows["kprobe-churn"]["metrics"]}["ops_per_s"]
    assert (ops["worse"], ops["min_effect"]) == ("lower", 8.0)
    assert main(["scenarios", "--config", str(cfg)]) == 0
    assert "needs CONFIG_XFS_FS" in capsys.readouterr().out


def test_cli_bad_config_is_a_user_error(tmp_path):
    with pytest.raises(UserError) as e:
        main(["scenarios", "--config", str(tmp_path / "nope")])
    assert "nope" in str(e.value) and ".config" in str(e.value)


def test_module_is_declarative():
    # Records only: no process or VM machinery imported by the scenarios package.
    src = (scenarios.__file__)
    text = open(src).read()
    assert "subprocess" not in text and "harness.vm" not in text

"""Run-time features: the guest probe, SKIP and partial runs, with a fake guest (a shell on the host)."""

import subprocess
from dataclasses import dataclass, replace

import pytest

from harness.errors import UserError

from harness.scenarios import all_scenarios, features, get
from harness.verdict import RunResult


@dataclass
class Out:
    stdout: str
    exit_status: int | None = 0


def fake_guest(have: dict[str, bool], kernel: str = "6.1.192"):
    """A VM.run stand-in: answers the probe command as a kernel with ``have`` would."""

    def run(command, timeout=60.0):
        lines = [f"kernel={kernel}"]
        for name in features.FEATURES:
            if f"echo {name}=1" in command:
                lines.append(f"{name}={int(have.get(name, False))}")
        return Out("\n".join(lines) + "\n")

    return run


ALL = {name: True for name in features.FEATURES}
LTS_6_1 = {**ALL, "eventfs": False, "user_events": False}


def test_every_declared_feature_is_known_and_every_probe_is_valid_shell():
    assert features.check_declarations(all_scenarios()) == []
    bad = replace(get("kprobe-churn"), features=("tracefs", "evntfs"))
    assert "unknown feature 'evntfs'" in features.check_declarations([bad])[0]
    cmd = features.probe_command(sorted(features.FEATURES))
    # Run it for real on the host: it must parse and answer every feature with 0 or 1.
    out = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30).stdout
    probe = features.parse_probe(out, sorted(features.FEATURES))
    assert probe is not None and set(probe.have) == set(features.FEATURES) and probe.kernel


def test_on_6_1_kprobe_churn_runs_and_names_what_it_skipped():
    g = features.gate(fake_guest(LTS_6_1), get("kprobe-churn"))
    assert not g.skip
    assert "user_events not in this kernel (6.1.192, first in v6.4): user-event churn skipped" in g.notes
    assert any(n.startswith("eventfs not in this kernel (6.1.192, first in v6.6): eventfs lookup") for n in g.notes)
    r = RunResult("kprobe-churn", 0, "PASS", message="ok")
    g.annotate(r)
    assert r.message.startswith("ok; ") and "user-event churn skipped" in r.message
    failed = RunResult("kprobe-churn", 0, "FAIL", message="KASAN: use-after-free Read in f_show")
    g.annotate(failed)
    assert failed.message == "KASAN: use-after-free Read in f_show", "a FAIL's message stays its title"


def test_on_6_1_eventfs_lookup_race_skips_with_one_line_reason():
    g = features.gate(fake_guest(LTS_6_1), get("eventfs-lookup-race"))
    assert g.skip.startswith("eventfs not in this kernel (6.1.192, first in v6.6): the first-lookup race")
    assert "\n" not in g.skip


def test_on_a_full_kernel_nothing_is_skipped_or_noted():
    for sc in all_scenarios():
        g = features.gate(fake_guest(ALL, "6.12.117"), sc)
        assert not g.skip and not g.notes, sc.name


def test_a_probe_that_does_not_answer_skips_nothing():
    def broken(command, timeout=60.0):
        return Out("", exit_status=None)

    assert features.gate(broken, get("eventfs-lookup-race")) == features.Gate()

    def partial(command, timeout=60.0):
        return Out("kernel=6.1\ntracefs=1\n")

    assert features.gate(partial, get("eventfs-lookup-race")) == features.Gate()


@pytest.mark.parametrize("name", ["selftest-crash", "negdentry-inotify", "umount-check"])
def test_scenarios_without_their_feature_skip(name):
    sc = get(name)
    g = features.gate(fake_guest({}), sc)
    assert g.skip.startswith(f"{sc.features[0]} not in this kernel (6.1.192)") and sc.features_why in g.skip


def test_scenarios_cli_shows_features_and_what_6_1_is_expected_to_skip(capsys):
    from tests.unit.test_scenarios import main

    assert main(["scenarios", "--kernel-version", "6.1"]) == 0
    out = capsys.readouterr().out
    assert "run-time features (?: optional): tracefs, kprobe_events, eventfs" in out
    assert "on 6.1: SKIP: eventfs not in this kernel (6.1, first in v6.6)" in out
    assert "on 6.1: partial: user_events not in this kernel" in out
    assert main(["scenarios", "--kernel-version", "6.12"]) == 0
    assert "on 6.12" not in capsys.readouterr().out
    with pytest.raises(UserError, match="--kernel-version 'next'"):
        main(["scenarios", "--kernel-version", "next"])

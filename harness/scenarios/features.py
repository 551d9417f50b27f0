"""Run-time features: what a scenario needs from the booted kernel, asked of the guest.

A kconfig symbol says what was built; it does not say what the kernel
offers at run time, and for a prebuilt bzImage there may be no .config at
all. eventfs is no symbol (it is how tracefs works from v6.6 on), and
user_events may be built yet absent. So each scenario names the run-time
features it needs (``Scenario.features``: without one it SKIPs) and those
that only one part of it needs (``Scenario.optional_features``: without one
that part is skipped and the verdict's message says so), and the booted
guest is asked, once per run, with one shell command.

The probes ask the kernel, never its version number; the version facts
(kconfigs/version-facts.yaml) only add a hint to the message ("first in
v6.6") so a reader knows whether to expect it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Callable

from harness.kbuild import facts as version_facts

# tracefs is mounted at /sys/kernel/tracing by the guest init; older setups
# only have the debugfs automount. The probes run with $T set to whichever has events/.
_TRACEFS = 'T=/sys/kernel/tracing; [ -d "$T/events" ] || T=/sys/kernel/debug/tracing'


@dataclass(frozen=True)
class Feature:
    name: str
    probe: str  # a shell test, true when the kernel has the feature ($T: the tracefs mount)
    what: str  # for --help and the README


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("tracefs", '[ -d "$T/events" ]', "a tracefs mount with an events/ directory"),
        Feature("kprobe_events", '[ -w "$T/kprobe_events" ]', "kprobe events (tracefs kprobe_events)"),
        Feature("synthetic_events", '[ -w "$T/synthetic_events" ]', "synthetic events (tracefs synthetic_events)"),
        Feature(
            "user_events",
            '[ -e "$T/user_events_data" ] && [ -w "$T/dynamic_events" ]',
            "user events (tracefs user_events_data)",
        ),
        Feature("tracefs_instances", '[ -d "$T/instances" ]', "tracefs instances (mkdir/rmdir under instances/)"),
        # eventfs has no file of its own: its entry point is in kallsyms from v6.6 on
        # (CONFIG_KALLSYMS is in the debug fragment). A kernel without kallsyms cannot
        # tell: taken as present, so the scenario runs rather than skips on a guess.
        Feature(
            "eventfs",
            "if [ -r /proc/kallsyms ]; then grep -q ' eventfs_create_events_dir$' /proc/kallsyms; fi",
            "eventfs (tracefs events/ created on lookup, v6.6+)",
        ),
        Feature(
            "memcg",
            "grep -qw memory /sys/fs/cgroup/cgroup.controllers",
            "a cgroup2 memory controller at /sys/fs/cgroup",
        ),
        Feature("inotify", "[ -e /proc/sys/fs/inotify/max_user_watches ]", "inotify"),
        Feature("sysrq", "[ -w /proc/sysrq-trigger ]", "the magic SysRq trigger"),
    )
}


@dataclass(frozen=True)
class Probe:
    """What one booted kernel has."""

    kernel: str  # uname -r
    have: dict[str, bool]


@dataclass(frozen=True)
class Gate:
    """A scenario against a probe: skip it, or run it and say what it left out."""

    skip: str = ""  # non-empty: the SKIP message
    notes: tuple[str, ...] = field(default_factory=tuple)  # parts skipped, one line each

    def annotate(self, result) -> None:
        """Name the skipped parts after a PASS's message ("ok; user_events not in ...").

        A FAIL's message stays its title: known issues, verify and bisect
        compare it.
        """
        if self.notes and str(result.verdict) == "PASS":
            result.message = "; ".join([result.message or "ok", *self.notes])


def probe_command(names: list[str]) -> str:
    """One shell command printing 'kernel=<uname -r>' and 'name=1|0' per feature."""
    lines = [_TRACEFS, 'echo "kernel=$(uname -r)"']
    for name in names:
        lines.append(f"if {FEATURES[name].probe}; then echo {shlex.quote(name)}=1; else echo {shlex.quote(name)}=0; fi")
    return "; ".join(lines)


def parse_probe(stdout: str, names: list[str]) -> Probe | None:
    """The probe's answer; None when it is incomplete (then nothing is skipped on its word)."""
    kernel, have = "", {}
    for line in stdout.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep:
            continue
        if key == "kernel":
            kernel = value
        elif key in FEATURES and value in ("0", "1"):
            have[key] = value == "1"
    if any(n not in have for n in names):
        return None
    return Probe(kernel or "unknown", have)


def _missing(feature: str, kernel: str) -> str:
    fact = version_facts.feature_first(feature)
    hint = f", first in v{version_facts.show(fact.before)}" if fact and fact.before else ""
    return f"{feature} not in this kernel ({kernel}{hint})"


def decide(scenario, probe: Probe) -> Gate:
    """SKIP when a needed feature is missing; otherwise one note per optional part left out."""
    absent = [f for f in scenario.features if not probe.have.get(f, False)]
    if absent:
        reason = "; ".join(_missing(f, probe.kernel) for f in absent)
        return Gate(skip=f"{reason}: {scenario.features_why or 'the scenario cannot run'}")
    notes = tuple(
        f"{_missing(f, probe.kernel)}: {part} skipped"
        for f, part in scenario.optional_features
        if not probe.have.get(f, False)
    )
    return Gate(notes=notes)


def gate(run_command: Callable, scenario) -> Gate:
    """Ask the booted guest (``run_command`` = VM.run) what the scenario needs.

    A probe that fails to answer skips nothing: the program then meets the
    kernel as it is and its own setup check has the last word.
    """
    names = sorted({*scenario.features, *(f for f, _ in scenario.optional_features)})
    if not names:
        return Gate()
    r = run_command(probe_command(names), timeout=30)
    p = parse_probe(r.stdout or "", names) if r.exit_status == 0 else None
    return decide(scenario, p) if p is not None else Gate()


def check_declarations(scenarios) -> list[str]:
    """Unknown feature names in the catalog, for the unit test (a typo would skip silently)."""
    bad = []
    for sc in scenarios:
        for f in [*sc.features, *(f for f, _ in sc.optional_features)]:
            if f not in FEATURES:
                bad.append(f"{sc.name}: unknown feature {f!r} (known: {', '.join(sorted(FEATURES))})")
    return bad


def expected(scenario, version) -> Gate:
    """What the run on a kernel of ``version`` is expected to skip, from the version facts alone.

    For the README's table and the tests that check a tree without booting
    it; a run never uses this: its guest is asked.
    """
    have = {name: True for name in FEATURES}
    for fact in version_facts.load().features:
        if fact.symbol in have and fact.applies(version):  # a "first: X" row applies before X
            have[fact.symbol] = False
    return decide(scenario, Probe(version_facts.show(version), have))

"""The verdict taxonomy, one place: PASS / FAIL / ERROR(kind) / SKIP, and what each maps to."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from harness.errors import EXIT_ERROR, EXIT_FAIL, EXIT_OK, EXIT_USER

PASS, FAIL, ERROR, SKIP = "PASS", "FAIL", "ERROR", "SKIP"

# Harness-level titles (syzkaller's wording) for a guest that died without a report.
LOST_CONNECTION = "lost connection to test machine"
NO_OUTPUT = "no output from test machine"


# Oracle failure texts start with the oracle's name ("spurious-ENOENT: events/
# kprobes/p3 ..."); the rest names files and counts that differ from run to run,
# so the name is what bisect, verify and validate compare.
_ORACLE_NAME = re.compile(r"^([A-Za-z][\w.-]*): ")
_MORE = re.compile(r"^\.\.\. and \d+ more oracle failures$")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def oracle_key(failure: str) -> str:
    """The comparable part of an oracle failure: its oracle's name, else the
    text with numbers and addresses masked; "" for the "... and N more" line."""
    failure = failure.strip()
    if _MORE.match(failure):
        return ""
    m = _ORACLE_NAME.match(failure)
    if m:
        return m.group(1)
    return _NUM.sub("N", _HEX.sub("ADDR", failure))


@dataclass
class RunResult:
    scenario: str
    index: int
    verdict: str
    error_kind: str = ""  # build | boot | infrastructure | user, for ERROR
    titles: list[str] = field(default_factory=list)  # kernel report titles, in order
    oracle_failures: list[str] = field(default_factory=list)
    message: str = ""  # one line: why this verdict
    report: str = ""  # the first report's text (or oracle details), for junit
    counters: dict | None = None
    duration: float = 0.0
    boot_seconds: float = 0.0
    console_log: str = ""
    kernel: str = ""
    seed: int = 0
    detection_s: float | None = None  # stress seconds until the first failure showed, for FAIL
    # Reports not counted, each {"title", "why"} (a soft lockup of a vCPU the host starved).
    set_aside: list[dict[str, str]] = field(default_factory=list)

    @property
    def signatures(self) -> list[str]:
        """What verify and bisect compare: report titles, then oracle failures."""
        return list(self.titles) + [f"oracle: {o}" for o in self.oracle_failures]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


NOTHING_TESTED = "nothing was tested: every item was skipped (the kernel lacks what the scenarios need)"


def exit_code(results: list[RunResult]) -> int:
    """0 all passed (some may have skipped), 1 a kernel failure, 2 user error
    or nothing tested, 3 build/boot/infra error.

    An error outranks a failure: a run that could not be carried out says
    nothing about the kernel, so the whole run is not a clean verdict.
    """
    kinds = {r.error_kind for r in results if r.verdict == ERROR}
    if "user" in kinds:
        return EXIT_USER
    if kinds:
        return EXIT_ERROR
    if any(r.verdict == FAIL for r in results):
        return EXIT_FAIL
    # h18 (#18): a run in which every item was skipped tested nothing, so it
    # is not a pass. The kernel given lacks what every scenario needs: the
    # user's input to fix, hence 2 (README, `harness --help`).
    if results and all(r.verdict == SKIP for r in results):
        return EXIT_USER
    return EXIT_OK

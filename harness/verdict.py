"""The verdict taxonomy, one place: PASS / FAIL / ERROR(kind) / SKIP, and what each maps to.

Verdicts and error kinds are string Enums: a member is its own name in
JSON, junit and f-strings, so every rendering reads as it did when they
were bare strings. What a verdict means elsewhere (its exit code, whether
the run exercised the kernel, its rank in the summary) is a table keyed by
the Enum: a new verdict is one row in each.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from harness.errors import EXIT_ERROR, EXIT_FAIL, EXIT_OK, EXIT_USER, UserError


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIP = "SKIP"
    # A FAIL whose every signature is a known issue of this kernel (harness/known.py):
    # shown with the id, never as PASS, and alone it does not fail the run.
    KNOWN = "KNOWN"


class ErrorKind(StrEnum):
    """Why an ERROR run says nothing about the kernel; NONE ("") for every other verdict."""

    NONE = ""
    BUILD = "build"
    BOOT = "boot"
    INFRASTRUCTURE = "infrastructure"
    USER = "user"


# Older spellings, kept for importers: the values are the Enum's members.
PASS, FAIL, ERROR, SKIP, KNOWN = Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.SKIP, Verdict.KNOWN

# Verdicts of runs that exercised the kernel: the evidence verify and bisect count.
COMPLETED = frozenset({Verdict.PASS, Verdict.FAIL, Verdict.KNOWN})

# Each verdict's exit code; an ERROR's depends on its kind (ERROR_EXIT, else EXIT_ERROR).
VERDICT_EXIT = {
    Verdict.PASS: EXIT_OK,
    Verdict.SKIP: EXIT_OK,
    Verdict.FAIL: EXIT_FAIL,
    Verdict.ERROR: EXIT_ERROR,
    Verdict.KNOWN: EXIT_OK,
}
ERROR_EXIT = {ErrorKind.USER: EXIT_USER}
# Which code a whole run takes when its results differ, first present wins. An
# error outranks a failure: a run that could not be carried out says nothing
# about the kernel, so the whole run is not a clean verdict.
EXIT_PRECEDENCE = (EXIT_USER, EXIT_ERROR, EXIT_FAIL, EXIT_OK)


# Oracle failure texts start with the oracle's name ("spurious-ENOENT: events/
# kprobes/p3 ..."); the rest names files and counts that differ from run to run,
# so the name is what bisect, verify and validate compare.
_ORACLE_NAME = re.compile(r"^([A-Za-z][\w.-]*): ")
_MORE = re.compile(r"^\.\.\. and \d+ more oracle failures$")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
ORACLE_PREFIX = "oracle: "
# Oracle failures the runner appends for teardown commands: not the scenario's invariant.
TEARDOWN_PREFIX = "teardown failed: "


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


def oracle_keys(failures: list[str]) -> list[str]:
    """The oracle signatures of a run's failures, minus teardown noise and the "... and N more" line."""
    return [k for o in failures if not o.startswith(TEARDOWN_PREFIX) and (k := oracle_key(o))]


def signatures(titles: list[str], oracle_failures: list[str]) -> list[str]:
    """What verify, bisect and the summary compare: report titles, then oracle failures."""
    return list(titles) + [ORACLE_PREFIX + o for o in oracle_failures]


def item_id(scenario: str, index: int) -> str:
    """A run's id: pytest's test id, junit's case name, progress lines' tag."""
    return f"{scenario}#{index}"


# A guest program's stderr progress lines kept per run, the last ones (a chatty
# program would otherwise grow results.json without bound).
PROGRESS_LINES = 2000


@dataclass
class RunResult:
    scenario: str
    index: int
    verdict: Verdict
    error_kind: ErrorKind = ErrorKind.NONE  # for ERROR
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
    # The guest program's stderr lines as [seconds since the stress began, line].
    progress: list[list] = field(default_factory=list)
    # For KNOWN: the known-issue entries that explain it, each {"id", "comment", "report_url", "source"}.
    known: list[dict[str, str]] = field(default_factory=list)
    # With --retries: the verdicts of the reruns of a FAIL, and "k/n" runs that failed.
    retries: list[str] = field(default_factory=list)
    reproduced: str = ""

    @property
    def signatures(self) -> list[str]:
        return signatures(self.titles, self.oracle_failures)

    @property
    def item(self) -> str:
        return item_id(self.scenario, self.index)

    @property
    def verdict_text(self) -> str:
        """The verdict as tables and progress lines show it: "ERROR(boot)", "FAIL"."""
        return f"{self.verdict}({self.error_kind})" if self.verdict == Verdict.ERROR else str(self.verdict)

    @property
    def line(self) -> str:
        return f"{self.verdict_text} {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        r = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        r.verdict, r.error_kind = Verdict(r.verdict), ErrorKind(r.error_kind or "")
        return r


def result_exit(r: RunResult) -> int:
    if r.verdict == Verdict.ERROR:
        return ERROR_EXIT.get(r.error_kind, EXIT_ERROR)
    return VERDICT_EXIT[r.verdict]


NOTHING_TESTED = "nothing was tested: every item was skipped (the kernel lacks what the scenarios need)"


def exit_code(results: list[RunResult]) -> int:
    """0 all passed (some may have skipped, or failed only in known ways), 1 a kernel
    failure, 2 user error or nothing tested, 3 build/boot/infra error."""
    # A run in which every item was skipped tested nothing, so it is not a pass:
    # the kernel given lacks what every scenario needs, the user's input to fix.
    if results and all(r.verdict == Verdict.SKIP for r in results):
        return EXIT_USER
    codes = {result_exit(r) for r in results}
    return next((c for c in EXIT_PRECEDENCE if c in codes), EXIT_OK)


def read_results(path: str | Path) -> list[dict]:
    """Per-run result dicts from a results.json, a run directory holding one (or
    its items/), or a directory of per-run JSON files (verify's <side>/items/).

    For what a user names on the command line (compare, a baseline, the metric
    spread): anything else is one UserError naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such results file or directory")
    if p.is_file():
        files = [p]
    elif (p / "results.json").is_file():
        files = [p / "results.json"]
    else:
        files = sorted(p.glob("*.json")) or sorted((p / "items").glob("*.json"))
    if not files:
        raise UserError(f"{p}: no results.json and no per-run JSON files there: not a harness results directory")
    out: list[dict] = []
    for f in files:
        try:
            doc = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise UserError(f"{f}: not a results JSON file: {e}") from e
        items = doc.get("results") if isinstance(doc, dict) and "results" in doc else [doc]
        if not isinstance(items, list) or not all(isinstance(i, dict) and "scenario" in i for i in items):
            raise UserError(f"{f}: not a results JSON file: expected run results with a 'scenario' key")
        out.extend(items)
    return out


def load_results(path: str | Path) -> list[RunResult]:
    """``read_results`` as RunResults."""
    try:
        return [RunResult.from_dict(d) for d in read_results(path)]
    except (TypeError, ValueError) as e:
        raise UserError(f"{path}: not a harness results file ({type(e).__name__}: {e})") from e

"""Bisect's records: one run, one step, the target signature, the answer.

Plain dataclasses that round-trip through JSON, because the state file,
``--json`` and junit are all renderings of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from harness.verdict import COMPLETED, ORACLE_PREFIX, ErrorKind, RunResult, Verdict, oracle_key, oracle_keys, signatures

GOOD, BAD, SKIP = "good", "bad", "skip"
# Which part of the bisection a step is: the two endpoint checks, then the steps proper.
BAD_ENDPOINT, GOOD_ENDPOINT, STEP = "bad-endpoint", "good-endpoint", "step"

TITLE, ORACLE = "title", "oracle"


@dataclass
class RunRecord:
    """What bisect keeps of one run (a RunResult without the bulky text)."""

    index: int
    verdict: Verdict
    titles: list[str] = field(default_factory=list)
    oracle_failures: list[str] = field(default_factory=list)
    error_kind: ErrorKind = ErrorKind.NONE
    message: str = ""
    seconds: float = 0.0
    boot_seconds: float = 0.0
    log: str = ""  # the console log

    @classmethod
    def from_result(cls, r: RunResult) -> "RunRecord":
        return cls(
            index=r.index,
            verdict=r.verdict,
            titles=list(r.titles),
            oracle_failures=list(r.oracle_failures),
            error_kind=r.error_kind,
            message=r.message,
            seconds=round(r.duration, 1),
            boot_seconds=round(r.boot_seconds, 1),
            log=r.console_log,
        )

    @property
    def signatures(self) -> list[str]:
        return signatures(self.titles, self.oracle_failures)

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        r = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        r.verdict, r.error_kind = Verdict(r.verdict), ErrorKind(r.error_kind or "")
        return r


@dataclass(frozen=True)
class Target:
    """The failure being bisected.

    A title is compared exactly (report titles are already normalized: no
    addresses, no PIDs). An oracle failure is compared by ``oracle_key``: its
    text names the file, round and thread that saw it, which differ from run
    to run, but it starts with the oracle's name (the guest programs'
    ``name: details`` convention), and that name is the signature.
    """

    kind: str  # TITLE or ORACLE
    text: str  # the title, or the oracle key (ANY_ORACLE: whichever oracle broke)

    @classmethod
    def first_of(cls, run: RunRecord) -> "Target | None":
        """BAD's signature: its first report title, else its first oracle failure."""
        if run.verdict != Verdict.FAIL:
            return None
        if run.titles:
            return cls(TITLE, run.titles[0])
        keys = oracle_keys(run.oracle_failures)
        return cls(ORACLE, keys[0]) if keys else None

    @classmethod
    def parse(cls, text: str) -> "Target":
        """A --signature value: a report title, ``oracle`` (any), or ``oracle: NAME``."""
        text = text.strip()
        if text == ORACLE or text.startswith(ORACLE + ":"):
            rest = text[len(ORACLE) + 1 :].strip()
            return cls(ORACLE, oracle_key(rest) if rest else ANY_ORACLE)
        return cls(TITLE, text)

    def matches(self, run: RunRecord) -> bool:
        if run.verdict != Verdict.FAIL:
            return False
        if self.kind == TITLE:
            return self.text in run.titles
        keys = oracle_keys(run.oracle_failures)
        return bool(keys) if self.text == ANY_ORACLE else self.text in keys

    def __str__(self) -> str:
        return self.text if self.kind == TITLE else ORACLE_PREFIX + self.text


ANY_ORACLE = "*"


@dataclass
class Step:
    """One commit tested: its verdict and the runs behind it."""

    commit: str
    subject: str
    role: str  # BAD_ENDPOINT, GOOD_ENDPOINT or STEP
    verdict: str  # GOOD, BAD or SKIP
    planned_runs: int
    runs: list[RunRecord] = field(default_factory=list)
    reason: str = ""  # one line: why this verdict
    error_kind: str = ""  # build / boot / user, for a skip
    seconds: float = 0.0
    log_dir: str = ""

    @property
    def completed_runs(self) -> int:
        """Runs that exercised the kernel (not errors, not skips): the evidence."""
        return sum(1 for r in self.runs if r.verdict in COMPLETED)

    @property
    def titles(self) -> list[str]:
        """Every distinct signature its runs showed, in order of first appearance."""
        seen: list[str] = []
        for r in self.runs:
            for s in r.signatures:
                if s not in seen:
                    seen.append(s)
        return seen

    @property
    def build_seconds(self) -> float:
        """Checkout + build: what the step spent outside its runs."""
        return max(0.0, round(self.seconds - sum(r.seconds for r in self.runs), 1))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["completed_runs"] = self.completed_runs
        d["titles"] = self.titles
        d["build_seconds"] = self.build_seconds
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Step":
        kw = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        kw["runs"] = [RunRecord.from_dict(r) for r in d.get("runs", [])]
        return cls(**kw)


@dataclass
class Culprit:
    commit: str
    subject: str


@dataclass
class BisectResult:
    """The answer. ``culprit`` is None when skips leave several candidates."""

    good: str
    bad: str
    target: Target
    reproduced: int  # target hits among ...
    endpoint_runs: int  # ... the BAD endpoint's completed runs
    rate: float
    runs_per_step: int
    culprit: Culprit | None
    candidates: list[Culprit]  # more than one when skips hid the answer
    confidence: float
    steps: list[Step]

    @property
    def bisect_steps(self) -> int:
        """Steps proper (endpoint checks not counted): what log2 of the range predicts."""
        return sum(1 for s in self.steps if s.role == STEP)

    def to_dict(self) -> dict:
        return {
            "good": self.good,
            "bad": self.bad,
            "target": {"kind": self.target.kind, "text": self.target.text},
            "reproduced": self.reproduced,
            "endpoint_runs": self.endpoint_runs,
            "reproduction_rate": round(self.rate, 4),
            "runs_per_step": self.runs_per_step,
            "culprit": asdict(self.culprit) if self.culprit else None,
            "candidates": [asdict(c) for c in self.candidates],
            "confidence": round(self.confidence, 4),
            "bisect_steps": self.bisect_steps,
            "steps": [s.to_dict() for s in self.steps],
        }

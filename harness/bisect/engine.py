"""The bisection itself: pure logic over a history and a commit tester.

Nothing here builds or boots. The engine is handed

- a ``History``: which commits are still suspects, best bisection point
  first (``GitHistory`` asks ``git rev-list --bisect-all``), and subjects;
- a ``CommitTester``: ``test_commit(rev)`` returns an iterator of
  ``RunRecord``s, building the kernel before the first one and doing one
  run per ``next()``. It raises BuildError / BootError when the commit
  cannot be tested. The engine pulls only as many runs as it needs, so
  stopping at the first reproduction is its decision, not the tester's.

Verdicts: a run counts against a commit only when it fails with the target
signature; a failure with another title is a different bug and counts as a
run that did not reproduce. Build and boot errors skip the commit, like
``git bisect skip``. Flakiness: the BAD endpoint is run ``runs`` times in
full to estimate the reproduction rate p; every later commit gets enough
runs that a bad one passes as good with probability < 5% (see stats).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from harness.bisect import git, stats
from harness.bisect.model import (
    BAD,
    BAD_ENDPOINT,
    GOOD,
    GOOD_ENDPOINT,
    SKIP,
    STEP,
    BisectResult,
    Culprit,
    RunRecord,
    Step,
    Target,
)
from harness.bisect.state import State
from harness.errors import BootError, BuildError, InfraError, UserError
from harness.verdict import ErrorKind, Verdict

CommitTester = Callable[[str], Iterable[RunRecord]]
# Run errors that skip the commit, like ``git bisect skip``: the commit cannot be tested.
SKIPPED_KINDS = (ErrorKind.BUILD, ErrorKind.BOOT)
Progress = Callable[[str], None]


class History(Protocol):
    def candidates(self, bad: str, goods: list[str]) -> list[str]:
        """Commits reachable from bad and from no good (bad included), best midpoint first."""
        ...

    def subject(self, rev: str) -> str: ...


class GitHistory:
    """The History of a git repository (the user's: only read)."""

    def __init__(self, repo: Path):
        self.repo = Path(repo)

    def candidates(self, bad: str, goods: list[str]) -> list[str]:
        return git.candidates(self.repo, bad, goods)

    def subject(self, rev: str) -> str:
        return git.subject(self.repo, rev)


@dataclass(frozen=True)
class Settings:
    good: str  # full hashes
    bad: str
    runs: int = 3  # --runs: the BAD endpoint's sample, and the least any commit gets
    max_runs: int = 20  # the ceiling when flakiness asks for more
    signature: str = ""  # --signature: the target, instead of BAD's first one
    miss: float = stats.MISS

    def to_dict(self) -> dict:
        return asdict(self)


class _Skip(Exception):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


class Bisector:
    def __init__(
        self,
        history: History,
        test_commit: CommitTester,
        settings: Settings,
        *,
        state: State | None = None,
        save: Callable[[State], None] | None = None,
        progress: Progress | None = None,
        log_dir: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.history = history
        self.test_commit = test_commit
        self.settings = settings
        self.state = state if state is not None else State(settings.to_dict())
        self._save = save or (lambda s: None)
        self._say = progress or (lambda m: None)
        self._log_dir = log_dir or (lambda rev: "")
        self._clock = clock

    # ---- the bisection ----

    def run(self) -> BisectResult:
        s = self.settings
        bad_ep = self._step(s.bad, BAD_ENDPOINT, s.runs, None)
        target = self._target(bad_ep)
        reproduced = sum(1 for r in bad_ep.runs if target.matches(r))
        p = stats.rate(reproduced, bad_ep.completed_runs)
        per_step = stats.runs_per_step(p, s.runs, s.max_runs, s.miss)
        self._announce(target, reproduced, bad_ep.completed_runs, p, per_step)

        good_ep = self._step(s.good, GOOD_ENDPOINT, per_step, target)
        if good_ep.verdict == BAD:
            raise UserError(
                f"GOOD {s.good[:12]} reproduces the failure too ({target}): it is not a good endpoint"
                f" (logs: {good_ep.log_dir or 'none'})"
            )
        self._endpoint_must_run(good_ep, "GOOD")

        bad, goods, skipped = s.bad, [s.good], set()
        while True:
            suspects = [c for c in self.history.candidates(bad, goods) if c != bad]
            untested = [c for c in suspects if c not in skipped]
            if not untested:
                break
            rev = untested[0]
            left = stats.steps_left(len(untested))
            n = len(untested)
            self._say(f"bisect: {n} untested suspect{'s' if n != 1 else ''} left, about {left} step{'s' if left != 1 else ''}")
            step = self._step(rev, STEP, per_step, target)
            if step.verdict == BAD:
                bad = rev
            elif step.verdict == GOOD:
                goods.append(rev)
            else:
                skipped.add(rev)

        culprit = Culprit(bad, self._subject(bad)) if not suspects else None
        candidates = [Culprit(c, self._subject(c)) for c in [bad, *suspects]]
        good_runs = [st.completed_runs for st in self.state.steps if st.verdict == GOOD]
        return BisectResult(
            good=s.good,
            bad=s.bad,
            target=target,
            reproduced=reproduced,
            endpoint_runs=bad_ep.completed_runs,
            rate=p,
            runs_per_step=per_step,
            culprit=culprit,
            candidates=candidates,
            confidence=stats.confidence(p, good_runs) if culprit else 0.0,
            steps=list(self.state.steps),
        )

    def _target(self, bad_ep: Step) -> Target:
        """The target signature, from --signature or BAD's first failing run."""
        short = self.settings.bad[:12]
        self._endpoint_must_run(bad_ep, "BAD")
        if self.settings.signature:
            target = Target.parse(self.settings.signature)
        else:
            target = next((t for t in map(Target.first_of, bad_ep.runs) if t is not None), None)
        if target is None:
            raise UserError(
                f"BAD {short} does not reproduce: {bad_ep.completed_runs} runs of the scenario passed"
                " (a rare failure needs more --runs)"
            )
        if not any(target.matches(r) for r in bad_ep.runs):
            seen = "; ".join(bad_ep.titles) or "nothing"
            raise UserError(f"BAD {short} does not show {target} in {len(bad_ep.runs)} runs (it showed: {seen})")
        # Recorded only now: a BAD that did not reproduce is worth simply running again.
        bad_ep.verdict = BAD
        bad_ep.reason = f"{sum(1 for r in bad_ep.runs if target.matches(r))}/{bad_ep.completed_runs} runs reproduced"
        self._record(bad_ep)
        return target

    def _endpoint_must_run(self, step: Step, which: str) -> None:
        if step.verdict != SKIP:
            return
        msg = f"{which} {step.commit[:12]} cannot be tested: {step.reason}; choose another {which}"
        # Build and boot failures are the kernel's (exit 3); a config or scenario
        # that cannot apply to this endpoint at all is the request's (exit 2).
        error = {ErrorKind.BUILD: BuildError, ErrorKind.BOOT: BootError}.get(step.error_kind, UserError)
        raise error(msg, log=step.log_dir or None)

    def _announce(self, target: Target, reproduced: int, runs: int, p: float, per_step: int) -> None:
        self._say(f"bisect: target {target} ({target.kind}); BAD reproduced it in {reproduced}/{runs} runs")
        if per_step > self.settings.runs:
            self._say(f"bisect: flaky (p={p:.2f}): {per_step} runs per step keep a missed reproduction under "
                      f"{self.settings.miss:.0%} per step")
        if stats.miss_chance(p, per_step) >= self.settings.miss:
            self._say(f"bisect: warning: --max-runs {self.settings.max_runs} caps the runs; a bad commit passes "
                      f"as good with probability {stats.miss_chance(p, per_step):.0%} per step")

    # ---- one commit ----

    def _step(self, rev: str, role: str, runs: int, target: Target | None) -> Step:
        done = self.state.find(rev)
        if done is not None:
            self._say(f"bisect: {rev[:12]}: {done.verdict} (recorded in the state file)")
            return done
        step = Step(rev, self._subject(rev), role, GOOD, runs, log_dir=self._log_dir(rev))
        what = {BAD_ENDPOINT: "BAD endpoint", GOOD_ENDPOINT: "GOOD endpoint", STEP: "step"}[role]
        self._say(f"bisect: {what} {rev[:12]} {step.subject!r}: up to {runs} runs")
        start = self._clock()
        try:
            self._runs(step, runs, target)
        except _Skip as e:
            step.verdict, step.error_kind, step.reason = SKIP, e.kind, e.reason
        step.seconds = round(self._clock() - start, 1)
        if step.verdict != SKIP and target is not None:
            self._judge(step, target)
        if role != BAD_ENDPOINT:  # BAD is judged (and recorded) once its target is known
            self._record(step)
        if step.verdict == SKIP or target is not None:
            self._say(f"bisect: {rev[:12]}: {step.verdict} ({step.reason}) in {step.seconds:.0f}s")
        return step

    def _runs(self, step: Step, runs: int, target: Target | None) -> None:
        """Pull runs from the tester until enough, or the target shows, or the commit must be skipped."""
        it: Iterator[RunRecord] | None = None
        try:
            it = iter(self.test_commit(step.commit))
            while len(step.runs) < runs:
                rec = next(it, None)
                if rec is None:
                    break
                step.runs.append(rec)
                self._say(f"bisect: {step.commit[:12]} run {len(step.runs)}/{runs}: {rec.verdict}"
                          f"{' ' + rec.signatures[0] if rec.signatures else ''}")
                if rec.verdict == Verdict.ERROR:
                    if rec.error_kind in SKIPPED_KINDS:
                        raise _Skip(rec.error_kind, f"{rec.error_kind} error: {rec.message}")
                    if rec.error_kind == ErrorKind.USER:
                        raise UserError(rec.message)
                    raise InfraError(f"testing {step.commit[:12]}: {rec.message}", log=rec.log or None)
                if rec.verdict == Verdict.SKIP:
                    raise _Skip("user", f"scenario cannot run on this kernel: {rec.message}")
                if target is not None and target.matches(rec):
                    break  # one reproduction settles it; more runs would only cost time
        except (BuildError, BootError) as e:
            # The log path is the step's own (log_dir): the reason stays one short line.
            raise _Skip(e.kind, f"{e.kind} error: {e.message}") from e
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
        if not step.runs:
            raise _Skip("build", "the tester produced no run")

    def _judge(self, step: Step, target: Target) -> None:
        hits = [r for r in step.runs if target.matches(r)]
        others = [r for r in step.runs if r.verdict == Verdict.FAIL and not target.matches(r)]
        if hits:
            step.verdict, step.reason = BAD, f"run {step.runs.index(hits[0]) + 1} reproduced it"
            return
        step.verdict = GOOD
        step.reason = f"no reproduction in {step.completed_runs} runs"
        if others:
            first = others[0].signatures[0] if others[0].signatures else "a failure"
            step.reason += f"; {len(others)} failed otherwise ({first}): not the target"

    def _record(self, step: Step) -> None:
        self.state.record(step)
        self._save(self.state)

    def _subject(self, rev: str) -> str:
        recorded = self.state.find(rev)
        return recorded.subject if recorded else self.history.subject(rev)

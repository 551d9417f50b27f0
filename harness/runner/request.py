"""What one run is asked to do (``Run``), and where it runs (``Testbed``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.kbuild.build import Kernel
from harness.paths import safe_name
from harness.plan import Plan
from harness.verdict import ErrorKind, RunResult, Verdict, item_id


@dataclass(frozen=True)
class Run:
    """One scenario run: the request every driver builds, and the only place
    the seed and the item id are decided."""

    scenario: Any  # a harness.scenarios.Scenario (anything with .name in tests)
    index: int  # the repetition, from 0
    duration: int  # seconds of stress
    side: str = ""  # verify's "baseline" / "patched"; "" elsewhere
    # Run this guest command instead of the scenario's program (a peer such as
    # stress-ng, in the scenario's VM setup); nothing is uploaded then.
    command: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def seed(self) -> int:
        # Run i gets the same seed everywhere (both sides of a verify, every
        # commit of a bisect, every session): runs compare like for like.
        return 1 + self.index

    @property
    def item(self) -> str:
        return item_id(self.name, self.index)

    @property
    def id(self) -> str:
        """The item id, with verify's side in front."""
        return f"{self.side}/{self.item}" if self.side else self.item

    @property
    def stem(self) -> str:
        """The run's file-name stem: its VM dir and its item JSON are named by it."""
        return safe_name(f"{self.name}-{self.index}")


@dataclass(frozen=True)
class Testbed:
    """The kernel, the guest image and the VM's size and console rules, shared by many runs."""

    __test__ = False  # pytest: not a test class, whatever its name says

    kernel: Kernel
    image: Any  # rootfs, ssh_key, ready_marker (harness.image.Image)
    memory_mb: int = 2048
    cpus: int = 2
    suppressions: tuple = field(default=())  # compiled regexes of reports not to count

    @classmethod
    def for_plan(cls, kernel: Kernel, image: Any, plan: Plan) -> "Testbed":
        """The plan's VM size and suppressions (its fragments were the kernel's business)."""
        return cls(kernel, image, plan.memory_mb, plan.cpus, tuple(plan.compiled_suppressions))


def item_file(items_dir: Path, run: Run) -> Path:
    return items_dir / f"{run.stem}.json"


def error_result(run: Run, e: Exception) -> RunResult:
    """The result of a run the harness could not carry out: a boot error stays
    one, anything else (a HarnessError, or a bug of ours) is infrastructure."""
    if isinstance(e, HarnessError):
        kind, message = (ErrorKind.BOOT if e.kind == ErrorKind.BOOT else ErrorKind.INFRASTRUCTURE), e.message
    else:
        kind, message = ErrorKind.INFRASTRUCTURE, f"{type(e).__name__}: {e}"
    return RunResult(run.name, run.index, Verdict.ERROR, error_kind=kind, message=message, seed=run.seed)

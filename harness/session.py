"""A regression session: prepare the kernel and image once, run items, collect results.

Shared by `harness run` and the pytest plugin (where the controller prepares
and every xdist worker runs items against the same artifacts).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness import plan as plan_mod
from harness import scenarios
from harness.kbuild import Kernel, get_kernel
from harness.paths import results_dir, safe_name
from harness.results import RunMeta, summary_table, write_all
from harness.run import RunSpec, run_scenario
from harness.verdict import RunResult, exit_code

Progress = Callable[[str], None]


def stderr_progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"


@dataclass
class Prepared:
    """What workers need to run items: plain paths, so it crosses process boundaries as JSON."""

    bzimage: str
    vmlinux: str | None
    config_path: str | None
    build_log: str | None
    kernel_source: str
    rootfs: str
    ssh_key: str
    ready_marker: str
    run_dir: str
    build_seconds: float = 0.0

    def kernel(self) -> Kernel:
        return Kernel(
            Path(self.bzimage),
            Path(self.vmlinux) if self.vmlinux else None,
            Path(self.config_path) if self.config_path else None,
            build_log=Path(self.build_log) if self.build_log else None,
            source=self.kernel_source,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> "Prepared":
        return cls(**json.loads(text))


@dataclass
class _Image:
    rootfs: Path
    ssh_key: Path
    ready_marker: str


def prepare(kernel_spec: str | None, plan: plan_mod.Plan, run_dir: Path, progress: Progress = stderr_progress) -> Prepared:
    from harness.image import ensure_image

    t0 = time.monotonic()
    kernel = get_kernel(kernel_spec, extra_fragments=list(plan.fragments), progress=progress)
    build_seconds = time.monotonic() - t0 if kernel.rebuilt else 0.0
    image = ensure_image(progress=progress)
    run_dir.mkdir(parents=True, exist_ok=True)
    return Prepared(
        bzimage=str(kernel.bzimage),
        vmlinux=str(kernel.vmlinux) if kernel.vmlinux and kernel.vmlinux.exists() else None,
        config_path=str(kernel.config_path) if kernel.config_path else None,
        build_log=str(kernel.build_log) if kernel.build_log else None,
        kernel_source=kernel.source or str(kernel_spec or "debian"),
        rootfs=str(image.rootfs),
        ssh_key=str(image.ssh_key),
        ready_marker=image.ready_marker,
        run_dir=str(run_dir),
        build_seconds=build_seconds,
    )


@dataclass(frozen=True)
class Item:
    scenario: str
    index: int
    duration: int

    @property
    def id(self) -> str:
        return f"{self.scenario}#{self.index}"


def items(plan: plan_mod.Plan, duration: int | None = None, runs: int | None = None, only: list[str] | None = None) -> list[Item]:
    out = []
    for it in plan.items:
        if only and it.name not in only:
            continue
        sc = scenarios.get(it.name)
        for i in range(runs or it.runs):
            out.append(Item(it.name, i, duration or it.duration or sc.duration))
    return out


def run_item(prep: Prepared, plan: plan_mod.Plan, item: Item, progress: Progress = stderr_progress) -> RunResult:
    run_dir = Path(prep.run_dir)
    workdir = run_dir / "vms" / safe_name(f"{item.scenario}-{item.index}")
    spec = RunSpec(
        scenarios.get(item.scenario),
        item.duration,
        index=item.index,
        seed=1 + item.index,
        memory_mb=plan.memory_mb,
        cpus=plan.cpus,
        suppressions=list(plan.compiled_suppressions),
    )
    image = _Image(Path(prep.rootfs), Path(prep.ssh_key), prep.ready_marker)
    result = run_scenario(prep.kernel(), image, spec, workdir, progress)
    items_dir = run_dir / "items"
    items_dir.mkdir(parents=True, exist_ok=True)
    (items_dir / f"{safe_name(item.scenario)}-{item.index}.json").write_text(json.dumps(result.to_dict(), indent=2))
    progress(f"{item.id}: {result.verdict}{'(' + result.error_kind + ')' if result.error_kind else ''} {result.message}")
    return result


def collect(run_dir: Path) -> list[RunResult]:
    results = []
    for p in sorted((run_dir / "items").glob("*.json")):
        results.append(RunResult.from_dict(json.loads(p.read_text())))
    results.sort(key=lambda r: (r.scenario, r.index))
    return results


def finish(prep: Prepared, results: list[RunResult]) -> tuple[int, str]:
    """Write every result file; return (exit code, summary table)."""
    run_dir = Path(prep.run_dir)
    meta = RunMeta(
        run_id=run_dir.name,
        kernel_source=prep.kernel_source,
        bzimage=prep.bzimage,
        config_path=prep.config_path or "",
        build_log=prep.build_log or "",
        build_seconds=prep.build_seconds,
    )
    files = write_all(run_dir, results, meta)
    table = summary_table(results)
    return exit_code(results), table + f"\nresults: {run_dir}\npage: {files['page']}"


def default_run_dir() -> Path:
    return results_dir() / new_run_id()

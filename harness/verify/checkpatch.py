"""The tree's own scripts/checkpatch.pl on each patch: its summary line, kept.

Style is not the verdict's business (a patch that breaks nothing is
``no-change`` whatever checkpatch says), but a reviewer will run it, so the
report carries its "total: ..." line. A tree without checkpatch.pl, or a host
without perl, is noted, not an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from harness import proc

TIMEOUT = 180
_TOTAL = re.compile(
    r"^total: (?P<errors>\d+) errors?, (?P<warnings>\d+) warnings?,(?: (?P<checks>\d+) checks?,)? (?P<lines>\d+) lines? checked",
    re.M,
)


@dataclass(frozen=True)
class PatchCheck:
    label: str
    summary: str  # checkpatch's own "total: ..." line, or why there is none
    errors: int = 0
    warnings: int = 0
    checks: int = 0
    lines: int = 0


@dataclass
class Checkpatch:
    available: bool
    summary: str
    patches: list[PatchCheck] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(p.errors for p in self.patches)

    @property
    def warnings(self) -> int:
        return sum(p.warnings for p in self.patches)

    def to_json(self) -> dict:
        return {
            "available": self.available,
            "summary": self.summary,
            "errors": self.errors if self.available else None,
            "warnings": self.warnings if self.available else None,
            "patches": [p.__dict__ for p in self.patches],
        }


def parse_summary(output: str) -> PatchCheck | None:
    m = _TOTAL.search(output)
    if not m:
        return None
    return PatchCheck(
        "",
        m.group(0),
        int(m.group("errors")),
        int(m.group("warnings")),
        int(m.group("checks") or 0),
        int(m.group("lines")),
    )


def run_checkpatch(tree: Path, patches: list[tuple[str, Path]]) -> Checkpatch:
    """Run ``checkpatch.pl --no-tree`` from ``tree`` on each (label, file); never raises."""
    script = Path(tree) / "scripts" / "checkpatch.pl"
    if not script.is_file():
        return Checkpatch(False, f"not run: {script} not found")
    if proc.which("perl") is None:
        return Checkpatch(False, "not run: perl is not installed")
    checks = []
    for label, path in patches:
        try:
            # --no-tree: the patch is checked as posted, not against the tree's
            # state; checkpatch exits 1 on any finding, which is not our failure.
            r = proc.run(["perl", script, "--no-tree", "--no-color", path], cwd=tree, timeout=TIMEOUT, check=False)
        except proc.ProcessError as e:
            checks.append(PatchCheck(label, f"not run: {e}"))
            continue
        if r.timed_out:
            checks.append(PatchCheck(label, f"timed out after {TIMEOUT}s"))
            continue
        found = parse_summary(r.stdout + r.stderr)
        if found is None:
            tail = (r.stdout + r.stderr).strip().splitlines()[-1:] or [f"exit {r.returncode}"]
            checks.append(PatchCheck(label, f"no summary line ({tail[0][:200]})"))
            continue
        checks.append(PatchCheck(label, found.summary, found.errors, found.warnings, found.checks, found.lines))
    counted = [c for c in checks if c.summary.startswith("total:")]
    if len(checks) == 1:
        summary = checks[0].summary
    else:
        summary = (
            f"total: {sum(c.errors for c in counted)} errors, {sum(c.warnings for c in counted)} warnings, "
            f"{sum(c.checks for c in counted)} checks, {sum(c.lines for c in counted)} lines checked "
            f"({len(counted)} of {len(checks)} patches checked)"
        )
    return Checkpatch(bool(counted), summary, checks)

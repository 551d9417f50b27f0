"""The bug corpus: kernel patches that re-introduce each seed bug family.

Each ``tests/bugs/NN-name.patch`` starts with a header of ``Key: value``
lines that ``patch`` ignores (everything before the first ``diff``/``---``
line). A value may continue on following lines indented by whitespace.

    Bug:         the name; must equal the file name without ``NN-`` and ``.patch``
    Models:      the historical commit or thread it re-creates
    Scenario:    the guest scenario that must catch it (one of SCENARIOS)
    Expect:      ``title <report title>`` or ``oracle <oracle name>``
    Also:        (optional, repeatable) another signature that also counts
    Delay:       the deliberate window amplifier, or ``none``
    Description: what the patch breaks and why the scenario sees it

In an expected title, ``*`` matches any run of characters and nothing else
is special: titles carry brackets and dots that must match literally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.errors import InfraError, UserError
from harness.paths import REPO

BUGS_DIR = REPO / "tests" / "bugs"

# The guest scenarios of issue 4; a header naming anything else is a typo.
SCENARIOS = (
    "kprobe-churn",
    "eventfs-lookup-race",
    "symlink-reclaim",
    "symlink-reclaim-ext4",
    "negdentry-inotify",
    "umount-check",
)

# Oracle failures the scenarios report by name (their JSON counters and exit
# status), as opposed to kernel reports titled from the console.
ORACLES = (
    "spurious-ENOENT",  # a name that exists (readdir shows it, or add returned) fails lookup
    "ghost-file",  # a removed event's file still stats or opens (anything but ENOENT)
    "find-loop",  # find(1) reports a file system loop under events/
    "nr_negative-drift",  # dentry-state nr_negative does not come back after drop_caches
    "scaling",  # an operation's cost grew with the directory's size within one run (harness/scaling.py)
)

EXPECT_KINDS = ("title", "oracle")

_REQUIRED = ("Bug", "Models", "Scenario", "Expect", "Delay", "Description")
_OPTIONAL = ("Also",)
_REPEATABLE = ("Also",)

_FILE_RE = re.compile(r"^(\d\d)-([a-z0-9][a-z0-9-]*)\.patch$")
_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z-]*):(.*)$")
# Where the diff starts: patch(1) ignores everything above it.
_DIFF_START = ("diff ", "--- ")


@dataclass(frozen=True)
class Bug:
    name: str
    models: str
    scenario: str
    expect_kind: str  # "title" or "oracle"
    expect: str
    path: Path
    delay: str = "none"
    description: str = ""
    also: tuple[tuple[str, str], ...] = ()  # further (kind, signature) pairs that count
    files: tuple[str, ...] = ()  # kernel files the patch touches, tree-relative

    @property
    def number(self) -> int:
        return int(self.path.name[:2])

    @property
    def signatures(self) -> tuple[tuple[str, str], ...]:
        return ((self.expect_kind, self.expect),) + self.also

    def matches(self, kind: str, text: str) -> bool:
        """Whether an observed title or oracle name is one this bug expects."""
        return any(k == kind and _glob(sig).fullmatch(text.strip()) for k, sig in self.signatures)


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _header_lines(text: str) -> list[tuple[int, str]]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith(_DIFF_START):
            return out
        out.append((lineno, line))
    return out


def _parse_signature(value: str, path: Path, key: str) -> tuple[str, str]:
    kind, _, sig = value.partition(" ")
    sig = sig.strip()
    if kind not in EXPECT_KINDS or not sig:
        raise UserError(
            f"{path}: header {key}: {value!r} is not 'title <report title>' or 'oracle <name>'"
        )
    if kind == "oracle" and sig not in ORACLES:
        raise UserError(f"{path}: header {key}: unknown oracle {sig!r} (known: {', '.join(ORACLES)})")
    return kind, sig


def parse(text: str, path: Path) -> Bug:
    """Parse one patch's header; every mistake is a UserError naming file and key."""
    path = Path(path)
    m = _FILE_RE.match(path.name)
    if not m:
        raise UserError(f"{path}: bug patches are named NN-short-name.patch (e.g. 01-eventfs-negative-dentry.patch)")
    fields: dict[str, list[str]] = {}
    key = None
    for lineno, line in _header_lines(text):
        if not line.strip():
            key = None
            continue
        if line[0] in " \t":
            if key is None:
                raise UserError(f"{path}:{lineno}: indented line continues no header key")
            fields[key][-1] += " " + line.strip()
            continue
        km = _KEY_RE.match(line)
        if not km:
            raise UserError(f"{path}:{lineno}: header line is not 'Key: value': {line[:60]!r}")
        key = km.group(1)
        if key not in _REQUIRED + _OPTIONAL:
            raise UserError(
                f"{path}:{lineno}: header key {key!r} unknown (known: {', '.join(_REQUIRED + _OPTIONAL)})"
            )
        if key in fields and key not in _REPEATABLE:
            raise UserError(f"{path}:{lineno}: header key {key} given twice")
        fields.setdefault(key, []).append(km.group(2).strip())
    for k in _REQUIRED:
        if k not in fields or not fields[k][0]:
            raise UserError(f"{path}: header key {k} missing or empty")
    one = {k: v[0] for k, v in fields.items()}

    if one["Bug"] != m.group(2):
        raise UserError(f"{path}: header Bug: {one['Bug']!r} differs from the file name's {m.group(2)!r}")
    if one["Scenario"] not in SCENARIOS:
        raise UserError(
            f"{path}: header Scenario: unknown scenario {one['Scenario']!r} (known: {', '.join(SCENARIOS)})"
        )
    expect_kind, expect = _parse_signature(one["Expect"], path, "Expect")
    also = tuple(_parse_signature(v, path, "Also") for v in fields.get("Also", []))

    files = tuple(
        line[len("+++ b/") :].split("\t")[0].strip()
        for line in text.splitlines()
        if line.startswith("+++ b/")
    )
    if not files:
        raise UserError(f"{path}: no '+++ b/<file>' line: not a -p1 unified diff")
    return Bug(
        name=one["Bug"],
        models=one["Models"],
        scenario=one["Scenario"],
        expect_kind=expect_kind,
        expect=expect,
        path=path,
        delay=one["Delay"],
        description=one["Description"],
        also=also,
        files=files,
    )


def load(path: str | Path) -> Bug:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read bug patch: {e}") from e
    return parse(text, path)


def all_bugs(directory: str | Path | None = None) -> list[Bug]:
    """Every bug of the corpus, in file-name (NN) order."""
    d = Path(directory) if directory is not None else BUGS_DIR
    bugs = [load(p) for p in sorted(d.glob("*.patch"))]
    seen: dict[str, Path] = {}
    for b in bugs:
        for other in (b.name, f"{b.number:02d}"):
            if other in seen:
                raise UserError(f"{b.path}: bug {other} also defined by {seen[other]}")
            seen[other] = b.path
    return bugs


def get(name: str, directory: str | Path | None = None) -> Bug:
    """A bug by name (or by its NN number), or a UserError listing the known ones."""
    bugs = all_bugs(directory)
    for b in bugs:
        if name in (b.name, f"{b.number:02d}", str(b.number), b.path.name):
            return b
    raise UserError(f"unknown bug {name!r} (known: {', '.join(b.name for b in bugs)})")


def check_applies(bug: Bug, tree: str | Path) -> None:
    """Dry-run the patch on a kernel tree; a UserError says which hunk failed."""
    try:
        r = proc.run(
            ["patch", "-p1", "--dry-run", "--forward", "--batch", "--fuzz=0", "-i", bug.path],
            cwd=tree,
            check=False,
            timeout=60,
        )
    except proc.ProcessError as e:
        raise InfraError(f"cannot run patch(1) on {bug.path.name}: {e}") from e
    out = (r.stdout + r.stderr).strip()
    # An offset is tolerated (the context still matches exactly); fuzz is
    # not: it means the code the patch was written against has changed.
    if not r.ok or "FAILED" in out or "fuzz" in out:
        tail = "\n".join(out.splitlines()[-6:])
        raise UserError(f"{bug.path.name} does not apply cleanly to {tree}", detail=tail)

"""The YAML plan: which scenarios, how long, how often, extra fragments, suppressions.

Loaded with safe_load and validated key by key; a bad plan is one UserError
line naming the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import UserError
from harness.paths import REPO

DEFAULT_PLAN = REPO / "plans" / "default.yaml"
TOP_KEYS = {"scenarios", "fragments", "suppressions", "vm", "runs", "duration"}
ITEM_KEYS = {"name", "duration", "runs"}
VM_KEYS = {"memory_mb", "cpus"}


@dataclass(frozen=True)
class PlanItem:
    name: str
    duration: int | None  # None: the scenario's default
    runs: int


@dataclass(frozen=True)
class Plan:
    path: Path
    items: tuple[PlanItem, ...]
    fragments: tuple[str, ...] = ()
    suppressions: tuple[str, ...] = ()
    memory_mb: int = 2048
    cpus: int = 2
    compiled_suppressions: tuple = field(default=(), compare=False)

    def kernel_and_vm(self) -> dict:
        """The plan's kernel and VM options, as keywords for bisect's and verify's testers."""
        return {
            "fragments": list(self.fragments),
            "suppressions": list(self.compiled_suppressions),
            "memory_mb": self.memory_mb,
            "cpus": self.cpus,
        }


def _bad(path: Path, key: str, what: str) -> UserError:
    return UserError(f"{path}: {key}: {what}")


def _positive_int(path: Path, key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _bad(path, key, f"expected a positive integer, got {value!r}")
    return value


def _str_list(path: Path, key: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(path, key, "expected a list of strings")
    return tuple(value)


def _unknown(path: Path, prefix: str, keys, allowed: set[str]) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise _bad(path, f"{prefix}{extra[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def read_text(path: Path, what: str) -> str:
    """A small text file the user named, as UTF-8; one UserError line for
    anything else (missing, a directory, a binary, another encoding)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read {what}: {e.strerror}") from e
    if b"\0" in data:
        raise UserError(f"{path}: not a {what}: a binary file (NUL bytes), expected YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise UserError(
            f"{path}: {what} is not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}, column {column}"
        ) from e


def load(path: str | Path | None = None, known_scenarios: set[str] | None = None) -> Plan:
    path = Path(path) if path else DEFAULT_PLAN
    try:
        data = yaml.safe_load(read_text(path, "plan"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from e
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with a 'scenarios' list at the top")
    _unknown(path, "", data.keys(), TOP_KEYS)
    default_runs = _positive_int(path, "runs", data.get("runs", 1))
    default_duration = data.get("duration")
    if default_duration is not None:
        default_duration = _positive_int(path, "duration", default_duration)
    raw = data.get("scenarios")
    if not isinstance(raw, list) or not raw:
        raise _bad(path, "scenarios", "expected a non-empty list")
    items = []
    for i, entry in enumerate(raw):
        key = f"scenarios[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise _bad(path, key, "expected a scenario name or a mapping with 'name'")
        _unknown(path, f"{key}.", entry.keys(), ITEM_KEYS)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise _bad(path, f"{key}.name", "missing scenario name")
        if known_scenarios is not None and name not in known_scenarios:
            raise _bad(path, f"{key}.name", f"unknown scenario {name!r} (known: {', '.join(sorted(known_scenarios))})")
        duration = entry.get("duration", default_duration)
        if duration is not None:
            duration = _positive_int(path, f"{key}.duration", duration)
        runs = _positive_int(path, f"{key}.runs", entry.get("runs", default_runs))
        items.append(PlanItem(name, duration, runs))
    vm = data.get("vm") or {}
    if not isinstance(vm, dict):
        raise _bad(path, "vm", "expected a mapping")
    _unknown(path, "vm.", vm.keys(), VM_KEYS)
    suppressions = _str_list(path, "suppressions", data.get("suppressions"))
    compiled = []
    for i, rx in enumerate(suppressions):
        try:
            compiled.append(re.compile(rx))
        except re.error as e:
            raise _bad(path, f"suppressions[{i}]", f"bad regex: {e}") from e
    return Plan(
        path=path,
        items=tuple(items),
        fragments=_str_list(path, "fragments", data.get("fragments")),
        suppressions=suppressions,
        memory_mb=_positive_int(path, "vm.memory_mb", vm.get("memory_mb", 2048)),
        cpus=_positive_int(path, "vm.cpus", vm.get("cpus", 2)),
        compiled_suppressions=tuple(compiled),
    )

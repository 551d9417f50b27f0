"""Suppressions: known noise, as a YAML list of regexes, per run or per scenario.

The file is a plain list, or a mapping with a ``suppressions:`` list::

    # a line of WARNING noise this kernel prints at every boot
    - 'WARNING: .* at drivers/gpu/drm/'
    - 'INFO: task .* blocked for more than \\d+ seconds'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Union

import yaml

from harness.errors import UserError

Suppressions = Iterable[Union[str, bytes, "re.Pattern[str]", "re.Pattern[bytes]"]]


def _as_str_pattern(p: str | bytes | re.Pattern) -> re.Pattern[str]:
    if isinstance(p, re.Pattern):
        if isinstance(p.pattern, bytes):
            return re.compile(p.pattern.decode("utf-8", "replace"), p.flags & ~re.ASCII)
        return p
    if isinstance(p, bytes):
        p = p.decode("utf-8", "replace")
    return re.compile(p)


def compile_suppressions(patterns: Suppressions | None) -> list[re.Pattern[str]]:
    """Regex strings or compiled patterns -> compiled str patterns (bad regexes raise UserError)."""
    out = []
    for i, p in enumerate(patterns or ()):
        try:
            out.append(_as_str_pattern(p))
        except re.error as e:
            raise UserError(f"suppression #{i + 1} {p!r} is not a valid regex: {e}") from e
    return out


def load_suppressions(path: str | os.PathLike) -> list[re.Pattern[str]]:
    """Read a suppressions YAML file; every mistake is a UserError naming file and key."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read suppressions file {p}: {getattr(e, 'strerror', None) or e}") from e
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}:{where} is not valid YAML: {getattr(e, 'problem', None) or e}") from e
    key = "suppressions"
    if data is None:
        return []
    if isinstance(data, dict):
        unknown = sorted(str(k) for k in data if k != key)
        if unknown:
            raise UserError(f"{p}: unknown key {unknown[0]!r}; expected a list of regexes or '{key}:'")
        data = data.get(key) or []
    if not isinstance(data, list):
        raise UserError(f"{p}: {key} must be a list of regex strings, got {type(data).__name__}")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, str):
            raise UserError(f"{p}: {key}[{i}] must be a regex string, got {type(item).__name__}: {item!r}")
        try:
            out.append(re.compile(item))
        except re.error as e:
            raise UserError(f"{p}: {key}[{i}] {item!r} is not a valid regex: {e}") from e
    return out

"""Reading the project's YAML inputs (plans, known-issue lists): one place.

Loaded with safe_load; anything wrong is one UserError line that names the
file and, where there is one, the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from harness.errors import UserError


def bad(path: Path, key: str, what: str) -> UserError:
    return UserError(f"{path}: {key}: {what}")


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


def read(path: Path, what: str) -> Any:
    """The parsed document; a missing, unreadable, non-UTF-8 or non-YAML file is a UserError."""
    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from e


def unknown_keys(path: Path, prefix: str, keys: Iterable, allowed: set[str]) -> None:
    extra = sorted(str(k) for k in set(keys) - allowed)
    if extra:
        raise bad(path, f"{prefix}{extra[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def str_list(path: Path, key: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(path, key, "expected a list of strings")
    return tuple(value)


def nonempty_str(path: Path, key: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(path, key, f"expected a non-empty string, got {value!r}")
    return value

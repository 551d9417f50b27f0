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


def read(path: Path, what: str) -> Any:
    """The parsed document; a missing, unreadable, non-UTF-8 or non-YAML file is a UserError."""
    try:
        text = path.read_bytes().decode("utf-8")
    except IsADirectoryError as e:
        raise UserError(f"{path}: cannot read {what}: is a directory") from e
    except OSError as e:
        raise UserError(f"{path}: cannot read {what}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        line = text_line(path, e.start)
        raise UserError(f"{path}: line {line}: not UTF-8 text (byte 0x{e.object[e.start]:02x}); is this a {what}?") from e
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from e


def text_line(path: Path, offset: int) -> int:
    try:
        return path.read_bytes()[:offset].count(b"\n") + 1
    except OSError:
        return 0


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

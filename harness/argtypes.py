"""argparse types and the help format, written once for every parser.

A bad value is argparse's own one-line error and exit 2 ("harness run:
error: argument --runs/-n: expected a positive integer, got '0'"), before
anything slow starts. The pytest plugin uses the same types, so
`make test RUNS=0` is refused in the same words.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_TO_MIB = {"K": 1 / 1024, "M": 1, "": 1, "G": 1024, "T": 1024 * 1024}


def positive_int(text: str) -> int:
    """A count or a number of seconds: an integer of at least 1."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """A count where 0 means "none" (e.g. validate's --peer-runs 0: skip the comparison)."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer of 0 or more, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer of 0 or more, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A timeout: a number of seconds above 0."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A probability strictly between 0 and 1 (a significance level)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def factor(text: str) -> float:
    """A minimum effect: how many times bigger or smaller, at least 1 ("2", "x2" and "1.5" all read)."""
    try:
        value = float(str(text).strip().removeprefix("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a factor of at least 1, such as 2 or x1.5, got {text!r}") from None
    if not 1 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a factor of at least 1, such as 2 or x1.5, got {text!r}")
    return value


def output_dir(text: str) -> str:
    """A directory to write results into: it may not exist yet, but it cannot be a file or under one.

    Checked here so that `--results some.log` is refused before a 15-minute
    build, not when the first result is stored.
    """
    path = Path(text)
    if not str(text).strip():
        raise argparse.ArgumentTypeError("expected a directory, got ''")
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                what = "is" if p == path else f"is under {p}, which is"
                raise argparse.ArgumentTypeError(f"{text} {what} a file, not a directory")
            break
    return text


def size_mib(text: str) -> int:
    """A memory size in MiB: "2048", "2048M", "2G" or "2GiB", as vng and QEMU's -m take it."""
    m = _SIZE.match(str(text))
    if not m:
        raise argparse.ArgumentTypeError(f"expected a size such as 2G or 2048M, got {text!r}")
    mib = int(m.group(1)) * _TO_MIB[m.group(2).upper()]
    if mib < 64 or mib != int(mib):
        raise argparse.ArgumentTypeError(f"expected a size of at least 64M in whole MiB, got {text!r}")
    return int(mib)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows every default that is a value.

    argparse's ArgumentDefaultsHelpFormatter also prints "(default: None)"
    and "(default: False)", which say nothing; a help text that already
    names its default is left alone.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default == []
            or default is argparse.SUPPRESS
            or action.option_strings == []
        ):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: the problem, and where help is.

    argparse prints the whole usage block first, which buries the line that
    names the problem; subparsers inherit this class.
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@dataclass(frozen=True)
class Invalid:
    """A value a ``deferred`` type refused, kept to be reported later."""

    text: str
    message: str


def deferred(check: Callable[[str], object]) -> Callable[[str], object]:
    """``check``, but a bad value becomes an ``Invalid`` instead of an argparse error.

    pytest turns an option's type error into a usage block and exit 4; the
    harness's plugin reports it itself (one line, exit 2) with ``invalid()``.
    """

    def parse(text: str) -> object:
        try:
            return check(text)
        except argparse.ArgumentTypeError as e:
            return Invalid(text, str(e))

    parse.__name__ = getattr(check, "__name__", "value")
    return parse


def invalid(options: dict[str, object]) -> str | None:
    """The first refused option as one line ("--runs: expected ..."), or None."""
    for name, value in options.items():
        if isinstance(value, Invalid):
            return f"{name}: {value.message}"
    return None

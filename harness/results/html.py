"""The pages' common ground: the Jinja2 environment, verdict colours, links, file excerpts.

A page is one HTML file with its CSS inline and its charts as inline SVG, so
it opens from disk with no network and no JavaScript; links to consoles and
result files are relative, so a results directory can be moved or copied as
a whole and still work.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2

from harness.results.text import clean

TEMPLATES = Path(__file__).with_name("templates")

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,  # report text and titles are kernel output: escape everything
    undefined=jinja2.StrictUndefined,  # a misspelt field is a test failure, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)


def seconds(v) -> str:
    """62.4 -> "62s", 3725 -> "1h02m"; "-" for nothing."""
    if v is None or v == "" or float(v) <= 0:
        return "-"
    v = float(v)
    if v < 100:
        return f"{v:.1f}s" if v < 10 else f"{v:.0f}s"
    m, s = divmod(int(round(v)), 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m"


def p_value(p) -> str:
    if p is None:
        return "-"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


_ENV.filters["seconds"] = seconds
_ENV.filters["p"] = p_value


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict word: "v-fail", "v-no-change"..."""
    return "v-" + "".join(c if c.isalnum() else "-" for c in (verdict or "unknown").lower())


_ENV.filters["vclass"] = verdict_class


def render(template: str, out: Path, **context) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    html = _ENV.get_template(template).render(**context)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)  # a reader never sees half a page
    return out


def link(target: str | Path | None, page_dir: Path) -> str:
    """``target`` relative to the page's directory, "" when it does not exist."""
    if not target:
        return ""
    path = Path(target)
    if not path.is_absolute():
        path = page_dir / path
    if not path.exists():
        return ""
    return Path(os.path.relpath(path, page_dir)).as_posix()


def read_lines(path: str | Path | None, limit_bytes: int = 32 << 20) -> list[str]:
    """A text file's lines, control bytes stripped; [] when it cannot be read."""
    if not path:
        return []
    try:
        with open(path, "rb") as f:
            data = f.read(limit_bytes)
    except OSError:
        return []
    return clean(data.decode("utf-8", "replace"), limit=len(data) + 1).split("\n")


def tail(lines: list[str], n: int) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines[-n:]

"""Charts for the results pages, as SVG text to inline in the HTML.

matplotlib draws them: it writes static SVG with no script and no network
reference, so a page opens from disk anywhere. Figures are made with the
object API (``Figure``), never pyplot: no global state, safe from threads and
xdist workers. Text stays text (``svg.fonttype: none``) so the page's font
applies and a title can be searched for.
"""

from __future__ import annotations

import functools
import io
import re
from types import ModuleType
from typing import TYPE_CHECKING

from harness.results.progress import FAILURE_KEYS, Progress

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@functools.cache
def _mpl() -> ModuleType:
    """matplotlib, loaded by the first chart drawn.

    Imported at the top, it (with numpy) was most of every harness
    command's start-up: about 0.4 s and 60 MB of RSS, paid by `harness
    analyze` and `--help` too, because the CLI imports every subcommand.
    """
    import matplotlib

    matplotlib.use("Agg")  # never a display, whatever MPLBACKEND says
    import matplotlib.figure
    import matplotlib.patches
    import matplotlib.ticker

    return matplotlib

INK, MUTED, GRID = "#1f2933", "#6b7785", "#e4e7eb"
RED, BLUE, GREY = "#c0392b", "#2b6cb0", "#a0aab4"
MAX_SERIES = 8

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 8,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ROOT_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _svg(fig: Figure, salt: str) -> str:
    """The figure as an <svg> element: no XML prolog, sized by the page's CSS."""
    buf = io.StringIO()
    with _mpl().rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.05)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Clip-path ids from two charts on one page must differ: the salt does that,
    # and the root keeps its viewBox so the chart scales to its column.
    return _ROOT_SIZE.sub(r'<svg\1 class="chart" preserveAspectRatio="xMinYMin meet"', text, count=1)


def _short(n: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.3g}"


def progress_chart(p: Progress, *, detection_s: float | None = None, duration_s: float | None = None,
                   salt: str = "p") -> str:
    """A strip per counter over the stress time; red lines where the failure showed.

    Each counter gets its own y scale (walks/s and add latency have nothing in
    common), and strips share the time axis, so a collapse in one lines up
    with the moment a report appeared.
    """
    drawn = [s for s in p.series if len(s.points) > 1 and not s.flat][:MAX_SERIES]
    if not drawn:
        return ""
    with _mpl().rc_context(_RC):
        fig = _mpl().figure.Figure(figsize=(6.4, 0.62 * len(drawn) + 0.35))
        axes = fig.subplots(len(drawn), 1, sharex=True, squeeze=False)[:, 0]
        marks = [(t, lbl) for t, lbl in ((p.first_failure_s, "oracle failure"), (detection_s, "detected"))
                 if t is not None]
        for ax, s in zip(axes, drawn):
            xs = [t for t, _ in s.points]
            ys = [v for _, v in s.points]
            color = RED if s.key in FAILURE_KEYS else BLUE
            ax.plot(xs, ys, color=color, linewidth=1.2, marker="o", markersize=1.8,
                    drawstyle="steps-post" if s.key in FAILURE_KEYS else "default")
            ax.fill_between(xs, ys, color=color, alpha=0.07, step="post" if s.key in FAILURE_KEYS else None)
            top = max(ys)
            ax.set_ylim(min(0.0, min(ys)), top * 1.18 if top > 0 else 1.0)  # room for the highest point
            ax.yaxis.set_major_locator(_mpl().ticker.MaxNLocator(2))
            ax.yaxis.set_major_formatter(_mpl().ticker.FuncFormatter(lambda v, _: _short(v)))
            ax.grid(axis="y", color=GRID, linewidth=0.6)
            ax.text(1.01, 0.5, s.name, transform=ax.transAxes, va="center", ha="left", color=INK, fontsize=8)
            for t, _ in marks:
                ax.axvline(t, color=RED, linewidth=1, linestyle="--")
        if duration_s:
            axes[-1].set_xlim(0, max(duration_s, max(t for s in drawn for t, _ in s.points)))
        axes[-1].set_xlabel("seconds of stress")
        for n, (t, lbl) in enumerate(sorted(marks)):
            # Staggered: the two moments are often a second apart.
            axes[0].annotate(f"{lbl} {t:.0f}s", (t, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 2 + 9 * n),
                             textcoords="offset points", color=RED, fontsize=7, va="bottom")
        fig.subplots_adjust(hspace=0.25)
        return _svg(fig, salt)


def count_bars(rows: list[tuple[str, int, int, int, int]], labels: tuple[str, str] = ("baseline", "patched"),
               salt: str = "b") -> str:
    """Per row (name, a, a_runs, b, b_runs): the share of runs showing it, one bar per side.

    Shares, not counts: the sides can have different numbers of completed runs.
    The row's name sits above its bars, so a long report title needs no axis room.
    """
    if not rows:
        return ""
    step = 1.5
    with _mpl().rc_context(_RC):
        fig = _mpl().figure.Figure(figsize=(7.2, 0.5 * len(rows) + 0.55))
        ax = fig.subplots()
        n = len(rows)
        for i, (name, a, an, b, bn) in enumerate(rows):
            y = (n - 1 - i) * step
            ax.text(0, y + 0.95, _label(name, 110), fontsize=7.5, color=INK, va="bottom")
            for off, v, tot, color in ((0.55, a, an, GREY), (0.15, b, bn, BLUE)):
                share = v / tot if tot else 0.0
                ax.barh(y + off, share, height=0.36, color=color, align="edge")
                ax.text(share + 0.008, y + off + 0.18, f"{v}:{tot}", va="center", fontsize=7, color=MUTED)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_ylim(-0.1, (n - 1) * step + 1.45)
        ax.set_xlim(0, 1.08)
        ax.xaxis.set_major_formatter(_mpl().ticker.PercentFormatter(1.0))
        ax.set_xlabel("share of completed runs showing it")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        handles = [_mpl().patches.Patch(color=GREY, label=labels[0]), _mpl().patches.Patch(color=BLUE, label=labels[1])]
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=7, frameon=False)
        return _svg(fig, salt)


def _label(name: str, width: int = 56) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"

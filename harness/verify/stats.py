"""Fisher's exact test on 2x2 tables: "did this signature get more or less frequent?"

Implemented here rather than pulled from scipy: it is a few lines of exact
integer arithmetic, and the harness should not need a numeric stack to say
whether 0 of 5 against 4 of 5 runs is a real difference.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb


def _check(*counts: int) -> None:
    for c in counts:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError(f"table cells must be non-negative integers, got {c!r}")


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the table [[a, b], [c, d]].

    Rows are the two samples (baseline, patched), columns the outcome (runs
    with the signature, runs without). With the margins fixed, ``a`` follows
    the hypergeometric distribution; the two-sided p-value sums the
    probabilities of every table no more likely than the observed one (the
    convention of R's fisher.test and scipy). All tables share the
    denominator C(n, row1), so comparing the integer numerators is exact and
    needs none of the float tolerance those libraries carry.
    """
    _check(a, b, c, d)
    row1, col1, n = a + b, a + c, a + b + c + d
    if n == 0:
        return 1.0
    lo, hi = max(0, row1 + col1 - n), min(row1, col1)

    def weight(x: int) -> int:
        return comb(col1, x) * comb(n - col1, row1 - x)

    observed = weight(a)
    tail = sum(w for w in (weight(x) for x in range(lo, hi + 1)) if w <= observed)
    return min(1.0, float(Fraction(tail, comb(n, row1))))


def smallest_p(runs_a: int, runs_b: int) -> float:
    """The most significant two-sided p-value reachable with these sample sizes.

    Reached when one side always shows a signature and the other never does.
    If it is not below the significance level, no difference can ever be
    called significant, and the report says so instead of implying "no change"
    was measured.
    """
    if runs_a <= 0 or runs_b <= 0:
        return 1.0
    return min(fisher_exact(runs_a, 0, 0, runs_b), fisher_exact(0, runs_a, runs_b, 0))

"""Fisher's exact test against published values (R's fisher.test / scipy.stats.fisher_exact)."""

import pytest

from harness.verify.stats import fisher_exact, smallest_p


@pytest.mark.parametrize(
    "table, expected",
    [
        # scipy.stats.fisher_exact documentation examples
        ((8, 2, 1, 5), 0.0349650349650),
        ((6, 2, 1, 4), 0.1025641025641),
        # Wikipedia, "Fisher's exact test": men/women studying
        ((1, 9, 11, 3), 0.0027594561852),
        # Fisher's lady tasting tea, two-sided
        ((3, 1, 1, 3), 0.4857142857143),
        # all-or-nothing: 2 / C(10, 5)
        ((5, 0, 0, 5), 0.0079365079365),
        ((0, 5, 5, 0), 0.0079365079365),
        ((10, 0, 0, 10), 1.0825088224469e-05),
        # no difference at all
        ((2, 3, 2, 3), 1.0),
        ((0, 5, 0, 5), 1.0),
        ((0, 0, 0, 0), 1.0),
        ((0, 1, 1, 0), 1.0),
    ],
)
def test_known_values(table, expected):
    assert fisher_exact(*table) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def _brute_force(a, b, c, d):
    """The textbook definition with floats and R's relative tolerance, as a cross-check."""
    from math import comb

    r1, c1, n = a + b, a + c, a + b + c + d
    prob = lambda x: comb(c1, x) * comb(n - c1, r1 - x) / comb(n, r1)  # noqa: E731
    obs = prob(a)
    xs = range(max(0, r1 + c1 - n), min(r1, c1) + 1)
    return min(1.0, sum(prob(x) for x in xs if prob(x) <= obs * (1 + 1e-7)))


def test_agrees_with_the_textbook_definition_on_every_small_table():
    for a in range(7):
        for b in range(7):
            for c in range(7):
                for d in range(0, 7, 2):
                    assert fisher_exact(a, b, c, d) == pytest.approx(_brute_force(a, b, c, d), rel=1e-9)


def test_symmetries():
    a, b, c, d = 4, 6, 9, 2
    p = fisher_exact(a, b, c, d)
    assert fisher_exact(c, d, a, b) == p  # swap rows
    assert fisher_exact(b, a, d, c) == p  # swap columns
    assert fisher_exact(a, c, b, d) == p  # transpose


def test_rejects_bad_cells():
    for bad in ((-1, 0, 0, 0), (1.5, 0, 0, 0), (True, 0, 0, 0)):
        with pytest.raises(ValueError):
            fisher_exact(*bad)


def test_smallest_reachable_p():
    assert smallest_p(2, 2) == pytest.approx(1 / 3)
    assert smallest_p(3, 3) == pytest.approx(0.1)
    assert smallest_p(4, 4) < 0.05  # four runs a side is the least that can ever be significant
    assert smallest_p(0, 5) == 1.0

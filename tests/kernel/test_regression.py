"""The kernel regression suite: one item per plan scenario x repetition, one VM each."""

from harness.pytest_plugin import check_verdict


def test_scenario(harness_item, harness_run):
    check_verdict(harness_run(harness_item))

"""Verify a proposed patch before posting: baseline vs patched runs, with statistics.

    patches   read, classify (mail vs diff), apply to the harness's copy
    tree_copy the copy of the user's tree, kept in sync incrementally
    checkpatch the tree's checkpatch.pl summary line
    budget    default runs / duration / parallel VMs for a 30-minute verify
    stats     Fisher's exact test
    compare   per-signature counts, p-values, the verdict
    core      the flow, with build and run injected (Deps)
    vm_deps   the real build (kbuild) and run (the runner's execute)
    report    text table, JSON, junit
    cli       `harness verify`
"""

from harness.verify.compare import FIXES, NO_CHANGE, REGRESSION, VERDICT_ERROR, Comparison, compare
from harness.verify.core import Deps, Outcome, Request, verify
from harness.verify.stats import fisher_exact

__all__ = [
    "FIXES",
    "NO_CHANGE",
    "REGRESSION",
    "VERDICT_ERROR",
    "Comparison",
    "Deps",
    "Outcome",
    "Request",
    "compare",
    "fisher_exact",
    "verify",
]

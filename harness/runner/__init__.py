"""One scenario run, for every driver (session, verify, bisect, validate).

    request  ``Run`` (scenario, repetition, duration; the seed and the item
             id) and ``Testbed`` (kernel, image, VM size, suppressions)
    drive    ``execute(run, bed, workdir) -> RunResult``: boot, drive, gather
    rules    ``judge(Evidence) -> Judgement``: the verdict, a pure function
    store    ``store(result, path)`` / ``collect(items_dir)``: the result files
    progress the progress callbacks drivers hand down (stderr, a log file)
"""

from harness.runner.drive import execute, program_path
from harness.runner.rules import Evidence, Judgement, judge
from harness.runner.request import Run, Testbed, error_result, item_file
from harness.runner.store import collect, load, store

__all__ = [
    "Evidence",
    "Judgement",
    "Run",
    "Testbed",
    "collect",
    "error_result",
    "execute",
    "item_file",
    "judge",
    "load",
    "program_path",
    "store",
]

"""The regression session: `make test` (through the pytest plugin) and `harness run`.

    core  prepare once, the plan's items as Runs, run one, collect, finish
    cli   `harness run`
"""

"""The bug corpus and the proof the harness catches it.

    bugs      tests/bugs/NN-name.patch: headers parsed and checked
    bugtree   one kernel tree with exactly one bug applied (incremental builds)
    validate  each bug's kernel, its scenario N times, stress-ng beside it
    cli       `harness validate`
"""

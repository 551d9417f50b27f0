# The kernel regression suite: driven by the project's pytest plugin, with
# SIGTERM handled like Ctrl-C (CI cancels a job by SIGTERM to its group).
pytest_plugins = ["harness.pytest_plugin", "harness.pytest_signals"]

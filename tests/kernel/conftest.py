# The kernel regression suite: driven by the project's pytest plugin.
pytest_plugins = ["harness.pytest_plugin"]

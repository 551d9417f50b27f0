"""The resumable state file: the settings and every finished step, as JSON.

The engine is deterministic given the history and the step verdicts, so the
state needs no "where was I": a resumed bisect replays its recorded steps
(no build, no boot) and carries on with the first commit it has no verdict
for. The file is rewritten atomically after every step, so a kill at any
moment leaves the last complete version.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.bisect.model import Step
from harness.errors import UserError

VERSION = 1


@dataclass
class State:
    settings: dict  # what the bisect was asked (endpoints, scenario, runs...): must match on resume
    steps: list[Step] = field(default_factory=list)

    def find(self, commit: str) -> Step | None:
        for s in self.steps:
            if s.commit == commit:
                return s
        return None

    def record(self, step: Step) -> None:
        """Append a step, or replace its earlier record in place (the log keeps test order)."""
        for i, s in enumerate(self.steps):
            if s.commit == step.commit:
                self.steps[i] = step
                return
        self.steps.append(step)

    def to_dict(self) -> dict:
        return {"version": VERSION, "settings": self.settings, "steps": [s.to_dict() for s in self.steps]}


class StateFile:
    """Where one bisect's state lives; ``save`` is the engine's after-each-step hook."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self, settings: dict) -> State:
        """The recorded state for these settings, or a fresh one when there is none."""
        if not self.path.is_file():
            return State(dict(settings))
        try:
            doc = json.loads(self.path.read_text())
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')!r}, expected {VERSION}")
            state = State(doc["settings"], [Step.from_dict(s) for s in doc["steps"]])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(f"bisect state {self.path} is unreadable ({e}); start over with --restart") from e
        if state.settings != settings:
            changed = sorted(k for k in set(settings) | set(state.settings) if settings.get(k) != state.settings.get(k))
            raise UserError(
                f"bisect state {self.path} was recorded with other settings ({', '.join(changed)}); "
                "start over with --restart"
            )
        return state

    def save(self, state: State) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state.to_dict(), indent=2) + "\n")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

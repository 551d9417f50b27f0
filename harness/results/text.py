"""Text hygiene for reports that go into XML and JSON."""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_REPORT = 64 * 1024


def clean(text: str, limit: int = MAX_REPORT) -> str:
    """Strip control bytes (XML 1.0 forbids most) and cap the size, keeping the head."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > limit:
        note = f"\n[... {len(text)} characters, cut]"
        text = text[: max(0, limit - len(note))] + note
    return text

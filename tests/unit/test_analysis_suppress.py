"""Suppression files: a YAML list of regexes; every mistake names the file and the key."""

from __future__ import annotations

import re

import pytest

from harness.analysis import load_suppressions
from harness.errors import UserError


def test_plain_list_and_mapping(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("- 'WARNING: .* at drivers/gpu/'\n- 'INFO: task .* blocked'\n")
    pats = load_suppressions(p)
    assert all(isinstance(x, re.Pattern) for x in pats)
    assert pats[0].search("WARNING: CPU: 0 PID: 1 at drivers/gpu/drm/x.c:1 f+0x1/0x2")
    p.write_text("suppressions:\n  - 'BUG: Dentry'\n")
    assert [x.pattern for x in load_suppressions(p)] == ["BUG: Dentry"]


def test_empty_file_is_no_suppression(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("# nothing yet\n")
    assert load_suppressions(p) == []


@pytest.mark.parametrize(
    "content, words",
    [
        ("- '(unclosed'\n", ["suppressions[0]", "not a valid regex"]),
        ("- ok\n- 3\n", ["suppressions[1]", "regex string"]),
        ("suppressions: 'one'\n", ["must be a list"]),
        ("supressions: []\n", ["unknown key", "supressions"]),
        ("- [unbalanced\n", ["not valid YAML", "line"]),
    ],
)
def test_mistakes_name_file_and_key(tmp_path, content, words):
    p = tmp_path / "bad.yaml"
    p.write_text(content)
    with pytest.raises(UserError) as e:
        load_suppressions(p)
    msg = str(e.value)
    assert str(p) in msg
    for w in words:
        assert w in msg
    assert "\n" not in msg


def test_unreadable_file(tmp_path):
    with pytest.raises(UserError, match="cannot read suppressions file"):
        load_suppressions(tmp_path / "nope.yaml")

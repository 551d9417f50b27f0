from pathlib import Path

import pytest

from harness import plan
from harness.errors import UserError

KNOWN = {"kprobe-churn", "umount-check"}


def write(tmp_path, text):
    p = tmp_path / "plan.yaml"
    p.write_text(text)
    return p


def test_default_plan_loads():
    p = plan.load()
    assert p.items and all(i.runs >= 1 for i in p.items)


def test_items_accept_names_and_mappings(tmp_path):
    p = plan.load(write(tmp_path, "runs: 2\nscenarios:\n  - kprobe-churn\n  - {name: umount-check, duration: 5, runs: 3}\n"), KNOWN)
    assert [(i.name, i.duration, i.runs) for i in p.items] == [("kprobe-churn", None, 2), ("umount-check", 5, 3)]


@pytest.mark.parametrize(
    "text, key",
    [
        ("scenarios: [kprobe-churn]\nbogus: 1\n", "bogus: unknown key"),
        ("scenarios:\n  - {name: kprobe-churn, duraton: 5}\n", r"scenarios\[0\].duraton: unknown key"),
        ("scenarios:\n  - {name: kprobe-churn, duration: fast}\n", r"scenarios\[0\].duration: expected a positive integer"),
        ("scenarios:\n  - {name: nope}\n", r"scenarios\[0\].name: unknown scenario 'nope'"),
        ("scenarios: []\n", "scenarios: expected a non-empty list"),
        ("scenarios: [kprobe-churn]\nvm: {memory_mb: -1}\n", "vm.memory_mb: expected a positive integer"),
        ("scenarios: [kprobe-churn]\nsuppressions: ['(']\n", r"suppressions\[0\]: bad regex"),
        ("scenarios: [kprobe-churn\n", "not valid YAML"),
    ],
)
def test_bad_plans_name_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=key) as e:
        plan.load(path, KNOWN)
    assert str(path) in str(e.value)


def test_missing_plan_file(tmp_path):
    with pytest.raises(UserError, match="cannot read plan"):
        plan.load(tmp_path / "absent.yaml")


def test_plan_that_is_not_utf8_or_not_text_is_one_user_error(tmp_path):
    from harness.errors import UserError

    latin1 = tmp_path / "plan.yaml"
    latin1.write_bytes(b"# by J\xf6rg\nscenarios: [umount-check]\n")
    for path, what in ((latin1, "not UTF-8 text: byte 0xf6 at line 1"), (Path("/bin/ls"), "binary file"), (tmp_path, "Is a directory")):
        with pytest.raises(UserError, match=what) as e:
            plan.load(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_plan_known_issues_are_relative_to_the_plan(tmp_path):
    p = tmp_path / "plan.yaml"
    p.write_text("scenarios: [umount-check]\nknown_issues: [mine.yaml]\n")
    assert plan.load(p).known_issues == (tmp_path / "mine.yaml",)

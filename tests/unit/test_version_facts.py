"""Version facts: the project's kconfig requests fitted to 6.1 and 6.12 trees (fake trees, no build)."""

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.kbuild import build, facts, kconfig
from harness.kbuild.source import SourceTree

FAKES = Path(__file__).parent / "fakes"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))


def fake_tree(tmp_path, version):
    tree = tmp_path / "src" / f"linux-{version}"
    (tree / "arch" / "x86").mkdir(parents=True)
    (tree / "scripts" / "kconfig").mkdir(parents=True)
    major, minor, sub = version.split(".")
    body = (FAKES / "fakelinux_Makefile").read_text()
    (tree / "Makefile").write_text(f"VERSION = {major}\nPATCHLEVEL = {minor}\nSUBLEVEL = {sub}\nEXTRAVERSION =\n{body}")
    shutil.copy(FAKES / "merge_config.sh", tree / "scripts" / "kconfig" / "merge_config.sh")
    (tree / "Kconfig").write_text("# fake\n")
    # The fake merge drops these, as a 6.1 tree's Kconfig would: USER_EVENTS depends on BROKEN.
    (tree / "UNSUPPORTED").write_text("CONFIG_USER_EVENTS\nCONFIG_GONE_SYMBOL\n")
    return tree


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A kconfigs/ dir of the project's own: its fragments are requests, not user input."""
    d = tmp_path / "kconfigs"
    d.mkdir()
    monkeypatch.setattr(kconfig, "KCONFIGS", d)
    (d / "base.config").write_text("# size\n# CONFIG_MODULES is not set\n# why\nCONFIG_A=y\n")
    (d / "tracing.config").write_text("# eventfs churn\nCONFIG_KPROBES=y\n# f_show reproducer\nCONFIG_USER_EVENTS=y\n")
    return d


def test_tree_version_comes_from_the_makefile(tmp_path):
    assert facts.tree_version(fake_tree(tmp_path, "6.1.192")) == (6, 1, 192)
    assert facts.tree_version(FAKES) is None
    assert facts.parse_version("6.12.117-1") == (6, 12, 117)
    with pytest.raises(ValueError):
        facts.parse_version("mainline")


def test_the_repo_facts_file_parses_and_every_row_says_why():
    f = facts.load()
    assert any(x.symbol == "CONFIG_KPROBES" and x.needs == (("CONFIG_MODULES", "y"),) for x in f.symbols)
    assert all(x.why for x in f.symbols + f.features)
    assert facts.feature_first("eventfs").before == (6, 6)


def test_fit_on_6_1_turns_modules_on_and_drops_user_events():
    want = {"CONFIG_MODULES": "n", "CONFIG_KPROBES": "y", "CONFIG_USER_EVENTS": "y", "CONFIG_KASAN_EXTRA_INFO": "n"}
    got, kf = facts.fit(want, (6, 1, 192))
    assert got["CONFIG_MODULES"] == "y" and "CONFIG_USER_EVENTS" not in got
    assert got["CONFIG_KASAN_EXTRA_INFO"] == "n", "asking for a symbol to be off is met by a tree without it"
    assert [r["symbol"] for r in kf.resolved] == ["CONFIG_MODULES"]
    assert [m["symbol"] for m in kf.missing] == ["CONFIG_USER_EVENTS"]
    assert "BROKEN" in kf.missing_reason("CONFIG_USER_EVENTS")
    assert any("CONFIG_MODULES=y instead of n" in line for line in kf.lines())


def test_fit_on_6_12_and_on_an_unknown_version_changes_nothing():
    want = {"CONFIG_MODULES": "n", "CONFIG_KPROBES": "y", "CONFIG_USER_EVENTS": "y"}
    for version in ((6, 12, 117), None):
        got, kf = facts.fit(want, version)
        assert got == want and not kf.resolved and not kf.missing


def test_a_bad_facts_file_names_the_file_and_the_row(tmp_path):
    p = tmp_path / "facts.yaml"
    p.write_text("facts:\n  - symbol: CONFIG_X\n    before: '6.4'\n    unavailable: broken\n")
    with pytest.raises(UserError, match=r"facts.yaml: facts\[0\] \(CONFIG_X\): every fact says why"):
        facts.load(p)
    p.write_text("facts:\n  - symbol: CONFIG_X\n    before: soon\n    first: '6.4'\n    why: w\n")
    with pytest.raises(UserError, match=r"facts\[0\] \(CONFIG_X\): not a kernel version: 'soon'"):
        facts.load(p)
    p.write_text("facts:\n  - symbol: CONFIG_X\n    why: w\n")
    with pytest.raises(UserError, match="exactly one of"):
        facts.load(p)


def test_6_1_build_resolves_records_and_stores_missing_capabilities(tmp_path, project, cache):
    tree = fake_tree(tmp_path, "6.1.192")
    said = []
    frags = [str(project / "base.config"), str(project / "tracing.config")]
    k = build(SourceTree(tree, "tree"), frags, progress=said.append)
    cfg = kconfig.parse_config(k.config_path.read_text())
    assert cfg["CONFIG_MODULES"] == "y" and cfg["CONFIG_KPROBES"] == "y" and "CONFIG_USER_EVENTS" not in cfg
    assert any("CONFIG_MODULES=y instead of n" in s for s in said)
    assert any("CONFIG_USER_EVENTS not set, a missing capability" in s for s in said)
    stored = facts.read(k.config_path)
    assert stored.version == "6.1.192" and [m["symbol"] for m in stored.missing] == ["CONFIG_USER_EVENTS"]
    assert json.loads((k.build_dir / facts.FACTS_NAME).read_text())["resolved"][0]["symbol"] == "CONFIG_MODULES"
    # A reused merge still says what it changed.
    said.clear()
    build(SourceTree(tree, "tree"), frags, progress=said.append)
    assert any("CONFIG_MODULES=y instead of n" in s for s in said)


def test_6_12_build_changes_nothing(tmp_path, project, cache):
    tree = fake_tree(tmp_path, "6.12.117")
    (tree / "UNSUPPORTED").write_text("CONFIG_NOT_A_SYMBOL\n")
    k = build(SourceTree(tree, "tree"), [str(project / "base.config"), str(project / "tracing.config")],
              progress=lambda m: None)
    cfg = kconfig.parse_config(k.config_path.read_text())
    assert cfg.get("CONFIG_MODULES", "n") == "n" and cfg["CONFIG_USER_EVENTS"] == "y"
    assert facts.read(k.config_path).missing == []


def test_project_symbol_no_fact_explains_is_a_missing_capability_not_an_error(tmp_path, project, cache):
    tree = fake_tree(tmp_path, "6.12.117")
    (project / "extra.config").write_text("# renamed upstream one day\nCONFIG_GONE_SYMBOL=y\n")
    k = build(SourceTree(tree, "tree"), [str(project / "extra.config")], progress=lambda m: None)
    why = facts.read(k.config_path).missing_reason("CONFIG_GONE_SYMBOL")
    assert "no version fact explains it" in why and "merge.log" in why


def test_user_fragment_symbol_that_cannot_stick_stays_a_user_error_with_the_fact(tmp_path, project, cache):
    tree = fake_tree(tmp_path, "6.1.192")
    mine = tmp_path / "mine.config"
    mine.write_text("CONFIG_USER_EVENTS=y\n")
    with pytest.raises(UserError, match=r"CONFIG_USER_EVENTS \(wanted y, got unset\): not in|depends on BROKEN on 6\.1\.192"):
        build(SourceTree(tree, "tree"), [str(project / "base.config"), str(mine)], progress=lambda m: None)


def test_a_users_modules_off_wins_and_kprobes_becomes_missing(tmp_path, project, cache):
    tree = fake_tree(tmp_path, "6.1.192")
    # The fake merge cannot model "depends on": emulate the tree refusing KPROBES without MODULES.
    (tree / "UNSUPPORTED").write_text("CONFIG_USER_EVENTS\nCONFIG_KPROBES\n")
    mine = tmp_path / "mine.config"
    mine.write_text("# CONFIG_MODULES is not set\n")
    k = build(SourceTree(tree, "tree"), [str(project / "base.config"), str(project / "tracing.config"), str(mine)],
              progress=lambda m: None)
    cfg = kconfig.parse_config(k.config_path.read_text())
    assert cfg.get("CONFIG_MODULES", "n") == "n"
    assert "needs CONFIG_MODULES=y" in facts.read(k.config_path).missing_reason("CONFIG_KPROBES")

"""Our rule tables against syzkaller's own, entry by entry.

Reads the Go tables in ../shared/reference/syzkaller-report as text
(analysis_goref.py) and compares every header, format, pattern, skip list
and boundary list with ours, in order. A table that drifts from the
reference, or a reference update nobody ported, fails here with the entry
that differs.
"""

from __future__ import annotations

import re

import pytest
from analysis_goref import REFERENCE, Call, Concat, Ident, commit, read, source

from harness.analysis.gore import expand
from harness.analysis.oops import PARSE_STACK
from harness.analysis.table import OOPSES, REFERENCE_COMMIT, params, stacks
from harness.analysis.titles import DYNAMIC

pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"reference not found at {REFERENCE}")


@pytest.fixture(scope="module")
def linux() -> str:
    return source("linux.go")


@pytest.fixture(scope="module")
def report_go() -> str:
    return source("report.go")


def _go_value(v, linux: str):
    """A Go table value as our tables write it."""
    if isinstance(v, Call) and v.name in ("compile", "regexp.MustCompile"):
        return _go_value(v.args[0], linux)
    if isinstance(v, Call) and v.name == "regexp.QuoteMeta":
        return re.escape(v.args[0])
    if isinstance(v, Call) and v.name.endswith(".String"):
        return expand(_go_value(_ident(v.name[: -len(".String")], linux), linux))
    if isinstance(v, Concat):
        return "".join(_go_value(p, linux) for p in v.parts)
    if isinstance(v, Ident):
        if v.name == "parseStackTrace":
            return PARSE_STACK
        if v.name in ("linuxRipFrame", "linuxCallTrace", "riscvSpecialStackStart"):
            return _go_value(_ident(v.name, linux), linux)
        return v.name
    return v


def _ident(name: str, linux: str):
    """The value a package-level variable of the reference is set to."""
    m = re.search(r"(?m)^(?:var |\t)" + re.escape(name) + r"\s*=\s*", linux)
    assert m, f"{name} not found in the reference"
    return read(linux, m.group(0))


_EXTRACTORS = {
    "linuxStallFrameExtractor": stacks.stall_extractor,
    "linuxHangTaskFrameExtractor": stacks.hang_extractor,
}


def _go_stack(v, linux: str) -> dict:
    if isinstance(v, Call) and v.name == "warningStackFmt":
        body = read(linux, "func warningStackFmt(skip ...string) *stackFmt {\n\treturn ")
        return {
            "parts": tuple(_go_value(p, linux) for p in body["parts"]),
            "parts2": tuple(_go_value(p, linux) for p in body["parts2"]),
            "skip": tuple(v.args),
            "extractor": None,
        }
    ex = v.get("extractor")
    return {
        "parts": tuple(_go_value(p, linux) for p in v.get("parts", [])),
        "parts2": tuple(_go_value(p, linux) for p in v.get("parts2", [])),
        "skip": tuple(_go_value(s, linux) for s in v.get("skip", [])),
        "extractor": _EXTRACTORS[ex.name] if ex is not None else None,
    }


def _ours_stack(s) -> dict:
    return {"parts": s.parts, "parts2": s.parts2, "skip": s.skip, "extractor": s.extractor}


def _go_oopses(linux: str, report_go: str) -> list:
    table = read(linux, "var linuxOopses = ")
    assert isinstance(table, Call) and table.name == "append"
    oopses = list(table.args[0])
    assert oopses[-1] == Ident("groupGoRuntimeErrors")
    oopses[-1] = read(report_go, "var groupGoRuntimeErrors = ")
    assert table.args[1] == Ident("commonOopses")
    return oopses + list(read(report_go, "var commonOopses = "))


def test_the_tables_name_the_reference_commit():
    assert REFERENCE_COMMIT == commit()


def test_headers_in_syzkallers_order(linux, report_go):
    assert [o.header for o in OOPSES] == [o[0] for o in _go_oopses(linux, report_go)]


@pytest.mark.parametrize("index", range(len(OOPSES)))
def test_each_header_entry_matches(index, linux, report_go):
    go = _go_oopses(linux, report_go)[index]
    ours = OOPSES[index]
    header, formats, suppressions = go
    assert ours.header == header
    assert list(ours.suppressions) == [_go_value(s, linux) for s in suppressions], header
    assert len(ours.formats) == len(formats), header
    for i, (f, g) in enumerate(zip(ours.formats, formats)):
        where = f"{header} format #{i}"
        assert f.title == _go_value(g["title"], linux), where
        assert f.report == (_go_value(g["report"], linux) if "report" in g else None), where
        assert f.fmt == g["fmt"], where
        assert list(f.alt) == list(g.get("alt", [])), where
        assert f.no_stack_trace == ("noStackTrace" in g), where
        assert f.corrupted == ("corrupted" in g), where
        if "stack" not in g:
            assert f.stack is None, where
        else:
            assert f.stack is not None, where
            assert _ours_stack(f.stack) == _go_stack(g["stack"], linux), where


def test_stack_parameters(linux):
    sp = read(linux, "var linuxStackParams = ")
    assert list(params.STACK_START) == [_go_value(v, linux) for v in sp["stackStartRes"]]
    assert list(params.FRAME_RES) == [_go_value(v, linux) for v in sp["frameRes"]]
    assert list(params.SKIP) == [_go_value(v, linux) for v in sp["skipPatterns"]]
    assert list(params.CORRUPTED_LINES) == [_go_value(v, linux) for v in sp["corruptedLines"]]
    assert list(params.STRIP_PREFIXES) == sp["stripFramePrefixes"]


def test_frame_and_trace_patterns(linux):
    assert params.RIP_FRAME == _go_value(Ident("linuxRipFrame"), linux)
    assert params.CALL_TRACE == _go_value(Ident("linuxCallTrace"), linux)
    assert params.RISCV_STACK_START == _go_value(Ident("riscvSpecialStackStart"), linux)
    assert list(params.CORRUPTED_TITLES) == [_go_value(v, linux) for v in read(linux, "var linuxCorruptedTitles = ")]


def test_report_boundaries_and_line_prefixes(linux):
    assert list(params.REPORT_START_IGNORES) == [_go_value(v, linux) for v in read(linux, "ctx.reportStartIgnores = ")]
    assert list(params.INFO_MESSAGES_WITH_STACK) == read(linux, "ctx.infoMessagesWithStack = ")
    assert params.CONSOLE_OUTPUT == _go_value(read(linux, "ctx.consoleOutputRe = "), linux)
    assert params.TASK_CONTEXT == _go_value(read(linux, "ctx.taskContext = "), linux)
    assert params.CPU_CONTEXT == _go_value(read(linux, "ctx.cpuContext = "), linux)
    assert params.QUESTIONABLE_FRAME == _go_value(read(linux, "ctx.questionableFrame = "), linux)


def test_stall_anchors_and_hang_buckets(linux):
    assert list(stacks.STALL_ANCHORS) == [_go_value(v, linux) for v in read(linux, "var linuxStallAnchorFrames = ")]
    anchors = read(linux, "anchorFrames := ")
    assert list(stacks.HANG_ANCHORS) == list(anchors)
    assert [bool(v) for v in stacks.HANG_ANCHORS.values()] == [v != "" for v in anchors.values()]
    assert list(stacks.HANG_SKIP) == read(linux, "skip := ")


def test_title_replacements(report_go):
    go = read(report_go, "var dynamicTitleReplacement = ")
    ours = [(p, r.replace("\\1", "${1}").replace("\\3", "${3}")) for p, r in DYNAMIC]
    assert ours == [(_go_value(p, ""), r) for p, r in go]


def test_title_types():
    from analysis_goref import _Reader, tokens

    from harness.analysis.table import types

    text = (REFERENCE / "crash" / "title_to_type.go").read_text()
    start = text.index("}{", text.index("var titleToType")) + 1
    go = _Reader(tokens(text[start:])).composite()
    assert [(name, list(prefixes)) for name, prefixes in types.TITLE_TO_TYPE] == [
        (e["crashType"].name, e["includePrefixes"]) for e in go
    ]
    consts = dict(re.findall(r"(\w+)\s*=\s*Type\(\"([^\"]*)\"\)", (REFERENCE / "crash" / "types.go").read_text()))
    assert types.TYPES == consts

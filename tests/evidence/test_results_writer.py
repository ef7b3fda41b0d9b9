"""The redacting results writer: fixture containers of one test are written as one, with
every set-up and tear-down; nothing is lost, nothing is written for a container Allure shows
nowhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attr
from allure_commons import model2
from allure_commons.model2 import Status

from pytest_dso.evidence.redaction import REDACTED, Redactor
from pytest_dso.evidence.results import RedactingResultsWriter

SECRET = "hunter2-very-secret"


def _container(uuid: str, children: list[str], fixture: str,
               start: int) -> model2.TestResultContainer:
    before = model2.TestBeforeResult(name=fixture, status=Status.PASSED, start=start,
                                     stop=start + 1)
    after = model2.TestAfterResult(name=f"{fixture}::fin", status=Status.PASSED,
                                   start=start + 4, stop=start + 5)
    return model2.TestResultContainer(uuid=uuid, children=children, start=start,
                                      stop=start + 5, befores=[before], afters=[after])


def _files(folder: Path, kind: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"*-{kind}"))]


def test_the_fixture_containers_of_one_test_are_written_as_one(tmp_path: Path) -> None:
    writer = RedactingResultsWriter(tmp_path, Redactor([SECRET]))
    writer.report_container(_container("c1", ["t1"], "dso_property", 30))
    writer.report_container(_container("c2", ["t1"], f"fixture {SECRET}", 10))
    writer.report_container(_container("c3", [], "step", 5))  # a parametrisation: no test
    assert _files(tmp_path, "container.json") == [], "held until the test's result"
    writer.report_result(model2.TestResult(uuid="t1", name="test_one", status=Status.PASSED))

    [container] = _files(tmp_path, "container.json")
    assert container["children"] == ["t1"]
    assert [b["name"] for b in container["befores"]] == [f"fixture {REDACTED}", "dso_property"]
    assert [a["name"] for a in container["afters"]] == [f"fixture {REDACTED}::fin",
                                                        "dso_property::fin"]
    assert (container["start"], container["stop"]) == (10, 35)
    assert [r["name"] for r in _files(tmp_path, "result.json")] == ["test_one"]
    for path in tmp_path.iterdir():
        assert writer.is_current(path), path.name


def test_a_container_after_its_test_or_shared_is_written_at_once(tmp_path: Path) -> None:
    writer = RedactingResultsWriter(tmp_path, Redactor())
    writer.report_result(model2.TestResult(uuid="t1", name="test_one", status=Status.PASSED))
    writer.report_container(_container("late", ["t1"], "module_fixture", 50))
    writer.report_container(_container("shared", ["t1", "t2"], "session_fixture", 1))
    names = sorted(b["name"] for c in _files(tmp_path, "container.json") for b in c["befores"])
    assert names == ["module_fixture", "session_fixture"]


def test_flush_writes_the_containers_whose_test_never_reported(tmp_path: Path) -> None:
    writer = RedactingResultsWriter(tmp_path, Redactor())
    writer.report_container(_container("c1", ["lost"], "dso_e2e_flow", 1))
    writer.report_container(_container("c2", ["lost"], "dso_e2e_tenant", 2))
    writer.flush()
    [container] = _files(tmp_path, "container.json")
    assert container["children"] == ["lost"]
    assert [b["name"] for b in container["befores"]] == ["dso_e2e_flow", "dso_e2e_tenant"]
    writer.flush()
    assert len(_files(tmp_path, "container.json")) == 1, "written once"


def test_held_containers_are_bounded(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(RedactingResultsWriter, "MAX_HELD", 2)
    writer = RedactingResultsWriter(tmp_path, Redactor())
    for n in range(3):
        writer.report_container(_container(f"c{n}", [f"t{n}"], f"fixture{n}", n))
    # the oldest test's containers were written when the third one came
    assert [c["children"] for c in _files(tmp_path, "container.json")] == [["t0"]]
    writer.flush()
    assert len(_files(tmp_path, "container.json")) == 3


def test_fast_children_answer_like_the_list_and_stay_a_list() -> None:
    from pytest_dso.fixtures.evidence import FastChildren

    children = FastChildren(["a", "b"])
    children.append("c")
    children.extend(["d"])
    assert "c" in children
    assert "d" in children
    assert "x" not in children
    assert children == ["a", "b", "c", "d"]
    children.remove("a")  # other changes are seen too
    assert "a" not in children
    assert json.loads(json.dumps({"children": children})) == {"children": ["b", "c", "d"]}


def test_only_open_containers_with_many_children_get_fast_children() -> None:
    from types import SimpleNamespace

    from pytest_dso.fixtures.evidence import FastChildren, fast_children

    many = model2.TestResultContainer(uuid="s", children=[f"t{n}" for n in range(100)])
    few = model2.TestResultContainer(uuid="f", children=["t1"])
    test = model2.TestResult(uuid="t1", name="x")
    logger = SimpleNamespace(_items=SimpleNamespace(thread_context={"s": many, "f": few,
                                                                    "t1": test}))
    listener = SimpleNamespace(allure_logger=logger)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: listener))
    fast_children(config)  # type: ignore[arg-type]
    assert type(many.children) is FastChildren
    assert "t99" in many.children
    assert type(few.children) is list
    fast_children(SimpleNamespace(pluginmanager=SimpleNamespace(  # type: ignore[arg-type]
        get_plugin=lambda name: None)))  # allure-pytest not collecting: nothing to do


def test_results_are_written_as_attrs_asdict_writes_them(tmp_path: Path) -> None:
    # a result with nested steps, attachments, parameters, labels, links and a False value
    attachment = model2.Attachment(name="HTTP", source="a-attachment.json", type="text/plain")
    inner = model2.TestStepResult(name="inner", status=Status.PASSED, start=3, stop=4,
                                  attachments=[attachment])
    outer = model2.TestStepResult(
        name="outer", status=Status.FAILED, start=2, stop=5, steps=[inner],
        parameters=[model2.Parameter(name="MessageId", value="'m-1'", excluded=False)],
        statusDetails=model2.StatusDetails(message="boom", known=False))
    result = model2.TestResult(
        uuid="t9", historyId="h", name="test_nested", fullName="suite#test_nested",
        status=Status.FAILED, start=1, stop=6, steps=[outer], attachments=[attachment],
        labels=[model2.Label(name="dso_step", value="PRE 3.2")],
        links=[model2.Link(type="issue", url="https://example.invalid/1", name="1")],
        parameters=[model2.Parameter(name="tenant", value="'gemeente'")])
    expected = attr.asdict(result, filter=lambda _attr, value: bool(value) or value is False)
    RedactingResultsWriter(tmp_path, Redactor([SECRET])).report_result(result)
    (written,) = _files(tmp_path, "result.json")
    # the writer shows string parameters without their repr quotes; nothing else differs
    expected["parameters"][0]["value"] = "gemeente"
    expected["steps"][0]["parameters"][0]["value"] = "m-1"
    assert written == expected
    assert written["steps"][0]["statusDetails"] == {"message": "boom", "known": False}
    assert written["steps"][0]["steps"][0]["attachments"] == [
        {"name": "HTTP", "source": "a-attachment.json", "type": "text/plain"}]

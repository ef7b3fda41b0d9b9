"""The redactor's screens: a text with nothing to redact is returned as it is, cheaply; a
text with something to redact never slips through, in any form the screens let pass."""

from __future__ import annotations

import json

import pytest

from pytest_dso.evidence.redaction import REDACTED, Redactor

SECRET = "hunter2-very-secret"


@pytest.mark.parametrize("document", [
    {"request": {"headers": [{"name": "Set-Cookie", "value": "x"}], "cookies": []}},
    {"body": "QUJDYnNuREVGa2V5PWNvb2tpZXM=", "note": "monkey=1 and bsnx"},
])
def test_a_document_with_nothing_to_redact_is_not_walked(document: dict[str, object]) -> None:
    redactor = Redactor([SECRET])
    assert redactor.redact_json(document) is document
    data = json.dumps(document).encode()
    assert redactor.redact_content("a.httpexchange", data) is data


@pytest.mark.parametrize("text", [
    "Cookie:\tsession-1234",
    'x-api-key": "abc-1234"',
    "authorization\n= Bearer abc-1234",
    "GET /x?Token=abc-1234",
    "<ns:BSN>abc-1234</ns:BSN>",
    '{"bsn": "abc-1234"}',
    " bsn = 'abc-1234'",
])
def test_what_a_rule_redacts_is_found_in_a_text_and_in_its_json_form(text: str) -> None:
    redactor = Redactor()
    assert "abc-1234" not in redactor.redact_text(text)
    document = {"outer": [{"inner": text}]}
    assert "abc-1234" not in json.dumps(redactor.redact_json(document))
    redacted = redactor.redact_content("x.json", json.dumps(document).encode())
    assert "abc-1234" not in redacted.decode()
    json.loads(redacted)


def test_escaped_json_is_parsed_before_it_is_judged() -> None:
    redactor = Redactor([SECRET])
    data = b'{"a": "\\u0068unter2-very-secret", "b": "\\u0063ookie: abc-1234", "c": "x\\/y"}'
    out = json.loads(redactor.redact_content("a.json", data))
    assert out == {"a": REDACTED, "b": f"cookie: {REDACTED}", "c": "x/y"}


def test_a_remembered_text_is_redacted_again_once_a_secret_is_added() -> None:
    redactor = Redactor()
    text = f"token {SECRET}"
    assert redactor.redact_text(text) == text
    redactor.add_secret(SECRET)
    assert redactor.redact_text(text) == f"token {REDACTED}"


def test_a_skip_reason_with_a_secret_is_scrubbed_and_a_clean_one_kept(
    pytestconfig: pytest.Config,
) -> None:
    from types import SimpleNamespace

    from pytest_dso.fixtures.evidence import STATE_KEY, EvidenceState, scrub_report

    state = EvidenceState(Redactor([SECRET]), None, None, False, False)
    config = SimpleNamespace(stash={STATE_KEY: state}, hook=pytestconfig.hook)

    def skipped(reason: str, sections: list[tuple[str, str]] | None = None,
                user_properties: list[tuple[str, object]] | None = None) -> pytest.TestReport:
        return pytest.TestReport("t.py::test_x", ("t.py", 1, "test_x"), {"test_x": 1},
                                 "skipped", ("t.py", 2, reason), "setup", sections or (),
                                 user_properties=user_properties)

    clean = skipped("MANUAL: mail dso-beheer")
    assert scrub_report(config, clean) is clean  # type: ignore[arg-type]
    for report in (skipped(f"MANUAL: {SECRET}"),
                   skipped("MANUAL", user_properties=[("dso_key", SECRET)]),
                   skipped("MANUAL", sections=[("Captured stdout setup", SECRET)])):
        scrubbed = scrub_report(config, report)  # type: ignore[arg-type]
        assert scrubbed is not report
        assert SECRET not in repr(scrubbed.longrepr)
        assert SECRET not in repr(scrubbed.user_properties)
        assert SECRET not in repr(scrubbed.sections)

"""The redaction policy: runtime secrets, PEM keys, headers, URL query secrets and BSN."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_dso.dsofile import (
    ApiConfig,
    CertificateConfig,
    DsoFile,
    EvidenceConfig,
)
from pytest_dso.evidence.redaction import ALLURE_REDACTED, REDACTED, Redactor, find_secrets
from pytest_dso.settings import DsoSettings
from pytest_dso.tenants import Tenant

PASS = "Sup3r-Secret!pass"
KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
PEM = f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\nabcd==\n-----END PRIVATE KEY-----\n"


def test_registered_secret_is_removed_in_every_usual_encoding() -> None:
    redactor = Redactor([PASS])
    text = (
        f"plain {PASS}; repr {PASS!r}; json {json.dumps(PASS)}; "
        "url Sup3r-Secret%21pass; xml Sup3r-Secret!pass"
    )
    out = redactor.redact_text(text)
    assert PASS not in out
    assert "Sup3r-Secret%21pass" not in out
    assert out.count(REDACTED) == 5


def test_secrets_added_at_runtime_apply_to_later_text() -> None:
    redactor = Redactor()
    assert redactor.redact_text("token tok-123456") == "token tok-123456"
    redactor.add_secret(b"tok-123456")
    assert redactor.redact_text("token tok-123456") == f"token {REDACTED}"


def test_very_short_secrets_are_ignored_and_repr_shows_no_secret() -> None:
    redactor = Redactor(["ab", PASS])
    assert redactor.redact_text("ab cd") == "ab cd"
    assert PASS not in repr(redactor)


@pytest.mark.parametrize(
    "text",
    [
        PEM,
        PEM.replace("\n", "\\n"),  # as shown by repr() in an assertion message
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\\n" + KEY_BODY + "...",  # cut short
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\n"
        + KEY_BODY
        + "\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_pem_private_key_blocks_are_removed(text: str) -> None:
    out = Redactor().redact_text(f"before {text} after")
    assert KEY_BODY not in out
    assert out.startswith("before ")
    assert "[REDACTED PRIVATE KEY]" in out


def test_pem_fragment_is_removed_once_the_key_is_registered() -> None:
    redactor = Redactor()
    redactor.add_pem_secret(PEM)
    assert KEY_BODY not in redactor.redact_text(f"E   + {KEY_BODY}")


def test_certificates_are_not_redacted() -> None:
    cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"
    assert Redactor().redact_text(cert) == cert


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.def\nAccept: */*", "Accept: */*"),
        ("{'x-api-key': 'k-1234', 'Accept': 'x'}", "'Accept': 'x'"),
        ('{"Cookie": "sid=1; a=2"}', '{"Cookie": "'),
        ("Set-Cookie: sid=1; Path=/", "Set-Cookie: "),
        ("X-Custom-Token: zzz", "X-Custom-Token: "),
    ],
)
def test_sensitive_header_values_in_text(text: str, kept: str) -> None:
    out = Redactor(redact_headers=["X-Custom-Token"]).redact_text(text)
    assert REDACTED in out
    assert kept in out
    for value in ("abc.def", "k-1234", "sid=1", "zzz"):
        assert value not in out


def test_mentioning_a_header_is_not_redacted() -> None:
    text = "the x-api-key header is missing"
    assert Redactor().redact_text(text) == text


def test_redact_headers_uses_the_allure_marker_for_structured_headers() -> None:
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "Content-Type": "text/xml"}
    assert Redactor().redact_headers(headers, marker=ALLURE_REDACTED) == [
        ("Authorization", ALLURE_REDACTED),
        ("Content-Type", "text/xml"),
    ]


def test_url_query_secrets_and_userinfo() -> None:
    out = Redactor().redact_url("https://user:pw@h.example/p?api_key=K1&x=1&token=T2#f")
    assert out == f"https://{REDACTED}@h.example/p?api_key={REDACTED}&x=1&token={REDACTED}#f"


def test_bsn_in_stam_xml_any_namespace_prefix_and_case() -> None:
    xml = (
        '<stam:verzoek xmlns:stam="urn:x"><stam:BSN>123456782</stam:BSN><naam>Jan</naam>'
        "<Burgerservicenummer>111222333</Burgerservicenummer><bsn/></stam:verzoek>"
    )
    out = Redactor().redact_xml(xml)
    assert "123456782" not in out
    assert "111222333" not in out
    assert "<naam>Jan</naam>" in out
    assert "<bsn/>" in out
    assert Redactor().redact_xml(xml.encode()) == out.encode()


def test_bsn_escaped_json_and_attribute_forms() -> None:
    redactor = Redactor(redact_elements=["bsn", "sofinummer"])
    out = redactor.redact_text(
        '&lt;bsn&gt;123456782&lt;/bsn&gt; {"sofinummer": 111222333} <p bsn="999888777"/>'
    )
    for value in ("123456782", "111222333", "999888777"):
        assert value not in out


def test_a_personal_data_key_in_a_json_document_loses_its_value(tmp_path: Path) -> None:
    """A JSON attachment is redacted value by value; a ``bsn`` key takes its value with it,
    whatever its type, also nested, and the file stays valid JSON."""
    redactor = Redactor()
    data = {"aanvrager": {"BSN": "123456782", "naam": "Jan"},
            "personen": [{"burgerservicenummer": 111222333}], "bsn": None}
    assert redactor.redact_json(data) == {
        "aanvrager": {"BSN": REDACTED, "naam": "Jan"},
        "personen": [{"burgerservicenummer": REDACTED}], "bsn": None}
    path = tmp_path / "verzoek.json"
    path.write_text(json.dumps(data))
    assert redactor.redact_file(path)
    text = path.read_text()
    assert "123456782" not in text
    assert "111222333" not in text
    assert json.loads(text)["aanvrager"]["naam"] == "Jan"


def test_extra_redaction_runs_after_the_built_in_rules() -> None:
    redactor = Redactor(extra=[lambda t: t.replace("ACME-42", "[acme]"), lambda t: None])
    assert redactor.redact_text("ACME-42 here") == "[acme] here"


def test_from_settings_collects_passphrases_and_api_key(tmp_path: Path) -> None:
    secret_file = tmp_path / "bg.pass"
    secret_file.write_text("bg-passphrase-77\n")
    file = DsoFile(
        certificate=CertificateConfig(
            cert=tmp_path / "c.pem", key=tmp_path / "k.pem", passphrase_env="MY_PASS"
        ),
        bevoegde_gezagen=(
            Tenant(
                oin="00000001000000000001",
                name="Gemeente X",
                type="gemeente",
                certificate=CertificateConfig(
                    pkcs12=tmp_path / "x.p12", passphrase_file=secret_file
                ),
            ),
        ),
        api=ApiConfig(api_key_env="MY_KEY"),
        evidence=EvidenceConfig(redact_elements=("bsn",), redact_headers=("X-Trace-Secret",)),
    )
    settings = DsoSettings(env="pre", file=file)
    redactor = Redactor.from_settings(
        settings, environ={"MY_PASS": PASS, "MY_KEY": "api-key-0123456789"}
    )
    out = redactor.redact_text(f"{PASS} bg-passphrase-77 api-key-0123456789 X-Trace-Secret: s")
    assert out == f"{REDACTED} {REDACTED} {REDACTED} X-Trace-Secret: {REDACTED}"


def test_redact_tree_and_find_secrets(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"x {PASS} y")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + PASS.encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.json").write_text(json.dumps({"p": PASS}))
    redactor = Redactor([PASS])
    changed = redactor.redact_tree(tmp_path)
    assert sorted(p.name for p in changed) == ["a.txt", "c.json"]
    # Binary files are not rewritten (a PNG is never text); find_secrets still sees them.
    assert [p.name for p, _ in find_secrets(tmp_path, [PASS])] == ["b.png"]
    assert json.loads((tmp_path / "sub" / "c.json").read_text()) == {"p": REDACTED}


def test_json_and_xml_files_stay_well_formed(tmp_path: Path) -> None:
    from lxml import etree

    redactor = Redactor(["tok-0123456789"])
    data = {
        "message": 'Authorization: Bearer "tok-0123456789" + x',
        "trace": "-----BEGIN PRIVATE KEY-----\nMIIEvQ",
        "other": "MIIEvQ\n-----END PRIVATE KEY-----",
        "url": 'https://h/p?token=abc\\"',
    }
    path = tmp_path / "x-result.json"
    path.write_text(json.dumps(data))
    assert redactor.redact_file(path)
    loaded = json.loads(path.read_text())
    assert "tok-0123456789" not in path.read_text()
    assert loaded["url"] == f'https://h/p?token={REDACTED}\\"'
    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testcase name="t">'
        '<failure message="x-api-key: tok-0123456789">Authorization: Bearer abc'
        "</failure></testcase></testsuites>"
    )
    assert redactor.redact_file(xml)
    root = etree.fromstring(xml.read_bytes())
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.get("message") == f"x-api-key: {REDACTED}"
    assert failure.text == f"Authorization: {REDACTED}"


def test_a_document_with_nothing_to_redact_comes_back_as_it_is() -> None:
    redactor = Redactor([PASS])
    clean = {"name": "test_x[gemeente-1010]", "children": [f"{n:032x}" for n in range(50)]}
    assert redactor.redact_json(clean) is clean


def test_every_rule_still_applies_inside_documents_and_in_any_case() -> None:
    redactor = Redactor([PASS, 'quote"d-secret\\x'])
    document = {
        "deep": [{"text": f"say {PASS} twice {PASS}"}],
        "escaped": ['a quote"d-secret\\x b'],
        "header": "AUTHORIZATION: Bearer abc.def",
        "url": "https://127.0.0.1/x?Token=t0k3n&x=1",
        "xml": "<ns:BSN>123456782</ns:BSN>",
        "pem": PEM,
        PASS: "as a key",
    }
    text = json.dumps(redactor.redact_json(document), ensure_ascii=False)
    for leaked in (PASS, "quote", "abc.def", "t0k3n", "123456782", KEY_BODY):
        assert leaked not in text
    # not ASCII: the rules' own case folding (the Kelvin sign folds to k)
    assert "abc.def" not in redactor.redact_text("Ünïcode x-api-\u212aey: abc.def")
    assert redactor.redact_text(f"Ünïcode {PASS}") == f"Ünïcode {REDACTED}"


def test_a_secret_added_later_is_found_in_documents_and_texts() -> None:
    redactor = Redactor()
    document = {"a": ["x", {"b": "late-secret-42"}]}
    assert redactor.redact_json(document) is document
    redactor.add_secret("late-secret-42")
    assert "late-secret-42" not in json.dumps(redactor.redact_json(document))
    assert redactor.redact_text("late-secret-42!") == f"{REDACTED}!"


def test_the_final_pass_skips_only_what_the_writer_redacted_at_the_current_generation(
    tmp_path: Path,
) -> None:
    from pytest_dso.evidence.results import RedactingResultsWriter

    redactor = Redactor([PASS])
    writer = RedactingResultsWriter(tmp_path, redactor)
    writer.report_attached_data(f"early {PASS}", "a-attachment.txt")
    writer.report_attached_data("later late-secret-42", "b-attachment.txt")
    (tmp_path / "c-foreign.txt").write_text(f"foreign {PASS}")
    assert (tmp_path / "a-attachment.txt").read_text() == f"early {REDACTED}"
    assert writer.is_current(tmp_path / "a-attachment.txt")
    assert not writer.is_current(tmp_path / "c-foreign.txt")

    redactor.add_secret("late-secret-42")  # after the writer redacted its files
    assert not writer.is_current(tmp_path / "b-attachment.txt")
    changed = redactor.redact_tree(tmp_path, writer.is_current)
    assert sorted(p.name for p in changed) == ["b-attachment.txt", "c-foreign.txt"]
    assert find_secrets(tmp_path, [PASS, "late-secret-42"]) == []

    writer.report_attached_data("again", "a-attachment.txt")
    (tmp_path / "a-attachment.txt").write_text(f"overwritten {PASS}")  # by someone else
    assert not writer.is_current(tmp_path / "a-attachment.txt")
    redactor.redact_tree(tmp_path, writer.is_current)
    assert find_secrets(tmp_path, [PASS]) == []


def test_the_fold_table_holds_every_character_the_rules_match_to_ascii() -> None:
    import itertools
    import re

    from pytest_dso.evidence.redaction import ASCII_FOLD

    any_ascii = re.compile(r"[a-z0-9_=?&;:-]", re.IGNORECASE)
    # every non-ASCII code point but the surrogates, searched in one pass
    every = "".join(map(chr, itertools.chain(range(0x80, 0xD800), range(0xE000, 0x110000))))
    found = {ord(c) for c in any_ascii.findall(every)}
    assert found == set(ASCII_FOLD)
    redactor = Redactor()
    texts = ("x-ap\u0130-key: abc.def", "coo\u212aie: abc.def", "https://h/?\u017fecret=abc.def",
             "<B\u017fN>123</B\u017fN>", "h?\u0131d_token=abc.def and x-api-key: abc.def")
    for text in texts:
        # the screened redaction is the one every rule gives, and it removes the value
        assert redactor.redact_text(text) == redactor._apply_rules(text, None, 31)
        assert "abc.def" not in redactor.redact_text(text)
        assert "123" not in redactor.redact_text(text)

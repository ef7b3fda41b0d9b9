"""dso.toml parsing: the documented examples load, and every kind of mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso.dsofile import ConfigError, load_dso_toml, parse_dso_toml

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/dso.toml")), ids=lambda p: p.parent.name)
def test_documented_examples_are_valid(path: Path) -> None:
    parsed = load_dso_toml(path)
    assert parsed.bevoegde_gezagen
    assert parsed.certificate is not None
    certificate_file = parsed.certificate.pkcs12 or parsed.certificate.cert
    assert certificate_file is not None
    assert certificate_file.is_relative_to(path.parent.resolve())


def test_multi_klant_example_has_per_tenant_certificate_and_behandeldienst() -> None:
    parsed = load_dso_toml(EXAMPLES / "leverancier-meerdere-klanten" / "dso.toml")
    by_type = {bg.type for bg in parsed.bevoegde_gezagen}
    assert by_type == {"gemeente", "waterschap", "omgevingsdienst"}
    od = parsed.bevoegde_gezagen[-1]
    assert od.certificate is not None
    assert od.certificate.pkcs12 is not None
    assert parsed.bevoegde_gezagen[0].behandeldiensten == (od.oin,)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_dso_toml(text, Path("/cfg/dso.toml"))
    assert str(info.value).startswith("/cfg/dso.toml is not valid:")
    return info.value.problems


def test_missing_required_keys_are_listed() -> None:
    assert problems("[leverancier]\nname = 'x'\n") == ["[leverancier] oin: required key is missing"]


def test_wrong_types_name_the_expected_type() -> None:
    found = problems("[ebms]\ntimeout = 'long'\nconcurrency = 1.5\n[network]\nallow_from = 3\n")
    assert found == [
        "[ebms] timeout: expected a number, got 'long'",
        "[ebms] concurrency: expected an integer, got 1.5",
        "[network] allow_from: expected a list of strings, got 3",
    ]


def test_unknown_keys_and_sections_are_errors_not_silently_ignored() -> None:
    found = problems("[certificate]\npkcs12 = 'a.p12'\npassphrase_envv = 'X'\n[tls]\n")
    assert found[0].startswith("[certificate] passphrase_envv: unknown key; known keys are ")
    assert found[1].startswith("[tls]: unknown section; known sections are ")


def test_inline_passphrase_is_refused_without_echoing_it() -> None:
    found = problems("[certificate]\npkcs12 = 'a.p12'\npassphrase = 'Sup3rGeheim'\n")
    assert found == [
        "[certificate] passphrase: inline passphrases are not allowed; use passphrase_env "
        "(the name of an environment variable) or passphrase_file (a file readable only by you)"
    ]
    assert "Sup3rGeheim" not in " ".join(found)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("cert = 'c.pem'", "[certificate] key: required together with the other PEM file"),
        ("cert = 'c'\nkey = 'k'\npkcs12 = 'p'", "[certificate]: give either cert + key (PEM) or "
         "pkcs12, not both"),
        ("ca_bundle = 'ca.pem'", "[certificate]: give cert + key (PEM paths) or pkcs12"),
    ],
)
def test_certificate_needs_one_complete_form(body: str, expected: str) -> None:
    assert problems(f"[certificate]\n{body}\n") == [expected]


def test_bevoegd_gezag_oin_type_and_duplicates() -> None:
    bg = "[[bevoegd_gezag]]\noin = '{oin}'\nname = 'G'\ntype = '{type}'\n"
    found = problems(
        bg.format(oin="123", type="gemeente")
        + bg.format(oin="00000001002220647000", type="stadsdeel")
        + bg.format(oin="00000001002220647000", type="gemeente")
        + bg.format(oin="00000001002220647000", type="gemeente")
    )
    assert found[0] == (
        "[bevoegd_gezag #1] oin: expected a 20-character OIN (e.g. 00000001002220647000), got '123'"
    )
    assert found[1].startswith("[bevoegd_gezag #2] type: expected one of 'gemeente', ")
    assert found[2] == "[[bevoegd_gezag]] oin: 00000001002220647000 is listed more than once"


def test_invalid_toml_is_reported_with_position() -> None:
    (found,) = problems("[dso\nenv = 'pre'")
    assert found.startswith("not valid TOML: ")
    assert "line 1" in found


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "sub" / "dso.toml"
    cfg.parent.mkdir()
    cfg.write_text("[ebms]\ncpa = 'cpa.xml'\n[api.base_urls]\nafhandelen = 'https://x/'\n")
    parsed = load_dso_toml(cfg)
    assert parsed.ebms.cpa == cfg.parent.resolve() / "cpa.xml"
    assert parsed.api.base_urls == {"afhandelen": "https://x/"}


def test_unknown_api_name_in_base_urls() -> None:
    (found,) = problems("[api.base_urls]\nophalen = 'https://x'\n")
    assert found.startswith("[api.base_urls] ophalen: unknown API; known APIs are afhandelen, ")

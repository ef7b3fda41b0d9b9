"""Schema validation (ours and a user's XSD folder) and content checks of a verzoek."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_dso.findings import Severity, errors, with_check
from pytest_dso.stam.bijlagen import spec_for
from pytest_dso.stam.model import Doel, Organisatie, Verzoek, Verzoeknotificatie, VerzoekType
from pytest_dso.stam.schemas import SCHEMA_DIR
from pytest_dso.stam.validate import (
    check_bijlage,
    check_verzoek,
    validate_verzoek,
    validate_verzoeknotificatie,
)
from pytest_dso.stam.xml import render_verzoek, render_verzoeknotificatie

BG = "00000099000000101000"
BD = "00000099000000201000"


def test_our_schema_accepts_what_we_emit(verzoek: Verzoek) -> None:
    assert validate_verzoek(render_verzoek(verzoek)) == []


@pytest.mark.parametrize("vtype", list(VerzoekType))
def test_every_type_is_schema_valid(make: Callable[..., Verzoek], vtype: VerzoekType) -> None:
    assert validate_verzoek(render_verzoek(make(type=vtype))) == []


def test_minimal_verzoek_is_schema_valid(make: Callable[..., Verzoek]) -> None:
    v = make(initiatiefnemer=None, bijlagen=(), projectlocaties=(), toelichting="")
    assert validate_verzoek(render_verzoek(v)) == []


def test_missing_verzoeknummer_is_rejected_with_line_and_path(verzoek: Verzoek) -> None:
    xml = render_verzoek(verzoek)
    start = xml.index(b"  <vx:verzoeknummer>")
    end = xml.index(b"\n", start) + 1
    findings = validate_verzoek(xml[:start] + xml[end:])
    assert findings
    assert all(f.check == "stam.xsd.invalid" for f in findings)
    assert "verzoeknummer" in findings[0].message
    assert findings[0].where.startswith("line 3")
    assert "/vx:verzoek" in findings[0].where or "/*" in findings[0].where


def test_wrong_type_enumeration_is_rejected(verzoek: Verzoek) -> None:
    xml = render_verzoek(verzoek).replace(b">Melding<", b">Vergunning<")
    findings = validate_verzoek(xml)
    assert len(findings) == 1
    assert "enumeration" in findings[0].message
    assert "type" in findings[0].where


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"2026060200019", b"OLO2026"),
        (b"<vx:oin>00000099000000101000", b"<vx:oin>123"),
        (b"<vx:volgnummer>0<", b"<vx:volgnummer>1000<"),
        (b">Initi\xc3\xabren<", b">Vooroverleg<"),
    ],
)
def test_other_broken_documents_are_rejected(verzoek: Verzoek, old: bytes, new: bytes) -> None:
    xml = render_verzoek(verzoek)
    assert old in xml
    assert errors(validate_verzoek(xml.replace(old, new)))


def test_xxe_is_refused_before_validation() -> None:
    xml = b'<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]><v>&x;</v>'
    findings = validate_verzoek(xml)
    assert [f.check for f in findings] == ["stam.xml.unsafe"]
    assert b"root:" not in str(findings).encode()


def test_malformed_xml_is_reported() -> None:
    findings = validate_verzoek(b"<verzoek><verzoeknummer>1</verzoek>")
    assert [f.check for f in findings] == ["stam.xml.malformed"]
    assert findings[0].where.startswith("line")


def test_notificatie_schema() -> None:
    good = render_verzoeknotificatie(Verzoeknotificatie("2026060200019", volgnummer=0))
    assert validate_verzoeknotificatie(good) == []
    bad = good.replace(b"2026060200019", b"x")
    assert with_check(validate_verzoeknotificatie(bad), "stam.xsd.invalid")


def test_user_xsd_dir_is_used(tmp_path: Path, verzoek: Verzoek) -> None:
    user = tmp_path / "xsd"
    shutil.copytree(SCHEMA_DIR, user, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    xml = render_verzoek(verzoek)
    assert validate_verzoek(xml, user) == []
    entry = user / "stam-sim-verzoek.xsd"
    entry.write_text(entry.read_text("utf-8").replace('value="Melding"', 'value="Mld"'), "utf-8")
    findings = validate_verzoek(xml, user)
    assert findings
    assert findings[0].evidence["schema"].endswith("stam-sim-verzoek.xsd")


def test_user_xsd_dir_without_matching_schema(tmp_path: Path, verzoek: Verzoek) -> None:
    (tmp_path / "other.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
        '<xs:element name="iets" type="xs:string"/></xs:schema>',
        "utf-8",
    )
    findings = validate_verzoek(render_verzoek(verzoek), tmp_path)
    assert [f.check for f in findings] == ["stam.xsd.no_schema"]
    assert "{urn:x}iets" in findings[0].hint


def test_missing_user_xsd_dir(tmp_path: Path, verzoek: Verzoek) -> None:
    findings = validate_verzoek(render_verzoek(verzoek), tmp_path / "nope")
    assert [f.check for f in findings] == ["stam.xsd.dir_missing"]


def test_check_clean_for_the_uitvoerende_instantie(verzoek: Verzoek) -> None:
    assert check_verzoek(verzoek, BD, "2026060200019", VerzoekType.MELDING) == []


def test_kopiebericht_is_info_not_error(verzoek: Verzoek) -> None:
    findings = check_verzoek(verzoek, BG, "2026060200019", "Melding")
    assert [(f.check, f.severity) for f in findings] == [
        ("stam.verzoek.kopiebericht", Severity.INFO)
    ]


def test_wrong_tenant_is_an_error(verzoek: Verzoek) -> None:
    findings = check_verzoek(verzoek, "00000099000000999000")
    assert [f.check for f in errors(findings)] == ["stam.verzoek.oin_mismatch"]


def test_mismatching_submission_is_an_error(verzoek: Verzoek) -> None:
    findings = check_verzoek(verzoek, BD, "2026060200020", VerzoekType.INFORMATIE)
    assert {f.check for f in errors(findings)} == {
        "stam.verzoek.verzoeknummer_mismatch",
        "stam.verzoek.type_mismatch",
    }


def test_odd_verzoeknummer_only_warns(make: Callable[..., Verzoek]) -> None:
    v = make(verzoeknummer="OLO123")
    findings = check_verzoek(v, BD, "OLO123")
    assert not errors(findings)
    assert with_check(findings, "stam.verzoeknummer.format")


def test_volgnummer_and_doel_must_agree(make: Callable[..., Verzoek]) -> None:
    v = make(volgnummer=999, doel=Doel.AANVULLEN)
    findings = check_verzoek(v, BD)
    assert [f.check for f in findings] == ["stam.verzoek.volgnummer_doel"]
    assert findings[0].severity == Severity.WARNING


def test_bg_as_uitvoerende_instantie_is_clean(make: Callable[..., Verzoek]) -> None:
    v = make(uitvoerende_instantie=Organisatie(BG, "TEST Gemeente"))
    assert check_verzoek(v, BG) == []


def test_check_bijlage() -> None:
    spec = spec_for(3, min_size=1_000, max_size=5_000)
    meta = spec.bijlage("d1")
    assert check_bijlage(meta, spec.chunks()) == []
    assert check_bijlage(meta, spec.read()) == []
    data = spec.read()
    broken = data[:-1] + bytes([data[-1] ^ 1])
    assert [f.check for f in check_bijlage(meta, broken)] == ["stam.bijlage.sha256"]
    assert {f.check for f in check_bijlage(meta, data[:100])} == {
        "stam.bijlage.size",
        "stam.bijlage.sha256",
    }


def test_check_bijlage_with_the_digest_given_finds_what_hashing_finds() -> None:
    spec = spec_for(4, min_size=1_000, max_size=5_000)
    meta = spec.bijlage("d2")
    data = spec.read()
    for content in (data, data[:-1] + bytes([data[-1] ^ 1]), data[:100]):
        digest = hashlib.sha256(content).hexdigest()
        assert check_bijlage(meta, content, sha256=digest) == check_bijlage(meta, content)

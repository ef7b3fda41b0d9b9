"""The MSH checks the ebMS 2.0 schema and the Digikoppeling profile before it acknowledges,
and locates errors as ebms-core does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import parse_soap_fault
from pytest_dso.ebms.conformance import CaseContext, conformance_cpa
from pytest_dso.ebms.cpa import Cpa, parse_cpa
from pytest_dso.ebms.envelope import build_envelope
from pytest_dso.ebms.mime import pack
from pytest_dso.ebms.msh import AcceptedMessage, Msh, MshResult
from pytest_dso.pkio.testpki import TestPki

SOAP = f"{{{c.SOAP_NS}}}"
EB = f"{{{c.EB_NS}}}"
XLINK = f"{{{c.XLINK_NS}}}"


@pytest.fixture(scope="module")
def cpa(ebms_pki: TestPki) -> Cpa:
    return parse_cpa(conformance_cpa(ebms_pki, "https://dso-lv.test.localhost/ebms",
                                     "https://digikoppelaar.test.localhost/ebms"))


def _send(ebms_pki: TestPki, cpa: Cpa, change: Callable[[etree._Element], None],
          delivered: list[AcceptedMessage]) -> MshResult:
    own = cpa.party(ebms_pki.party("digikoppelaar").oin)
    ctx = CaseContext(cpa, own, cpa.other_party(own), "digikoppelaar.test.localhost",
                      dt.datetime.now(dt.UTC))
    msg = ctx.business()
    envelope = etree.fromstring(build_envelope(msg))
    change(envelope)
    edited = bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
    content_type, body = pack(msg)
    body = body.replace(build_envelope(msg), edited, 1)
    msh = Msh((cpa,), (ebms_pki.party("dso-lv").oin,), on_deliver=delivered.append)
    return msh.handle(content_type, {"SOAPAction": c.SOAP_ACTION}, body)


def _find(envelope: etree._Element, path: str) -> etree._Element:
    found = envelope.find(path)
    assert found is not None, path
    return found


def test_a_manifest_without_reference_is_a_fault_not_an_ack(
    ebms_pki: TestPki, cpa: Cpa
) -> None:
    def empty(envelope: etree._Element) -> None:
        manifest = _find(envelope, f"{SOAP}Body/{EB}Manifest")
        for child in list(manifest):
            manifest.remove(child)

    delivered: list[AcceptedMessage] = []
    result = _send(ebms_pki, cpa, empty, delivered)
    assert result.status == 500
    assert result.reply is None
    assert delivered == []
    fault = parse_soap_fault(result.body)
    assert fault is not None
    assert "ebMS 2.0 schema" in fault.text
    assert "eb:Reference" in fault.text
    assert "//Body/Manifest" in fault.text


def test_an_unknown_cid_is_located_at_the_href_as_ebms_core_does(
    ebms_pki: TestPki, cpa: Cpa
) -> None:
    def other_cid(envelope: etree._Element) -> None:
        _find(envelope, f"{SOAP}Body/{EB}Manifest/{EB}Reference").set(
            XLINK + "href", "cid:elsewhere@test")

    delivered: list[AcceptedMessage] = []
    result = _send(ebms_pki, cpa, other_cid, delivered)
    assert [(e.code, e.location, e.description) for e in result.errors] == [
        (c.MIME_PROBLEM, "cid:elsewhere@test", "MIME part not found.")
    ]
    assert delivered == []


@pytest.mark.parametrize(
    ("path", "attribute", "value", "code", "location"),
    [
        (f"{SOAP}Header/{EB}MessageHeader", f"{SOAP}mustUnderstand", "0", c.INCONSISTENT,
         "//Header/MessageHeader/@mustUnderstand"),
        (f"{SOAP}Header/{EB}AckRequested", f"{SOAP}actor", "urn:x:elsewhere", c.INCONSISTENT,
         "//Header/AckRequested/@actor"),
        (f"{SOAP}Header/{EB}MessageHeader/{EB}Action", None, "Verzoek notificatie",
         c.INCONSISTENT, "//Header/MessageHeader/Action"),
    ],
)
def test_profile_violations_are_message_errors_before_any_ack(
    ebms_pki: TestPki, cpa: Cpa, path: str, attribute: str | None, value: str, code: str,
    location: str,
) -> None:
    def change(envelope: etree._Element) -> None:
        element = _find(envelope, path)
        if attribute is None:
            element.text = value
        else:
            element.set(attribute, value)

    delivered: list[AcceptedMessage] = []
    result = _send(ebms_pki, cpa, change, delivered)
    assert [(e.code, e.location) for e in result.errors] == [(code, location)]
    assert result.reply is not None
    assert result.reply.action == c.ACTION_MESSAGE_ERROR
    assert delivered == []

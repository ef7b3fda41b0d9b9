"""Every input that once gave a 500 from the simulator gets a 4xx with a problem body (or an
ebMS MessageError), never a 500 or a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sim_helpers import client_for, melding, submit

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.envelope import PartyId, build_envelope, format_timestamp, ping
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpClient, HttpExchange


def _indienen(sim: Simulator, body: bytes) -> HttpExchange:
    return HttpClient.for_identity(None, sim.trust_anchors).post(
        sim.api_url("indienen") + "/verzoeken", body,
        headers={"x-api-key": sim.api_key, "Content-Type": "application/json"})


def _bericht(**changes: Any) -> bytes:
    return json.dumps({**melding(), "definitief": True, **changes}).encode()


HOSTILE_INDIENEN = {
    "bijlage below the minimum size": _bericht(bijlagen=[{"seed": 1, "size": 10}]),
    "bijlage of 1e12 bytes (float)": _bericht(bijlagen=[{"seed": 1, "size": 1e12}]),
    "bijlage of 10^12 bytes": _bericht(bijlagen=[{"seed": 1, "size": 10**12}]),
    "control character in naam": _bericht(naam="Aansluit\x01test"),
    "control character in an antwoord": _bericht(activiteiten=[{
        **melding()["activiteiten"][0],
        "specificaties": [{"vraagId": "4", "antwoord": "Jan\x00"}]}]),
    "5000-digit number": b'{"type": "Melding", "x": ' + b"9" * 5000 + b"}",
    "100,000 nested arrays": b'{"type": "Melding", "x": ' + b"[" * 100_000 + b"]" * 100_000
    + b"}",
    "NaN": b'{"type": "Melding", "x": NaN}',
    "not UTF-8": b'{"naam": "\xff"}',
}


@pytest.mark.parametrize("what", list(HOSTILE_INDIENEN))
def test_hostile_indienberichten_get_a_400(module_sim: Simulator, what: str) -> None:
    # one simulator for all of them: nothing stored by this one or any before it
    answer = _indienen(module_sim, HOSTILE_INDIENEN[what])
    assert answer.status == 400, (what, answer.response_body)
    problem = json.loads(answer.response_body)
    assert problem["status"] == 400
    assert problem["detail"]
    assert module_sim.store.count_verzoeken() == 0


def test_zoek_with_a_400_digit_coordinate_gets_a_400(
    module_sim: Simulator, sim_pki: TestPki
) -> None:
    http = client_for(sim_pki.identity("gemeente"), module_sim.trust_anchors)
    body = ('{"periode": {"van": "2024-01-01", "tot": "2030-01-01"}, "polygoon": {"type": '
            '"Polygon", "coordinates": [[[' + "1" * 400 + ', 1], [2, 2], [3, 1]]]}}').encode()
    answer = http.post(module_sim.api_url("afhandelen") + "/verzoeken/_zoek", body,
                       headers={"Content-Type": "application/json"})
    assert answer.status == 400, answer.response_body


def test_wijzig_bevoegd_gezag_with_a_string_gets_a_400(sim: Simulator, sim_pki: TestPki) -> None:
    [nummer] = submit(sim, melding())
    http = client_for(sim_pki.identity("gemeente"), sim.trust_anchors)
    answer = http.post(sim.api_url("afhandelen") + f"/verzoeken/{nummer}/_wijzigBevoegdGezag",
                       b'{"bevoegdGezag": "x"}', headers={"Content-Type": "application/json"})
    assert answer.status == 400, answer.response_body


@pytest.mark.parametrize("body", [b"5", b'{"kind": "http_503", "count": Infinity}',
                                  b'{"kind": "http_503", "count": 1e400}', b'"http_503"'])
def test_sim_faults_with_a_non_object_gets_a_400(module_sim: Simulator, body: bytes) -> None:
    answer = HttpClient.for_identity(None, module_sim.trust_anchors).post(
        module_sim.api_origin + "/_sim/faults", body,
        headers={"x-dso-sim-control-key": module_sim.control_key,
                 "Content-Type": "application/json"})
    assert answer.status == 400, answer.response_body
    assert module_sim.faults.active() == ()


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-01:00",
                                   "12345678901234567890-01-01T00:00:00Z"])
def test_ebms_with_an_out_of_range_timestamp_gets_a_message_error(
    sim: Simulator, sim_pki: TestPki, stamp: str
) -> None:
    cpa = parse_cpa(sim.cpa_path.read_bytes())
    message = ping(cpa_id=cpa.cpa_id, from_party=PartyId(sim_pki.party("digikoppelaar").oin),
                   to_party=PartyId(sim.sim_oin), host="127.0.0.1", sync_reply=True)
    body = build_envelope(message).replace(
        format_timestamp(message.header.timestamp).encode(), stamp.encode())
    answer = client_for(sim_pki.identity("digikoppelaar"), sim.trust_anchors).post(
        sim.ebms_url, body, headers={"Content-Type": c.TEXT_XML,
                                     c.SOAP_ACTION_HEADER: c.SOAP_ACTION})
    if answer.status == 500:  # beyond what xs:dateTime holds: a schema Fault, as ebms-core
        assert b"//Header/MessageHeader/MessageData/Timestamp" in answer.response_body
        return
    assert answer.status in (200, 204), answer.response_body
    assert sim.store.messages()  # recorded, and answered
    if answer.status == 200:
        assert b"ValueNotRecognized" in answer.response_body


def test_cpa_aanbieden_with_an_out_of_range_start_gets_a_400(
    sim: Simulator, sim_pki: TestPki
) -> None:
    xml = sim.local_cpa("https://127.0.0.1:9/ebms")
    cpa = parse_cpa(xml)
    hostile = xml.replace(cpa.start.strftime("%Y-%m-%dT%H:%M:%S").encode(),
                          b"9999-12-31T23:59:59-01:00", 1)
    assert hostile != xml
    answer = client_for(sim_pki.identity("digikoppelaar"), sim.trust_anchors).post(
        sim.api_url("cpa_aanbieden") + "/cpa", hostile,
        headers={"Content-Type": "application/xml"})
    assert answer.status == 400, answer.response_body

"""The REST clients against a real mTLS server on 127.0.0.1 (test PKI, default paths)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.behandeldienstconfiguratie import BehandeldienstconfiguratieClient
from pytest_dso.dso.cpa_aanbieden import CpaAanbiedenClient
from pytest_dso.dso.rest import (
    REDACTED,
    ApiError,
    ExchangeLog,
    RestSession,
    TransportError,
    WritesNotAllowed,
)
from pytest_dso.dso.routering import VerzoeksrouteringClient
from pytest_dso.dso.shapes import ActiviteitRef, BehandeldienstConfiguratie, Toestemming, ZoekVraag
from pytest_dso.pkio.testpki import build_test_pki
from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.validate import check_bijlage, check_verzoek, validate_verzoek
from pytest_dso.stam.xml import parse_verzoek

GEMEENTE = "00000099000000101000"
OD = "00000099000000201000"
WATERSCHAP = "00000099000000102000"
LEVERANCIER = "00000099000000003000"


def test_fetch_a_verzoek_end_to_end(world: Any, session_for: Any, add_verzoek: Any) -> None:
    spec = BijlageSpec(11, 20_000, "tekening.pdf")
    add_verzoek("2026060200001", GEMEENTE, OD, spec)
    log = ExchangeLog()
    client = AfhandelenClient(session_for("omgevingsdienst", recorder=log.record))
    refs = client.referenties("2026060200001")
    assert refs.volgnummer == 0
    xml = client.verzoek_xml("2026060200001", refs)
    assert validate_verzoek(xml) == []
    verzoek = parse_verzoek(xml)
    assert check_verzoek(verzoek, OD, "2026060200001", "Melding") == []
    (link,) = refs.documenten
    data = client.document(link)
    assert check_bijlage(verzoek.bijlagen[0], data) == []
    assert client.pdf("2026060200001", refs).startswith(b"%PDF")
    assert [e.operation for e in log.exchanges] == [
        "afhandelen.referenties",
        "afhandelen.verzoek",
        "afhandelen.document",
        "afhandelen.pdf",
    ]
    assert log.exchanges[0].header("API-Version") == "2.0.1"
    assert world.seen[0]["oin"] == OD
    assert world.seen[0]["headers"]["Accept"] == "application/hal+json"


def test_other_party_is_refused_without_mandate(
    world: Any, session_for: Any, add_verzoek: Any
) -> None:
    add_verzoek("2026060200002", GEMEENTE, OD)
    client = AfhandelenClient(session_for("waterschap"))
    response = client.referenties_response("2026060200002")
    assert not response.ok
    with pytest.raises(ApiError, match="HTTP 403") as info:
        client.referenties("2026060200002")
    assert info.value.status == 403


def test_leverancier_with_mandate_and_acting_oin_header(
    world: Any, session_for: Any, add_verzoek: Any, rest_config: Any
) -> None:
    add_verzoek("2026060200003", GEMEENTE, OD)
    world.mandates = world.mandates.grant(LEVERANCIER, GEMEENTE, Mandaat.OPHALEN_VERZOEK)
    plain = AfhandelenClient(session_for("leverancier", acting_oin=GEMEENTE))
    assert plain.referenties("2026060200003").verzoeknummer == "2026060200003"
    assert "X-Namens-OIN" not in world.seen[-1]["headers"], "header must be off by default"
    config = rest_config(acting_oin_header="X-Namens-OIN")
    acting = AfhandelenClient(session_for("leverancier", config=config, acting_oin=OD))
    assert acting.referenties_response("2026060200003").status == 403
    assert world.seen[-1]["headers"]["X-Namens-OIN"] == OD


def test_zoek_pages(world: Any, session_for: Any, add_verzoek: Any) -> None:
    for n in range(1, 6):
        add_verzoek(f"20260602{n:05d}", GEMEENTE, OD)
    add_verzoek("2026060200099", WATERSCHAP, WATERSCHAP)
    client = AfhandelenClient(session_for("gemeente"))
    vraag = ZoekVraag(
        dt.date(2026, 6, 1), dt.date(2026, 6, 3), verzoeknummer="", page_size=2, polygoon=()
    )
    with pytest.raises(ApiError, match="HTTP"):
        client.zoek(vraag)  # neither verzoeknummer nor polygoon: the server refuses
    hits = client.zoek_alle(
        ZoekVraag(dt.date(2026, 6, 1), dt.date(2026, 6, 3), "2026060200004", page_size=2)
    )
    assert [h.verzoeknummer for h in hits] == ["2026060200004"]


def test_behandeldienstconfiguratie_crud(world: Any, session_for: Any) -> None:
    client = BehandeldienstconfiguratieClient(session_for("gemeente"), writes_allowed=True)
    config = BehandeldienstConfiguratie(
        GEMEENTE, ActiviteitRef("Gemeentes – Informatie", GEMEENTE), OD, Toestemming("I", "Info")
    )
    created = client.create(config)
    assert created.id
    assert created.behandeldienst_oin == OD
    assert world.seen[-1]["headers"]["Content-Type"] == "application/json"
    assert client.list() == (created,)
    assert client.get(created.id) == created
    with pytest.raises(ApiError, match="409"):
        client.create(config)
    client.delete(created.id)
    assert client.list() == ()
    with pytest.raises(ApiError, match="404"):
        client.get(created.id)


def test_writes_are_refused_before_anything_is_sent(world: Any, session_for: Any) -> None:
    session = session_for("gemeente")
    client = BehandeldienstconfiguratieClient(session, writes_allowed=False)
    config = BehandeldienstConfiguratie(GEMEENTE, ActiviteitRef("X", GEMEENTE), OD)
    with pytest.raises(WritesNotAllowed, match="--dso-allow-writes"):
        client.create(config)
    with pytest.raises(WritesNotAllowed):
        client.delete("abc")
    with pytest.raises(WritesNotAllowed):
        CpaAanbiedenClient(session, writes_allowed=False).aanbieden(b"<cpa/>")
    with pytest.raises(WritesNotAllowed):
        AfhandelenClient(session).wijzig_bevoegd_gezag("2026060200001", OD, writes_allowed=False)
    assert world.seen == []
    assert client.list() == ()  # reads still work


def test_api_key_from_env_on_public_apis_only_and_masked(
    world: Any, session_for: Any, rest_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSO_TEST_API_KEY", world.api_key)
    log = ExchangeLog()
    session = session_for(
        "gemeente", config=rest_config(api_key_env="DSO_TEST_API_KEY"), recorder=log.record
    )
    gezagen = VerzoeksrouteringClient(session).bevoegd_gezag_bepalen(
        ["ref-1"], locatie_oin=GEMEENTE)
    assert gezagen[0][0].oin == GEMEENTE
    assert world.seen[-1]["headers"]["x-api-key"] == world.api_key
    AfhandelenClient(session).referenties_response("2026069999999")
    assert "x-api-key" not in world.seen[-1]["headers"]
    recorded = dict(log.exchanges[0].request_headers)
    assert recorded["x-api-key"] == REDACTED
    assert world.api_key not in repr(log.exchanges) + repr(session)


def test_missing_api_key_is_a_clear_401(world: Any, session_for: Any) -> None:
    with pytest.raises(ApiError, match="401"):
        VerzoeksrouteringClient(session_for("gemeente")).bevoegd_gezag_bepalen(["ref-1"])


def test_untrusted_server_is_a_tls_transport_error(world: Any, rest_config: Any) -> None:
    other = build_test_pki(key_type="ec256")
    log = ExchangeLog()
    session = RestSession(
        rest_config(), other.identity("gemeente"), other.hierarchy.anchors, recorder=log.record
    )
    try:
        with pytest.raises(TransportError) as info:
            AfhandelenClient(session).referenties("2026060200001")
    finally:
        session.close()
    assert info.value.kind == "tls"
    assert log.exchanges[0].status is None
    assert log.exchanges[0].error_name


def test_unreachable_port_is_a_connection_error(pki: Any, rest_config: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = rest_config(base_urls={"afhandelen": f"https://127.0.0.1:{port}/x"})
    with (
        RestSession(config, pki.identity("gemeente"), pki.hierarchy.anchors) as session,
        pytest.raises(TransportError) as info,
    ):
        AfhandelenClient(session).referenties("2026060200001")
    assert info.value.kind == "connection"


def test_unconfigured_api_says_where_to_configure(pki: Any, rest_config: Any) -> None:
    with (
        RestSession(
            rest_config(base_urls={}), pki.identity("gemeente"), pki.hierarchy.anchors
        ) as session,
        pytest.raises(KeyError, match="base_urls"),
    ):
        session.url("afhandelen.referenties", verzoeknummer="1")


def test_each_call_records_the_tls_facts_of_its_connection(
    world: Any, session_for: Any, add_verzoek: Any
) -> None:
    from pytest_dso.evidence.exchanges import rest_record
    from pytest_dso.pkio.identity import fingerprint_sha256

    add_verzoek("2026060200007", GEMEENTE, OD)
    log = ExchangeLog()
    client = AfhandelenClient(session_for("omgevingsdienst", recorder=log.record))
    client.referenties("2026060200007")
    server = world.pki.leaves["dso-lv"].certificate
    exchange = log.exchanges[0]
    assert exchange.tls_version in ("TLSv1.2", "TLSv1.3")
    assert exchange.peer_certificate == server
    record = rest_record(exchange)
    assert (record.parameter("request") or "").startswith("GET /")
    assert record.parameter("TLS peer sha256") == fingerprint_sha256(server)
    assert record.parameter("TLS peer serial") == format(server.serial_number, "x")
    assert record.parameter("TLS cipher") == exchange.cipher
    assert record.parameter("HTTP status") == "200"
    assert any(a.name == "TLS" for a in record.attachments)


def test_a_slow_server_is_a_timeout_and_a_huge_body_is_refused(
    pki: Any, rest_config: Any
) -> None:
    """The REST calls keep the transport client's bounds: read timeout and body limit."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    context = pki.identity("dso-lv").server_context(pki.hierarchy.anchors)
    done = threading.Event()

    def serve() -> None:
        for answer in (None, b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n"):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(65536)
                if answer is None:
                    done.wait(5)  # say nothing until the client gave up
                else:
                    tls.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = {"afhandelen": f"https://127.0.0.1:{port}/x"}
    try:
        with RestSession(rest_config(base_urls=base, timeout=0.25), pki.identity("gemeente"),
                         pki.hierarchy.anchors) as session, pytest.raises(TransportError) as slow:
            AfhandelenClient(session).referenties("2026060200001")
        assert slow.value.kind == "timeout"
        done.set()
        with RestSession(rest_config(base_urls=base, max_response=1000),
                         pki.identity("gemeente"), pki.hierarchy.anchors) as session, (
                pytest.raises(TransportError, match="exceeds 1000 bytes")) as big:
            AfhandelenClient(session).referenties("2026060200001")
        assert big.value.kind == "http"
    finally:
        done.set()
        listener.close()
        thread.join(timeout=5)


def test_shared_clients_are_per_identity_and_never_mix_identities(
    world: Any, add_verzoek: Any, rest_config: Any
) -> None:
    from pytest_dso.dso.rest import SharedClients

    add_verzoek("2026060200011", GEMEENTE, OD)
    config = rest_config(acting_oin_header="X-Namens-OIN")
    clients = SharedClients(config, world.pki.hierarchy.anchors)
    leverancier, od = world.pki.identity("leverancier"), world.pki.identity("omgevingsdienst")
    try:
        first = clients.session(leverancier, acting_oin=GEMEENTE)
        second = clients.session(leverancier, acting_oin=WATERSCHAP)
        third = clients.session(od, acting_oin=OD)
        assert clients.client(leverancier) is clients.client(leverancier)
        assert clients.client(od) is not clients.client(leverancier)
        assert clients.client(None) is not clients.client(leverancier)
        again = dataclasses.replace(leverancier)  # another object, the same certificate
        assert again is not leverancier
        assert clients.client(again) is clients.client(leverancier)
        assert clients.client(od) is not clients.client(again)
        for session in (first, second, third, first):
            AfhandelenClient(session).referenties_response("2026060200011")
        seen = world.seen[-4:]
        assert [s["oin"] for s in seen] == [LEVERANCIER, LEVERANCIER, OD, LEVERANCIER]
        assert [s["headers"]["X-Namens-OIN"] for s in seen] == [GEMEENTE, WATERSCHAP, OD,
                                                               GEMEENTE]
        first.close()  # a session's close leaves the shared client to its owner
        assert AfhandelenClient(second).referenties_response("2026060200011").status == 403
    finally:
        clients.close()
    with pytest.raises(RuntimeError, match="closed"):
        clients.client(leverancier)

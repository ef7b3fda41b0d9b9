"""Ping/Pong against real mTLS peers on loopback: a good one (sync and async) and peers that
get each point wrong, each giving its own verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import Cpa, local_cpa, parse_cpa
from pytest_dso.ebms.envelope import EbmsMessage, PartyId, build_envelope, parse_envelope, pong_for
from pytest_dso.ebms.msh import Msh, MshResult, Outbound
from pytest_dso.ebms.pingpong import PingResult, PingTarget, check_pong, ping, ping_many
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.findings import Severity
from pytest_dso.pkio.testpki import LeafSpec, TestPki, build_hierarchy, issue_leaf
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Request, Response


@pytest.fixture(scope="module")
def harness(ebms_pki: TestPki) -> Iterator[EbmsReceiver]:
    """The harness receiver (Digikoppelaar identity)."""
    with EbmsReceiver(
        ebms_pki.identity("digikoppelaar"), ebms_pki.hierarchy.anchors, label="harness"
    ) as receiver:
        yield receiver


@pytest.fixture
def peer(ebms_pki: TestPki) -> Iterator[EbmsReceiver]:
    """A well-behaved MSH peer with the DSO-LV identity (fresh per test)."""
    msh = Msh(own_party_ids=(ebms_pki.party("dso-lv").oin,))
    with EbmsReceiver(
        ebms_pki.identity("dso-lv"), ebms_pki.hierarchy.anchors, msh, label="peer"
    ) as receiver:
        yield receiver


def _cpa(pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver, mode: str, name: str = "") -> Cpa:
    cpa = parse_cpa(
        local_cpa(
            pki, peer.url, harness.url, sync_reply_mode=mode, cpa_id=f"ping-{mode}-{name or 'x'}"
        )
    )
    peer.add_cpa(cpa)
    return cpa


def _ping(
    pki: TestPki,
    cpa: Cpa,
    harness: EbmsReceiver,
    timeout: float = 3.0,
    identity_slug: str = "digikoppelaar",
) -> PingResult:
    return ping(
        cpa,
        pki.party("digikoppelaar").oin,
        pki.identity(identity_slug),
        pki.hierarchy.anchors,
        harness,
        timeout,
    )


def _checks(result: PingResult) -> list[str]:
    return [f.check for f in result.findings if f.severity >= Severity.ERROR]


def _misbehave(
    peer: EbmsReceiver, change: Callable[[Request, MshResult], tuple[Response, Iterable[Outbound]]]
) -> None:
    peer.handler = change


@pytest.mark.parametrize("mode", ["mshSignalsOnly", "none"], ids=["sync", "async"])
def test_good_peer_passes(
    mode: str, ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    result = _ping(ebms_pki, _cpa(ebms_pki, peer, harness, mode), harness)
    assert result.ok, result.findings
    assert result.findings == ()
    assert result.mode == ("sync" if mode != "none" else "async")
    assert result.pong is not None
    assert result.round_trip is not None
    assert 0 < result.round_trip < 3
    assert (result.pong_record is not None) == (mode == "none")
    assert result.exchanges[0].status == (200 if mode != "none" else 204)


def test_connection_refused(ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    peer.stop()
    assert _checks(_ping(ebms_pki, cpa, harness)) == ["net.connection_refused"]


def test_tls_failure_by_reason(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    foreign = build_hierarchy("foreign", key_type="ec256")
    stranger = issue_leaf(
        foreign.tsp, LeafSpec("stranger", "00000099000000777000", key_type="ec256")
    ).identity("stranger")
    result = ping(
        cpa, ebms_pki.party("digikoppelaar").oin, stranger, ebms_pki.hierarchy.anchors, harness, 3.0
    )
    assert _checks(result) == ["tls.unknown_ca"]


def test_http_error_status(ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    _misbehave(peer, lambda r, m: (Response.problem(503, "Service Unavailable"), ()))
    result = _ping(ebms_pki, cpa, harness)
    assert _checks(result) == ["ebms.ping.http_status"]
    assert "503" in result.findings[0].message


def test_soap_fault(ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver) -> None:
    cpa = parse_cpa(local_cpa(ebms_pki, peer.url, harness.url, cpa_id="not-at-the-peer"))
    result = _ping(ebms_pki, cpa, harness)
    assert _checks(result) == ["ebms.ping.soap_fault"]
    assert "CPA not-at-the-peer not found!" in result.findings[0].message


def test_message_error_with_code_and_location(ebms_pki: TestPki, harness: EbmsReceiver) -> None:
    # A peer acting for another party answers the Ping with Inconsistent at To/PartyId.
    msh = Msh(own_party_ids=("00000099000000999000",))
    with EbmsReceiver(ebms_pki.identity("dso-lv"), ebms_pki.hierarchy.anchors, msh) as other:
        cpa = _cpa(ebms_pki, other, harness, "mshSignalsOnly")
        result = _ping(ebms_pki, cpa, harness)
    assert _checks(result) == ["ebms.ping.message_error"]
    evidence = result.findings[0].evidence
    assert evidence["error_code"] == c.INCONSISTENT
    assert evidence["location"] == "//Header/MessageHeader/To/PartyId"


def test_async_message_error_is_reported(ebms_pki: TestPki, harness: EbmsReceiver) -> None:
    msh = Msh(own_party_ids=("00000099000000999000",))
    with EbmsReceiver(ebms_pki.identity("dso-lv"), ebms_pki.hierarchy.anchors, msh) as other:
        cpa = _cpa(ebms_pki, other, harness, "none")
        result = _ping(ebms_pki, cpa, harness)
    assert _checks(result) == ["ebms.ping.message_error"]


def test_no_pong_within_the_timeout(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    _misbehave(peer, lambda r, m: (Response(204), ()))  # accepts, never answers
    started = dt.datetime.now()
    result = _ping(ebms_pki, cpa, harness, timeout=0.5)
    assert _checks(result) == ["ebms.ping.no_pong"]
    # the 0.5 s timeout is honoured, not the 30 s default (generous for a loaded machine)
    assert (dt.datetime.now() - started).total_seconds() < 15


def test_sync_cpa_but_peer_answers_204(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "mshSignalsOnly")
    _misbehave(peer, lambda r, m: (Response(204), ()))
    assert _checks(_ping(ebms_pki, cpa, harness)) == ["ebms.ping.no_pong"]


def _wrong_pong(
    change: Callable[[EbmsMessage], EbmsMessage],
) -> Callable[[Request, MshResult], tuple[Response, Iterable[Outbound]]]:
    def handler(request: Request, result: MshResult) -> tuple[Response, Iterable[Outbound]]:
        out = result.outbound[0]
        bad = change(out.message)
        return Response(204), (dataclasses.replace(out, message=bad, body=build_envelope(bad)),)

    return handler


def test_async_pong_for_another_message(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    _misbehave(
        peer,
        _wrong_pong(
            lambda m: dataclasses.replace(
                m,
                header=dataclasses.replace(
                    m.header, ref_to_message_id="other@x", conversation_id="other-conversation"
                ),
            )
        ),
    )
    result = _ping(ebms_pki, cpa, harness, timeout=0.6)
    assert _checks(result) == ["ebms.pong.ref_to_message_id"]
    assert "another message" in result.findings[0].message


def test_async_pong_with_wrong_ref_in_same_conversation(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    _misbehave(
        peer,
        _wrong_pong(
            lambda m: dataclasses.replace(
                m, header=dataclasses.replace(m.header, ref_to_message_id="other@x")
            )
        ),
    )
    assert _checks(_ping(ebms_pki, cpa, harness)) == ["ebms.pong.ref_to_message_id"]


def test_sync_reply_that_is_not_a_pong(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "mshSignalsOnly")

    def echo_ping(request: Request, result: MshResult) -> tuple[Response, Iterable[Outbound]]:
        return Response(200, request.body, c.TEXT_XML), ()

    _misbehave(peer, echo_ping)
    assert _checks(_ping(ebms_pki, cpa, harness)) == ["ebms.ping.unexpected_reply"]


def test_unreadable_sync_reply(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "mshSignalsOnly")
    _misbehave(peer, lambda r, m: (Response(200, b"<html>hi</html>", "text/xml"), ()))
    assert _checks(_ping(ebms_pki, cpa, harness)) == ["ebms.ping.bad_reply"]


def test_async_cpa_without_receiver_is_a_clear_verdict(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "none")
    result = ping(
        cpa,
        ebms_pki.party("digikoppelaar").oin,
        ebms_pki.identity("digikoppelaar"),
        ebms_pki.hierarchy.anchors,
        None,
        2.0,
    )
    assert _checks(result) == ["ebms.ping.no_receiver"]
    assert peer.records() == ()


@pytest.fixture(scope="module")
def a_ping(ebms_pki: TestPki) -> tuple[EbmsMessage, EbmsMessage]:
    from pytest_dso.ebms.envelope import ping as make_ping

    p = make_ping(
        cpa_id="cpa",
        from_party=PartyId("00000099000000002000"),
        to_party=PartyId("00000099000000001000"),
        host="a",
    )
    return p, pong_for(p, host="b")


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("cpa_id", "other", "ebms.pong.cpa_id"),
        ("conversation_id", "other", "ebms.pong.conversation_id"),
        ("ref_to_message_id", "other@x", "ebms.pong.ref_to_message_id"),
        ("from_parties", (PartyId("00000099000000002000"),), "ebms.pong.parties"),
        ("to_parties", (PartyId("00000099000000001000", "urn:other"),), "ebms.pong.parties"),
        ("action", "Ping", "ebms.pong.action"),
    ],
)
def test_check_pong_names_each_wrong_field(
    a_ping: tuple[EbmsMessage, EbmsMessage], field: str, value: object, check: str
) -> None:
    the_ping, pong = a_ping
    assert check_pong(the_ping, pong) == []
    changes: dict[str, Any] = {field: value}
    bad = dataclasses.replace(pong, header=dataclasses.replace(pong.header, **changes))
    assert [f.check for f in check_pong(the_ping, bad)] == [check]


def test_check_pong_on_wire_bytes(a_ping: tuple[EbmsMessage, EbmsMessage]) -> None:
    the_ping, pong = a_ping
    assert check_pong(the_ping, parse_envelope(build_envelope(pong))) == []


def test_ping_many_once_per_cpa_concurrently_reusing_connections(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    targets = []
    for n in range(24):
        cpa = _cpa(ebms_pki, peer, harness, "none" if n % 2 else "mshSignalsOnly", str(n))
        target = PingTarget(
            cpa,
            ebms_pki.party("digikoppelaar").oin,
            ebms_pki.identity("digikoppelaar"),
            ebms_pki.hierarchy.anchors,
            label=f"tenant-{n}",
        )
        targets += [target, target]  # duplicates are pinged once
    results = ping_many(targets, concurrency=6, receiver=harness, timeout=5)
    assert len(results) == 24
    assert all(r.ok for r in results), [r.findings for r in results if not r.ok]
    assert [r.label for r in results] == [f"tenant-{n}" for n in range(24)]
    assert peer.server.stats().connections <= 6


def test_ping_many_with_shared_clients_keeps_them_open(
    ebms_pki: TestPki, peer: EbmsReceiver, harness: EbmsReceiver
) -> None:
    cpa = _cpa(ebms_pki, peer, harness, "mshSignalsOnly")
    target = PingTarget(
        cpa,
        ebms_pki.party("digikoppelaar").oin,
        ebms_pki.identity("digikoppelaar"),
        ebms_pki.hierarchy.anchors,
    )
    clients: dict[str, HttpClient] = {}
    try:
        assert ping_many([target], receiver=harness, clients=clients)[0].ok
        assert ping_many([target], receiver=harness, clients=clients)[0].ok
        assert len(clients) == 1
        assert peer.server.stats().connections == 1
    finally:
        for client in clients.values():
            client.close()

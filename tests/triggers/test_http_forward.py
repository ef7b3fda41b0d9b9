"""The http-forward source with real TLS posts from a client with a certificate."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient
from pytest_dso.triggers.http_forward import HttpForwardTriggerSource, split_listen


@pytest.fixture
def source(pki: TestPki) -> Iterator[HttpForwardTriggerSource]:
    src = HttpForwardTriggerSource(pki.identity("leverancier"), pki.hierarchy.anchors)
    src.start()
    yield src
    src.stop()


@pytest.fixture
def adapter(pki: TestPki) -> Iterator[HttpClient]:
    client = HttpClient.for_identity(pki.identity("digikoppelaar"), pki.hierarchy.anchors)
    yield client
    client.close()


def test_forwarded_payload_is_matched_with_the_sender_oin(
    source: HttpForwardTriggerSource, adapter: HttpClient, notificatie: Callable[..., bytes]
) -> None:
    exchange = adapter.post(source.url, notificatie("2025030100001"),
                            headers={"Content-Type": "application/xml"})
    assert exchange.status == 202, exchange.error
    assert json.loads(exchange.response_body) == {"verzoeknummer": "2025030100001",
                                                  "duplicate": False}
    found = source.wait_for("2025030100001", 2.0)
    assert found.sender_oin == "00000099000000002000"
    assert found.source == "http-forward"
    again = adapter.post(source.url, notificatie("2025030100001"),
                         headers={"X-Ebms-MessageId": "m-1"})
    assert json.loads(again.response_body)["duplicate"] is False  # a new MessageId
    repeat = adapter.post(source.url, notificatie("2025030100001"),
                          headers={"X-Ebms-MessageId": "m-1"})
    assert json.loads(repeat.response_body)["duplicate"] is True
    assert len(source.all()) == 3


def test_a_payload_without_verzoeknummer_gets_400_and_is_kept(
    source: HttpForwardTriggerSource, adapter: HttpClient
) -> None:
    exchange = adapter.post(source.url, b"<bericht/>")
    assert exchange.status == 400
    assert b"verzoeknummer" in exchange.response_body
    empty = adapter.post(source.url, b"")
    assert empty.status == 400
    assert [bool(t.problem) for t in source.all()] == [True, True]


def test_other_paths_and_methods_are_refused(
    source: HttpForwardTriggerSource, adapter: HttpClient
) -> None:
    assert adapter.get(source.url).status == 405
    assert adapter.post(source.url.rsplit("/", 1)[0] + "/elders", b"x").status == 404
    assert source.all() == []


def test_a_client_without_certificate_is_refused(
    source: HttpForwardTriggerSource, pki: TestPki, notificatie: Callable[..., bytes]
) -> None:
    with HttpClient.for_identity(None, pki.hierarchy.anchors) as anonymous:
        exchange = anonymous.post(source.url, notificatie("2025030100002"))
    assert not (exchange.ok and exchange.status == 202)
    assert source.all() == []


def test_listen_address_parsing() -> None:
    assert split_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert split_listen("[::1]:8443") == ("::1", 8443)
    for bad in ("localhost", "host:x", "h:70000"):
        with pytest.raises(ValueError, match="listen"):
            split_listen(bad)

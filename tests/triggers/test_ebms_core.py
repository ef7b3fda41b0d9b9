"""The ebms-core source against a stand-in of its REST API, over real TLS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient
from pytest_dso.triggers.ebms_core import EbmsCoreTriggerSource, parse_message, party_oin
from pytest_dso.triggers.ebms_core_standin import EbmsCoreStandIn

GEMEENTE = "00000099000000101000"
DSO = "00000099000000001000"


@pytest.fixture
def standin(pki: TestPki) -> Iterator[EbmsCoreStandIn]:
    server = EbmsCoreStandIn(pki.identity("digikoppelaar").server_context(pki.hierarchy.anchors))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(pki: TestPki) -> Iterator[HttpClient]:
    http = HttpClient.for_identity(pki.identity("leverancier"), pki.hierarchy.anchors)
    yield http
    http.close()


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_received_message_becomes_a_trigger_and_is_left_unprocessed(
    standin: EbmsCoreStandIn, client: HttpClient, notificatie: Callable[..., bytes]
) -> None:
    message_id = standin.add_message(notificatie("2025030100001"), from_oin=DSO,
                                     to_oin=GEMEENTE, cpa_id="cpa-stam")
    standin.add_message(notificatie("2025030100002"), from_oin=DSO, to_oin=GEMEENTE,
                        cpa_id="cpa-other")
    source = EbmsCoreTriggerSource(standin.base_url, client, cpa_id="cpa-stam",
                                   poll_interval=0.05)
    with source:
        found = source.wait_for("2025030100001", 5.0)
        _wait(lambda: source.polls >= 3)
    assert (found.sender_oin, found.recipient_oin) == (DSO, GEMEENTE)
    assert found.message_id == message_id
    assert [t.verzoeknummer for t in source.all()] == ["2025030100001"]  # cpaId filter
    assert standin.status(message_id) == "RECEIVED"
    assert standin.counts()["patch"] == 0
    assert standin.counts()["processed_by_get"] == 0


def test_mark_processed_patches_each_message_once(
    standin: EbmsCoreStandIn, client: HttpClient, notificatie: Callable[..., bytes]
) -> None:
    first = standin.add_message(notificatie("2025030100003"), to_oin=GEMEENTE)
    source = EbmsCoreTriggerSource(standin.base_url, client, mark_processed=True,
                                   poll_interval=0.05)
    with source:
        source.wait_for("2025030100003", 5.0)
        _wait(lambda: standin.status(first) == "PROCESSED")
        second = standin.add_message(notificatie("2025030100004"), to_oin=GEMEENTE)
        source.wait_for("2025030100004", 5.0)
        _wait(lambda: standin.status(second) == "PROCESSED")
    assert source.processed() == {first, second}
    assert standin.counts()["patch"] == 2


def test_api_failures_are_recorded_and_polling_recovers(
    standin: EbmsCoreStandIn, client: HttpClient, notificatie: Callable[..., bytes]
) -> None:
    standin.fail_next = 2
    standin.add_message(notificatie("2025030100005"), to_oin=GEMEENTE)
    source = EbmsCoreTriggerSource(standin.base_url, client, poll_interval=0.05)
    with source:
        source.wait_for("2025030100005", 5.0)
    assert any("HTTP 500" in e for e in source.errors())


def test_unreachable_api_is_an_error_not_a_crash(pki: TestPki, client: HttpClient) -> None:
    source = EbmsCoreTriggerSource("https://127.0.0.1:9/service/rest/v19", client,
                                   poll_interval=0.05)
    assert source.poll() == 0
    assert source.errors()
    with pytest.raises(ValueError, match="http"):
        EbmsCoreTriggerSource("ftp://x", client)


def test_message_parsing_and_party_ids() -> None:
    assert party_oin("urn:osb:oin:00000099000000101000") == GEMEENTE
    assert party_oin("urn:osb:oin:abc") is None
    with pytest.raises(ValueError, match="no dataSources"):
        parse_message("m", b'{"properties": {}, "dataSources": []}')
    with pytest.raises(ValueError, match="not base64"):
        parse_message("m", b'{"properties": {}, "dataSources": [{"content": "!!"}]}')
    with pytest.raises(ValueError, match="not JSON"):
        parse_message("m", b"<html>")

"""The ebms-core stand-in pinned to ebms-core's REST API behaviours, and the trigger source
against it with BASIC auth and with client-certificate auth, over real TLS."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import unquote

import pytest

from pytest_dso.dsofile import TriggersConfig
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient, HttpExchange
from pytest_dso.triggers.base import LoggingSource
from pytest_dso.triggers.ebms_core import EbmsCoreTriggerSource, check_paths
from pytest_dso.triggers.ebms_core_standin import EbmsCoreStandIn
from pytest_dso.triggers.registry import SourceContext, TriggerSourceError, build_source

GEMEENTE = "00000099000000101000"
DSO = "00000099000000001000"
USER, PASSWORD = "ebms", "s3cret-Pa55"
JSON = {"Accept": "application/json"}


@pytest.fixture
def basic_standin(pki: TestPki) -> Iterator[EbmsCoreStandIn]:
    """ebms-admin with BASIC auth behind server-only TLS."""
    context = pki.identity("digikoppelaar").server_context(require_client_certificate=False)
    server = EbmsCoreStandIn(context, users={USER: PASSWORD}, cpa_ids={"cpa-stam"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plain_client(pki: TestPki) -> Iterator[HttpClient]:
    """No client certificate."""
    http = HttpClient.for_identity(None, pki.hierarchy.anchors)
    yield http
    http.close()


def _auth(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {**JSON, "Authorization": f"Basic {token}"}


def _call(client: HttpClient, method: str, url: str, body: bytes = b"",
          **headers: str) -> HttpExchange:
    exchange = client.request(method, url, body, headers={**_auth(), **headers})
    assert exchange.ok, exchange.error
    return exchange


def test_basic_auth_is_required_and_refusals_have_an_empty_body(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient
) -> None:
    url = f"{basic_standin.base_url}/ebms/messages/unprocessed"
    for headers in (JSON, _auth(password="wrong"), {"Authorization": "Basic !!"}):
        refused = plain_client.request("GET", url, headers=headers)
        assert refused.status == 401
        assert refused.response_body == b""
        assert ("WWW-Authenticate", 'Basic realm="ebms-admin"') in refused.response_headers
    assert _call(plain_client, "GET", url).status == 200


def test_message_calls_follow_ebms_core(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient,
    notificatie: Callable[..., bytes],
) -> None:
    base = f"{basic_standin.base_url}/ebms/messages"
    message_id = basic_standin.add_message(notificatie("2025030100011"), from_oin=DSO,
                                           to_oin=GEMEENTE)
    assert json.loads(_call(plain_client, "GET", f"{base}/unprocessed").response_body) == [
        message_id
    ]
    # process defaults to false: a GET does not take the message off the list
    got = _call(plain_client, "GET", f"{base}/{message_id}")
    body = json.loads(got.response_body)
    assert body["properties"]["messageStatus"] == "RECEIVED"
    assert body["properties"]["fromParty"]["partyId"] == f"urn:osb:oin:{DSO}"
    assert base64.b64decode(body["dataSources"][0]["content"]) == notificatie("2025030100011")
    assert basic_standin.status(message_id) == "RECEIVED"
    # the status call answers {timestamp, status}
    status = json.loads(_call(plain_client, "GET", f"{base}/{message_id}/status").response_body)
    assert status["status"] == "RECEIVED"
    assert status["timestamp"].endswith("Z")
    # PATCH: 204 with no body, for a known and for an unknown id
    patched = _call(plain_client, "PATCH", f"{base}/{message_id}")
    assert (patched.status, patched.response_body) == (204, b"")
    unknown = _call(plain_client, "PATCH", f"{base}/no-such-id@x")
    assert (unknown.status, unknown.response_body) == (204, b"")
    assert basic_standin.status(message_id) == "PROCESSED"
    assert json.loads(_call(plain_client, "GET", f"{base}/unprocessed").response_body) == []
    # not found: 404 with an empty body
    for url in (f"{base}/no-such-id@x", f"{base}/no-such-id@x/status"):
        missing = _call(plain_client, "GET", url)
        assert (missing.status, missing.response_body) == (404, b"")
    # process=true marks it processed
    other = basic_standin.add_message(notificatie("2025030100012"), to_oin=GEMEENTE)
    _call(plain_client, "GET", f"{base}/{other}?process=true")
    assert basic_standin.status(other) == "PROCESSED"


def test_send_resend_ping_and_events(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient,
    notificatie: Callable[..., bytes],
) -> None:
    base = basic_standin.base_url
    request: dict[str, Any] = {
        "properties": {"cpaId": "cpa-stam", "fromPartyId": f"urn:osb:oin:{GEMEENTE}",
                       "fromRole": "BevoegdGezag", "toPartyId": f"urn:osb:oin:{DSO}",
                       "toRole": "DSO", "service": "urn:osb:services:stam",
                       "action": "antwoord"},
        "dataSources": [{"name": "a.xml", "contentType": "application/xml",
                         "content": base64.b64encode(b"<a/>").decode()}],
    }
    sent = _call(plain_client, "POST", f"{base}/ebms/messages", json.dumps(request).encode(),
                 **{"Content-Type": "application/json"})
    assert sent.status == 200
    message_id = sent.response_body.decode()
    assert message_id.endswith("@standin")
    assert basic_standin.status(message_id) == "CREATED"
    resent = _call(plain_client, "PUT", f"{base}/ebms/messages/{message_id}")
    assert resent.status == 200
    assert resent.response_body.decode() != message_id
    assert _call(plain_client, "PUT", f"{base}/ebms/messages/nope@x").status == 404
    unknown_cpa = {**request, "properties": {**request["properties"], "cpaId": "other"}}
    refused = _call(plain_client, "POST", f"{base}/ebms/messages",
                    json.dumps(unknown_cpa).encode())
    assert refused.status == 500
    assert b"No CPA found" in refused.response_body

    ping = f"{base}/ebms/ping/cpa-stam/from/urn%3Aosb%3Aoin%3A{GEMEENTE}/to/urn%3Aosb%3Aoin%3A{DSO}"
    answered = _call(plain_client, "POST", ping)
    assert (answered.status, answered.response_body) == (204, b"")
    basic_standin.pong = False
    silent = _call(plain_client, "POST", ping)
    assert (silent.status, silent.response_body) == (500, b"No response received!")
    bad_cpa = _call(plain_client, "POST", ping.replace("cpa-stam", "cpa-other"))
    assert bad_cpa.status == 500
    assert bad_cpa.response_body == b"No CPA found for cpaId=cpa-other"

    received = basic_standin.add_message(notificatie("2025030100013"), to_oin=GEMEENTE)
    basic_standin.set_status(message_id, "DELIVERED", event="DELIVERED")
    events = json.loads(_call(
        plain_client, "GET", f"{base}/ebms/events/unprocessed?eventTypes=RECEIVED"
    ).response_body)
    assert events == [{"messageId": received, "type": "RECEIVED"}]
    both = json.loads(_call(plain_client, "GET", f"{base}/ebms/events/unprocessed")
                      .response_body)
    assert {e["type"] for e in both} == {"RECEIVED", "DELIVERED"}
    done = _call(plain_client, "PATCH", f"{base}/ebms/events/{received}")
    assert (done.status, done.response_body) == (204, b"")
    assert basic_standin.status(received) == "PROCESSED"
    assert json.loads(_call(plain_client, "GET", f"{base}/ebms/events/unprocessed")
                      .response_body) == [{"messageId": message_id, "type": "DELIVERED"}]


def test_source_with_basic_auth_finds_the_trigger(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient,
    notificatie: Callable[..., bytes],
) -> None:
    first = basic_standin.add_message(notificatie("2025030100021"), from_oin=DSO,
                                      to_oin=GEMEENTE)
    source = EbmsCoreTriggerSource(
        basic_standin.base_url, plain_client, cpa_id="cpa-stam", mark_processed=True,
        poll_interval=0.05, username=USER, password=PASSWORD,
        headers={"X-Proxy-Route": "ebms-admin"},
    )
    with source:
        found = source.wait_for("2025030100021", 5.0)
    assert (found.sender_oin, found.recipient_oin, found.message_id) == (DSO, GEMEENTE, first)
    assert basic_standin.status(first) == "PROCESSED"
    assert source.processed() == {first}
    assert source.errors() == []
    assert basic_standin.counts()["unauthorized"] == 0
    assert basic_standin.counts()["processed_by_get"] == 0
    seen = basic_standin.requests()
    assert all(h.get("x-proxy-route") == "ebms-admin" for _, _, h in seen)
    fetches = [t for m, t, _ in seen if m == "GET" and first.split("@")[0] in t]
    assert fetches
    assert all(t.endswith("?process=false") for t in fetches)
    status = source.message_status(first)
    assert status is not None
    assert status.status == "PROCESSED"
    assert status.timestamp is not None
    assert source.message_status("nope@x") is None
    assert "HTTP 404 (ebms-core: not found)" in source.errors()[-1]
    assert source.ping("cpa-stam", f"urn:osb:oin:{GEMEENTE}", f"urn:osb:oin:{DSO}") is None
    basic_standin.pong = False
    reason = source.ping("cpa-stam", f"urn:osb:oin:{GEMEENTE}", f"urn:osb:oin:{DSO}")
    assert reason is not None
    assert "No response received!" in reason


def test_source_reports_refused_credentials_without_the_password(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient
) -> None:
    wrong = EbmsCoreTriggerSource(basic_standin.base_url, plain_client, username=USER,
                                  password="not-the-password")
    assert wrong.poll() == 0
    (problem,) = wrong.errors()
    assert "HTTP 401" in problem
    assert 'Basic realm="ebms-admin"' in problem
    assert "ebms_core_password_env" in problem
    assert "not-the-password" not in problem
    assert "not-the-password" not in repr(vars(wrong).get("headers"))
    anonymous = EbmsCoreTriggerSource(basic_standin.base_url, plain_client)
    anonymous.poll()
    assert "set [triggers] ebms_core_username" in anonymous.errors()[0]


def test_message_gone_between_list_and_fetch_is_noted_once(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient,
    notificatie: Callable[..., bytes],
) -> None:
    source = EbmsCoreTriggerSource(basic_standin.base_url, plain_client, username=USER,
                                   password=PASSWORD,
                                   paths={"message": "ebms/messages/{messageId}x"})
    basic_standin.add_message(notificatie("2025030100031"), to_oin=GEMEENTE)
    source.poll()
    source.poll()
    assert len(source.errors()) == 1
    assert "no longer there" in source.errors()[0]
    assert "/ebms/messages/" in source.errors()[0]


def test_source_with_client_certificate_auth(
    pki: TestPki, notificatie: Callable[..., bytes]
) -> None:
    context = pki.identity("digikoppelaar").server_context(pki.hierarchy.anchors)
    with EbmsCoreStandIn(context) as standin:
        standin.add_message(notificatie("2025030100041"), to_oin=GEMEENTE)
        with_cert = HttpClient.for_identity(pki.identity("leverancier"), pki.hierarchy.anchors)
        without = HttpClient.for_identity(None, pki.hierarchy.anchors)
        try:
            source = EbmsCoreTriggerSource(standin.base_url, with_cert, poll_interval=0.05)
            with source:
                assert source.wait_for("2025030100041", 5.0).recipient_oin == GEMEENTE
            refused = EbmsCoreTriggerSource(standin.base_url, without)
            assert refused.poll() == 0
            assert refused.errors()
        finally:
            with_cert.close()
            without.close()


def test_path_overrides_are_checked_and_used(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient
) -> None:
    assert check_paths({"status": "v2/messages/{messageId}/status"})["status"] == (
        "v2/messages/{messageId}/status")
    for paths, why in (({"nope": "x"}, "unknown key"), ({"message": "m"}, "{messageId}"),
                       ({"unprocessed": "https://x/y"}, "relative")):
        with pytest.raises(ValueError, match=why.replace("{", r"\{").replace("}", r"\}")):
            check_paths(paths)
    source = EbmsCoreTriggerSource(basic_standin.base_url, plain_client, username=USER,
                                   password=PASSWORD, paths={"unprocessed": "custom/list"})
    source.poll()
    assert source.errors()[0].startswith(f"GET {basic_standin.base_url}/custom/list?")
    with pytest.raises(ValueError, match="must not set Authorization"):
        EbmsCoreTriggerSource(basic_standin.base_url, plain_client,
                              headers={"authorization": "Basic x"})


def test_registry_reads_the_password_from_the_environment(
    basic_standin: EbmsCoreStandIn, monkeypatch: pytest.MonkeyPatch,
    notificatie: Callable[..., bytes], pki: TestPki,
) -> None:
    triggers = TriggersConfig(
        source="ebms-core", ebms_core_url=basic_standin.base_url, ebms_core_username=USER,
        ebms_core_password_env="DSO_TEST_EBMS_PASSWORD", ebms_core_headers={"X-Env": "test"},
        ebms_core_client_certificate=False, poll_interval=0.05,
    )
    ctx = SourceContext(triggers, identity=pki.identity("leverancier"),
                        trust=tuple(pki.hierarchy.anchors))
    monkeypatch.delenv("DSO_TEST_EBMS_PASSWORD", raising=False)
    with pytest.raises(TriggerSourceError, match=r"DSO_TEST_EBMS_PASSWORD.*not set"):
        build_source("ebms-core", ctx)
    monkeypatch.setenv("DSO_TEST_EBMS_PASSWORD", PASSWORD)
    source = cast(LoggingSource, build_source("ebms-core", ctx))
    basic_standin.add_message(notificatie("2025030100051"), to_oin=GEMEENTE)
    with source:
        source.wait_for("2025030100051", 5.0)
    assert all(h.get("x-env") == "test" for _, _, h in basic_standin.requests())
    no_env = TriggersConfig(source="ebms-core", ebms_core_url=basic_standin.base_url,
                            ebms_core_username=USER)
    with pytest.raises(TriggerSourceError, match="ebms_core_password_env is not"):
        build_source("ebms-core", SourceContext(no_env))


def test_source_on_the_events_feed_finds_the_trigger_and_processes_the_event(
    basic_standin: EbmsCoreStandIn, plain_client: HttpClient,
    notificatie: Callable[..., bytes],
) -> None:
    first = basic_standin.add_message(notificatie("2025030100031"), from_oin=DSO,
                                      to_oin=GEMEENTE)
    source = EbmsCoreTriggerSource(
        basic_standin.base_url, plain_client, cpa_id="cpa-stam", mark_processed=True,
        poll_interval=0.05, username=USER, password=PASSWORD, use_events=True,
    )
    with source:
        found = source.wait_for("2025030100031", 5.0)
    assert found.message_id == first
    assert source.errors() == []
    assert basic_standin.status(first) == "PROCESSED"
    assert basic_standin.counts()["events"] >= 1
    seen = [(m, t) for m, t, _ in basic_standin.requests()]
    assert any(m == "GET" and "/ebms/events/unprocessed?eventTypes=RECEIVED&" in t
               for m, t in seen)
    assert not any("/ebms/messages/unprocessed" in t for _, t in seen)
    assert ("PATCH", f"/service/rest/v19/ebms/events/{first}") in [
        (m, unquote(t.split("?")[0])) for m, t in seen]
    # processed: the event is gone from the feed, so it is not fetched again
    assert _call(plain_client, "GET", f"{basic_standin.base_url}/ebms/events/unprocessed"
                 ).response_body == b"[]"


def test_registry_turns_the_events_feed_on_from_triggers(pki: TestPki) -> None:
    config = TriggersConfig(source="ebms-core",
                            ebms_core_url="https://127.0.0.1:1/service/rest/v19",
                            ebms_core_events=True, ebms_core_client_certificate=False)
    source = build_source("ebms-core", SourceContext(config, trust=pki.hierarchy.anchors))
    assert isinstance(source, EbmsCoreTriggerSource)
    assert source.use_events is True

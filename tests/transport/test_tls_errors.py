"""Every connection failure verdict, provoked for real on loopback with our own test PKI."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_dso.findings import Severity
from pytest_dso.transport.api import Route
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Response
from pytest_dso.transport.tls_errors import classify_failure, exception_chain

if TYPE_CHECKING:
    from tests.transport.conftest import Pki, ServerFactory

OK = (Route("*", "/", lambda r: Response.text("ok")),)


def _post(client: HttpClient, url: str) -> str:
    ex = client.post(url + "/", b"<x/>")
    assert ex.failure is not None, f"expected a failure, got HTTP {ex.status}"
    assert ex.failure.severity == Severity.ERROR
    assert ex.failure.hint
    assert ex.failure.where == url + "/"
    return ex.failure.check


def _tls12(client: HttpClient) -> HttpClient:
    assert client.context is not None
    client.context.maximum_version = ssl.TLSVersion.TLSv1_2
    return client


def test_good_identity_passes(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK)
    assert HttpClient.for_identity(pki.client, pki.anchors).get(server.url + "/").status == 200


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
def test_client_certificate_from_unknown_ca(
    pki: Pki, make_server: ServerFactory, tls12: bool
) -> None:
    server = make_server(OK)
    client = HttpClient.for_identity(pki.foreign_client, pki.anchors)
    assert _post(_tls12(client) if tls12 else client, server.url) == "tls.unknown_ca"


def test_missing_client_certificate_tls13(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK)
    client = HttpClient.for_identity(None, pki.anchors)
    assert _post(client, server.url) == "tls.certificate_required"


def test_missing_client_certificate_tls12_is_a_handshake_failure(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server(OK)
    client = _tls12(HttpClient.for_identity(None, pki.anchors))
    ex = client.get(server.url + "/")
    assert ex.failure is not None
    assert ex.failure.check == "tls.handshake_failure"
    assert "client certificate" in ex.failure.hint


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
def test_expired_client_certificate(pki: Pki, make_server: ServerFactory, tls12: bool) -> None:
    server = make_server(OK)
    client = HttpClient.for_identity(pki.expired_client, pki.anchors)
    assert _post(_tls12(client) if tls12 else client, server.url) == "tls.certificate_expired"


def test_expired_server_certificate(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK, identity=pki.expired_server)
    client = HttpClient.for_identity(pki.client, pki.anchors)
    ex = client.get(server.url + "/")
    assert ex.failure is not None
    assert ex.failure.check == "tls.certificate_expired"
    assert "server certificate" in ex.failure.message


def test_server_certificate_not_naming_the_host(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK, identity=pki.misnamed_server)
    client = HttpClient.for_identity(pki.client, pki.anchors)
    assert _post(client, server.url) == "tls.hostname_mismatch"


def test_server_certificate_from_untrusted_root(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK)
    client = HttpClient.for_identity(pki.client, pki.foreign_hierarchy.anchors)
    assert _post(client, server.url) == "tls.untrusted_server"


def test_no_common_protocol_version(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK, context_kwargs={"minimum_version": ssl.TLSVersion.TLSv1_3})
    client = _tls12(HttpClient.for_identity(pki.client, pki.anchors))
    assert _post(client, server.url) == "tls.protocol_version"


def test_tls_to_a_plain_http_port_is_a_protocol_verdict(pki: Pki) -> None:
    from pytest_dso.transport.server import HttpsServer

    with HttpsServer(None, routes=OK) as plain:
        url = plain.url.replace("http://", "https://")
        client = HttpClient.for_identity(pki.client, pki.anchors)
        ex = client.get(url + "/")
    assert ex.failure is not None
    assert ex.failure.check == "tls.protocol_version"
    assert "plain HTTP" in ex.failure.hint


def test_connection_refused(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK)
    server.stop()
    client = HttpClient.for_identity(pki.client, pki.anchors)
    assert _post(client, server.url) == "net.connection_refused"


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections but never speaks."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except (TimeoutError, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def test_handshake_timeout(pki: Pki, silent_listener: int) -> None:
    client = HttpClient.for_identity(pki.client, pki.anchors, connect_timeout=0.3)
    assert _post(client, f"https://127.0.0.1:{silent_listener}") == "net.timeout"


def test_unresolvable_host() -> None:
    client = HttpClient(connect_timeout=2)
    assert _post(client, "https://no-such-host.invalid") == "net.dns"


def test_cause_chain_is_walked_for_wrapped_errors(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(OK)
    ex = HttpClient.for_identity(pki.foreign_client, pki.anchors).get(server.url + "/")
    assert ex.exception is not None
    try:
        try:
            raise ex.exception
        except Exception as inner:
            raise RuntimeError("library wrapper") from inner
    except RuntimeError as wrapped:
        outer = wrapped
    assert len(list(exception_chain(outer))) >= 2
    finding = classify_failure(outer, url="https://x.test/", what="the ebMS Ping")
    assert finding.check == "tls.unknown_ca"
    assert finding.message.startswith("the ebMS Ping")
    assert finding.evidence["tls_reason"] == "TLSV1_ALERT_UNKNOWN_CA"


def test_unknown_exception_falls_back_to_net_error() -> None:
    finding = classify_failure(ValueError("odd"), url="https://x.test/")
    assert finding.check == "net.error"
    assert "odd" in finding.message

"""The TLS probe's summary for the report: what was probed, and what could not be, and why
(real servers on 127.0.0.1, test PKI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_dso.evidence.exchanges import tls_probe_summary
from pytest_dso.network.tlsprobe import probe_tls
from pytest_dso.pkio.identity import Identity, fingerprint_sha256
from pytest_dso.pkio.testpki import TestPki

ServerFactory = Callable[..., Any]


def test_the_summary_lists_versions_client_auth_chain_and_what_was_not_probed(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity,
    server_identity: Identity,
) -> None:
    server = tls_server()
    probe = probe_tls(server.endpoint, identity=client_identity, trust=pki.hierarchy.anchors,
                      server_hostname="localhost", timeout=3, scan=False, openssl=None)
    summary = tls_probe_summary(probe)
    json.dumps(summary)  # attachable as JSON
    assert summary["endpoint"] == str(server.endpoint)
    assert summary["protocols"]["TLS 1.2"]["outcome"] == "accepted"
    assert summary["protocols"]["TLS 1.0"]["outcome"] in ("refused", "not probed")
    assert summary["client_certificate_required"]["outcome"] == "refused"
    assert summary["verified_handshake"]["ok"] is True
    missing = summary["niet onderzocht"]
    assert any(m.startswith("cipher suites:") for m in missing), missing
    if summary["chain"].get("certificates"):
        assert summary["chain"]["certificates"][0]["sha256"] == fingerprint_sha256(
            server_identity.certificate)
    else:
        assert any(m.startswith("certificate chain:") for m in missing), missing
    assert "PRIVATE KEY" not in json.dumps(summary)


def test_an_unreachable_endpoint_says_nothing_was_probed(
    pki: TestPki, client_identity: Identity
) -> None:
    import socket

    from pytest_dso.network.endpoint import Endpoint

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    probe = probe_tls(Endpoint("127.0.0.1", port), identity=client_identity,
                      trust=pki.hierarchy.anchors, timeout=2, scan=False, openssl=None)
    summary = tls_probe_summary(probe)
    assert summary["niet onderzocht"][0].startswith("alles: geen TCP-verbinding")

"""Local mode with your own certificate and CA: the simulator trusts your ca_bundle, so the
Ping/Pong and TLS suites judge the simulator, not a refusal of an unknown CA; the report header
says which partner is pinged and why."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.testpki import LeafSpec, build_hierarchy, build_test_pki
from pytest_dso.sim.identities import SimIdentities

SUITES = Path(__file__).parents[2] / "suites"


def _own_certificate(folder: Path, *, with_bundle: bool) -> None:
    """A certificate from a CA of your own (not the simulator's test PKI), as files."""
    own = build_hierarchy("own", key_type="ec256")
    leaf = own.issue(LeafSpec("localhost", "00000099000000555000", key_type="ec256"))
    (folder / "cert.pem").write_bytes(certificates_pem([leaf.certificate]))
    (folder / "chain.pem").write_bytes(certificates_pem(leaf.issuers[:-1]))
    (folder / "key.pem").write_bytes(leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (folder / "own-root.pem").write_bytes(certificates_pem(own.anchors))
    bundle = 'ca_bundle = "own-root.pem"\n' if with_bundle else ""
    (folder / "dso.toml").write_text(
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nchain = "chain.pem"\n' + bundle,
        encoding="utf-8",
    )


@pytest.fixture
def suites(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("test_pingpong.py", "test_tls.py"):
        pytester.makepyfile(**{name[:-3]: (SUITES / name).read_text(encoding="utf-8")})
    return pytester


@pytest.mark.parametrize(("with_bundle", "header"), [
    (True, "dso ping partner: the embedded simulator (local mode), under a CPA it makes for "
           "your [[]certificate[]]; it trusts your ca_bundle as well as its test CA*"),
    (False, "dso ping partner: *your [[]certificate[]]; without a ca_bundle it trusts the CA at "
            "the top of the chain you present (set [[]certificate[]] ca_bundle to your CA's "
            "root*"),
], ids=["with-ca-bundle", "issuing-ca-only"])
def test_local_mode_with_your_own_certificate_pings_the_simulator_that_trusts_it(
    suites: pytest.Pytester, with_bundle: bool, header: str
) -> None:
    _own_certificate(suites.path, with_bundle=with_bundle)
    result = suites.runpytest("-p", "no:cacheprovider", "-m", "health",
                              "test_pingpong.py", "test_tls.py")
    result.stdout.fnmatch_lines([header])
    out = result.stdout.str()
    assert "unknown_ca" not in out
    assert "UNKNOWN_CA" not in out
    result.assert_outcomes(passed=8)


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str:
    """One TLS handshake over loopback; ``"ok"`` or the server's reason for refusing."""
    outcome: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            conn, _ = listener.accept()
            conn.settimeout(10)
            try:
                with server.wrap_socket(conn, server_side=True):
                    outcome.append("ok")
            except (ssl.SSLError, OSError) as exc:
                outcome.append(getattr(exc, "reason", None) or str(exc))

        thread = threading.Thread(target=serve)
        thread.start()
        port = listener.getsockname()[1]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                    client.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        thread.join(10)
    return outcome[0] if outcome else "no outcome"


def test_trusting_your_issuing_ca_does_not_trust_another_ca() -> None:
    """The partial chain admits the CA at the top of your chain, not any CA: a certificate
    from a third CA is still refused by the simulator's TLS server."""
    own = build_hierarchy("own", key_type="ec256")
    mine = own.issue(LeafSpec("localhost", "00000099000000555000", key_type="ec256"))
    stranger = build_hierarchy("stranger", key_type="ec256").issue(
        LeafSpec("localhost", "00000099000000666000", key_type="ec256"))
    sim = SimIdentities.from_test_pki(build_test_pki(key_type="ec256"))
    sim = replace(sim, trust=(*sim.trust, mine.issuers[0]), trust_issuing_cas=True)
    server = sim.apply_trust_flags(sim.server.server_context(sim.trust))

    assert _handshake(server, mine.identity().client_context(sim.trust)) == "ok"
    refused = _handshake(server, stranger.identity().client_context(sim.trust))
    assert refused != "ok"
    assert "CERTIFICATE_VERIFY_FAILED" in refused or "certificate" in refused.lower()

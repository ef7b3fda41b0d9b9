"""A small EC test PKI and real mTLS servers on 127.0.0.1 for the transport self-tests."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import LeafSpec, TestHierarchy, build_hierarchy, issue_leaf
from pytest_dso.transport.api import Route
from pytest_dso.transport.server import Handler, HttpsServer


@dataclass(frozen=True)
class Pki:
    """Identities for every TLS scenario the tests provoke."""

    hierarchy: TestHierarchy
    foreign_hierarchy: TestHierarchy
    server: Identity
    client: Identity
    foreign_client: Identity
    expired_client: Identity
    expired_server: Identity
    misnamed_server: Identity

    @property
    def anchors(self) -> tuple[x509.Certificate, ...]:
        return self.hierarchy.anchors


def _leaf(h: TestHierarchy, cn: str, number: int, **changes: object) -> Identity:
    spec = LeafSpec(cn, f"00000099{number:09d}000", key_type="ec256", **changes)  # type: ignore[arg-type]
    return issue_leaf(h.tsp, spec).identity(cn)


@pytest.fixture(scope="session")
def pki() -> Pki:
    """Test hierarchy, a foreign hierarchy and good and faulty leaves (EC P-256, fast)."""
    h = build_hierarchy("transport", key_type="ec256")
    other = build_hierarchy("foreign", key_type="ec256")
    now = dt.datetime.now(dt.UTC)
    past = {"not_before": now - dt.timedelta(days=30), "not_after": now - dt.timedelta(days=1)}
    return Pki(
        hierarchy=h,
        foreign_hierarchy=other,
        server=_leaf(h, "server", 1),
        client=_leaf(h, "client", 2),
        foreign_client=_leaf(other, "foreign", 3),
        expired_client=_leaf(h, "expired-client", 4, **past),
        expired_server=_leaf(h, "expired-server", 5, **past),
        misnamed_server=_leaf(
            h, "misnamed", 6, dns_names=("elsewhere.test.localhost",), ip_addresses=()
        ),
    )


ServerFactory = Callable[..., HttpsServer]

#: Server TLS contexts by identity and options: a key load costs about 15 ms, and a server
#: does not change its context, so the session's servers share one per identity.
_SERVER_CONTEXTS: dict[tuple[bytes, tuple[tuple[str, object], ...]], ssl.SSLContext] = {}


def _server_context(pki: Pki, identity: Identity, options: dict[str, Any]) -> ssl.SSLContext:
    key = (identity.certificate.fingerprint(hashes.SHA256()), tuple(sorted(options.items())))
    if key not in _SERVER_CONTEXTS:
        _SERVER_CONTEXTS[key] = identity.server_context(pki.anchors, **options)
    return _SERVER_CONTEXTS[key]


@pytest.fixture
def make_server(pki: Pki) -> Iterator[ServerFactory]:
    """Start mTLS servers (stopped at teardown): ``make_server(routes, identity=..., **kw)``."""
    started: list[HttpsServer] = []

    def make(
        routes: tuple[Route[Handler], ...] = (), *, identity: Identity | None = None,
        **kwargs: object
    ) -> HttpsServer:
        options = cast(dict[str, Any], kwargs.pop("context_kwargs", {}))
        context = _server_context(pki, identity or pki.server, options)
        server = HttpsServer(context, routes=routes, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()

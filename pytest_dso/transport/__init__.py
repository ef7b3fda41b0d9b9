"""HTTP transport with mutual TLS: a small threaded server, a pooled client and TLS verdicts."""

from __future__ import annotations

from pytest_dso.transport.client import HttpClient, HttpExchange
from pytest_dso.transport.server import HttpsServer, PeerCertificate, Request, Response
from pytest_dso.transport.tls_errors import classify_failure

__all__ = [
    "HttpClient",
    "HttpExchange",
    "HttpsServer",
    "PeerCertificate",
    "Request",
    "Response",
    "classify_failure",
]

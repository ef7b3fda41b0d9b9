"""Enumerate every cipher suite a TLS server accepts, per protocol version, with its ephemeral
key exchange, using sslyze.

The local OpenSSL cannot offer what it was built without (Debian's has no 3DES, RC4, export or
SSL 3.0 suites), so a probe built on the ``ssl`` module can only ask for part of the NCSC
table. sslyze drives its own OpenSSL builds (nassl: a modern one and a legacy one), so it offers
SSL 2.0 to TLS 1.3 and the legacy suites, one suite per connection, and reports the DH group or
curve of each accepted (EC)DHE suite. A server that asks for a client certificate still shows
which suites it accepts: the handshake gets as far as the certificate request, no certificate
is sent (the harness's key never leaves this process).

:func:`scan_suites` only observes; ``tlscheck.check_ciphers`` judges. When sslyze is missing or
the scan fails, :attr:`SuiteScan.error` says so and the checks say plainly what was not probed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pytest_dso.network.ciphers import KeyExchange, dh_group_name
from pytest_dso.network.endpoint import Endpoint

#: (sslyze result attribute, ``SSLSocket.version()`` name, label), oldest first.
_VERSIONS: tuple[tuple[str, str, str], ...] = (
    ("ssl_2_0_cipher_suites", "SSLv2", "SSL 2.0"),
    ("ssl_3_0_cipher_suites", "SSLv3", "SSL 3.0"),
    ("tls_1_0_cipher_suites", "TLSv1", "TLS 1.0"),
    ("tls_1_1_cipher_suites", "TLSv1.1", "TLS 1.1"),
    ("tls_1_2_cipher_suites", "TLSv1.2", "TLS 1.2"),
    ("tls_1_3_cipher_suites", "TLSv1.3", "TLS 1.3"),
)
LABELS = {wire: label for _, wire, label in _VERSIONS}


@dataclass(frozen=True)
class AcceptedSuite:
    """One suite the server accepted: IANA and OpenSSL names, and the key exchange it used."""

    iana: str
    openssl: str
    key_exchange: KeyExchange | None = None


@dataclass(frozen=True)
class VersionScan:
    """The suites tried and accepted for one protocol version; ``error`` when that part of the
    scan failed (then nothing is known about the version)."""

    version: str
    tested: frozenset[str] = frozenset()
    accepted: tuple[AcceptedSuite, ...] = ()
    error: str = ""

    @property
    def label(self) -> str:
        """``TLS 1.2`` for ``TLSv1.2``."""
        return LABELS.get(self.version, self.version)


@dataclass(frozen=True)
class SuiteScan:
    """What the scanner saw at one endpoint. ``error`` is set when no scan was made."""

    scanner: str
    versions: tuple[VersionScan, ...] = ()
    curves: tuple[str, ...] = ()
    error: str = ""

    @property
    def available(self) -> bool:
        """True when the scan ran (individual versions may still have failed)."""
        return not self.error

    def version(self, wire: str) -> VersionScan | None:
        """The scan of ``wire`` (``TLSv1.2``), if it was made."""
        return next((v for v in self.versions if v.version == wire), None)

    def tested(self) -> frozenset[str]:
        """Upper-case IANA names of every suite tried, in any version."""
        return frozenset(n.upper() for v in self.versions for n in v.tested)


def not_scanned(reason: str) -> SuiteScan:
    """A :class:`SuiteScan` that records why no scan was made."""
    return SuiteScan("none", error=reason)


def _key_exchange(key: object) -> KeyExchange | None:
    size = getattr(key, "size", None)
    if not isinstance(size, int):
        return None
    prime = getattr(key, "prime", None)
    if isinstance(prime, bytes | bytearray):
        return KeyExchange("DH", size, dh_group_name(bytes(prime)))
    curve = getattr(key, "curve_name", None)
    if isinstance(curve, str):
        return KeyExchange("ECDH", size, curve.lower())
    return None


def scan_suites(
    endpoint: Endpoint,
    server_hostname: str | None = None,
    *,
    timeout: float = 5.0,
    concurrency: int = 4,
    versions: Sequence[str] = tuple(LABELS),
    curves: bool = True,
) -> SuiteScan:
    """Try every suite sslyze knows for each version in ``versions`` (``SSLSocket.version()``
    names), and the supported ECDH curves (``curves``), with at most ``concurrency``
    connections at a time and ``timeout`` seconds per connection (one retry).

    Bounded: a few hundred connections in all (one per suite and version, one per curve).
    """
    try:
        from sslyze.__version__ import __version__
        from sslyze.errors import ServerHostnameCouldNotBeResolved
        from sslyze.plugins.scan_commands import ScanCommand
        from sslyze.scanner.models import ServerScanRequest
        from sslyze.scanner.scanner import Scanner
        from sslyze.server_setting import ServerNetworkConfiguration, ServerNetworkLocation
    except ImportError as exc:  # pragma: no cover - sslyze is a declared dependency
        return not_scanned(f"sslyze is not installed ({exc}); install pytest-dso's dependencies")
    label = f"sslyze {__version__}"
    commands = {
        "ssl_2_0_cipher_suites": ScanCommand.SSL_2_0_CIPHER_SUITES,
        "ssl_3_0_cipher_suites": ScanCommand.SSL_3_0_CIPHER_SUITES,
        "tls_1_0_cipher_suites": ScanCommand.TLS_1_0_CIPHER_SUITES,
        "tls_1_1_cipher_suites": ScanCommand.TLS_1_1_CIPHER_SUITES,
        "tls_1_2_cipher_suites": ScanCommand.TLS_1_2_CIPHER_SUITES,
        "tls_1_3_cipher_suites": ScanCommand.TLS_1_3_CIPHER_SUITES,
    }
    wanted = [(attr, wire) for attr, wire, _ in _VERSIONS if wire in versions]
    selected = {commands[attr] for attr, _ in wanted}
    if curves:
        selected.add(ScanCommand.ELLIPTIC_CURVES)
    name = server_hostname or endpoint.host
    try:
        location = ServerNetworkLocation(name, endpoint.port, ip_address=endpoint.host)
        network = ServerNetworkConfiguration(
            tls_server_name_indication=name,
            network_timeout=max(1, round(timeout)),
            network_max_retries=1,
        )
        request = ServerScanRequest(
            server_location=location, network_configuration=network, scan_commands=selected
        )
    except (ValueError, ServerHostnameCouldNotBeResolved) as exc:
        return not_scanned(f"{label} could not be set up for {endpoint}: {exc}")
    scanner = Scanner(per_server_concurrent_connections_limit=max(1, concurrency),
                      concurrent_server_scans_limit=1)
    scanner.queue_scans([request])
    result = next(iter(scanner.get_results()), None)
    if result is None or result.scan_result is None:
        why = getattr(result, "connectivity_error_trace", None) if result is not None else None
        return not_scanned(f"{label} could not connect to {endpoint}: {why or 'no result'}")
    scanned: list[VersionScan] = []
    for attr, wire in wanted:
        attempt = getattr(result.scan_result, attr)
        outcome = attempt.result
        if outcome is None:
            reason = attempt.error_reason.value if attempt.error_reason else "no result"
            trace = str(attempt.error_trace or "").strip().splitlines()
            scanned.append(VersionScan(
                wire, error=f"{reason}: {trace[-1] if trace else 'no detail'}"
            ))
            continue
        tested = frozenset(
            c.cipher_suite.name
            for c in (*outcome.accepted_cipher_suites, *outcome.rejected_cipher_suites)
        )
        accepted = tuple(
            AcceptedSuite(c.cipher_suite.name, c.cipher_suite.openssl_name,
                          _key_exchange(c.ephemeral_key))
            for c in outcome.accepted_cipher_suites
        )
        scanned.append(VersionScan(wire, tested, accepted))
    supported: tuple[str, ...] = ()
    curve_attempt = result.scan_result.elliptic_curves
    if curves and curve_attempt.result is not None and curve_attempt.result.supported_curves:
        supported = tuple(c.name.lower() for c in curve_attempt.result.supported_curves)
    return SuiteScan(label, tuple(scanned), supported)

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

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
    highest: str | None = None,
) -> SuiteScan:
    """Try every suite sslyze knows for each version in ``versions`` (``SSLSocket.version()``
    names), and the supported ECDH curves (``curves``), with at most ``concurrency``
    connections at a time and ``timeout`` seconds per connection (one retry).

    ``highest`` is the newest version the caller already saw the server accept (``TLSv1.3``);
    with it the scan starts at once. Without it sslyze first tests connectivity itself, which
    at a TLS 1.3 server that only *asks* for a client certificate waits out ``timeout``.
    Either way a server's certificate request counts as acceptance of the suite (the server
    chose it and sent its key exchange before asking), so no certificate is ever sent.

    Bounded: a few hundred connections in all (one per suite and version, one per curve).
    """
    try:
        from sslyze.__version__ import __version__
        from sslyze.errors import ConnectionToServerFailed, ServerHostnameCouldNotBeResolved
        from sslyze.plugins.scan_commands import ScanCommand
        from sslyze.server_connectivity import (
            ClientAuthRequirementEnum,
            ServerConnectivityInfo,
            ServerTlsProbingResult,
            TlsVersionEnum,
            check_connectivity_to_server,
        )
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
    wire_versions = {
        "SSLv2": TlsVersionEnum.SSL_2_0, "SSLv3": TlsVersionEnum.SSL_3_0,
        "TLSv1": TlsVersionEnum.TLS_1_0, "TLSv1.1": TlsVersionEnum.TLS_1_1,
        "TLSv1.2": TlsVersionEnum.TLS_1_2, "TLSv1.3": TlsVersionEnum.TLS_1_3,
    }
    wanted = [(attr, wire) for attr, wire, _ in _VERSIONS if wire in versions]
    selected = [commands[attr] for attr, _ in wanted]
    if curves:
        selected.append(ScanCommand.ELLIPTIC_CURVES)
    name = server_hostname or endpoint.host
    try:
        location = ServerNetworkLocation(name, endpoint.port, ip_address=endpoint.host)
        network = ServerNetworkConfiguration(
            tls_server_name_indication=name,
            network_timeout=max(1, round(timeout)),
            network_max_retries=1,
        )
    except (ValueError, ServerHostnameCouldNotBeResolved) as exc:
        return not_scanned(f"{label} could not be set up for {endpoint}: {exc}")
    known = wire_versions.get(highest or "")
    if known is not None:
        # What sslyze's connectivity test would find out, from the caller's own handshakes.
        # ECDH is assumed: at a server without it every curve is simply refused.
        probing = ServerTlsProbingResult(
            highest_tls_version_supported=known,
            cipher_suite_supported="",
            client_auth_requirement=ClientAuthRequirementEnum.REQUIRED,
            supports_ecdh_key_exchange=True,
        )
    else:
        try:
            probing = check_connectivity_to_server(location, network)
        except ConnectionToServerFailed as exc:
            return not_scanned(f"{label} could not connect to {endpoint}: {exc.error_message}")
        except Exception as exc:  # a scanner failure is a verdict, not a traceback
            return not_scanned(f"{label} failed testing {endpoint}: {type(exc).__name__}: {exc}")
    server = ServerConnectivityInfo(location, network, probing)
    results = _run_jobs(server, selected, concurrency)
    scanned: list[VersionScan] = []
    for attr, wire in wanted:
        outcome = results[commands[attr]]
        if isinstance(outcome, BaseException):
            scanned.append(VersionScan(wire, error=_scan_error(outcome)))
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
    curve_result = results.get(ScanCommand.ELLIPTIC_CURVES)
    if curve_result is not None and not isinstance(curve_result, BaseException) and (
        curve_result.supported_curves
    ):
        supported = tuple(c.name.lower() for c in curve_result.supported_curves)
    return SuiteScan(label, tuple(scanned), supported)


def _run_jobs(server: Any, commands: Sequence[Any], concurrency: int) -> dict[Any, Any]:
    """Run the scan jobs of ``commands`` on one bounded thread pool (each job is one
    connection) and hand each command's results to its sslyze plugin; the value is the
    plugin's result, or the exception that failed the command."""
    from sslyze.plugins.plugin_base import ScanJobResult
    from sslyze.plugins.scan_commands import ScanCommandsRepository

    plugins = {command: ScanCommandsRepository.get_implementation_cls(command)
               for command in commands}
    results: dict[Any, Any] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency),
                            thread_name_prefix="dso-suitescan") as pool:
        pending: dict[Any, list[Future[Any]]] = {}
        for command, plugin in plugins.items():
            try:
                jobs = plugin.scan_jobs_for_scan_command(server)
            except Exception as exc:  # a plugin's failure is its command's error
                results[command] = exc
                continue
            pending[command] = [pool.submit(job.function_to_call, *job.function_arguments)
                                for job in jobs]
        for command, futures in pending.items():
            done = []
            for future in futures:
                error = future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error
                done.append(ScanJobResult(_return_value=None if error else future.result(),
                                          _exception=error))
            try:
                results[command] = plugins[command].result_for_completed_scan_jobs(server, done)
            except Exception as exc:  # e.g. the server stopped answering
                results[command] = exc
    return results


def _scan_error(exc: BaseException) -> str:
    """``CONNECTIVITY_ISSUE: <what>`` in the words sslyze's scanner used for a failed command."""
    from nassl.ssl_client import ClientCertificateRequested
    from sslyze.errors import (
        ConnectionToServerTimedOut,
        ServerRejectedTlsHandshake,
        TlsHandshakeTimedOut,
    )

    if isinstance(exc, ClientCertificateRequested):
        reason = "CLIENT_CERTIFICATE_NEEDED"
    elif isinstance(exc, ConnectionToServerTimedOut | TlsHandshakeTimedOut
                    | ServerRejectedTlsHandshake):
        reason = "CONNECTIVITY_ISSUE"
    else:
        reason = "BUG_IN_SSLYZE"
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
    return f"{reason}: {detail}"

"""Lint a CPA against the Digikoppeling ebMS2 rules and the harness's own certificates.

Every rule returns findings with a stable check id; groups are ``cpa.validity``,
``cpa.certificate``, ``cpa.party_id``, ``cpa.endpoint``, ``cpa.crypto``, ``cpa.naming``,
``cpa.msh`` and ``cpa.rm``. Suites select a group with :func:`pytest_dso.findings.with_check`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from cryptography import x509

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import Cpa, CpaError, PartyInfo, strip_otap_suffix
from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.pkio.identity import fingerprint_sha256, subject_oin
from pytest_dso.pkio.profile import host_in_certificate
from pytest_dso.pkio.readable import UNREADABLE, certificate_problem

#: The rule that PartyIds carry a type (``urn:osb:oin`` for an OIN).
RULE_PARTY_ID = "Koppelvlakstandaard ebMS2, PartyId type"
#: The Best Practices rule that allows another PartyId type for a while.
RULE_PARTY_ID_OTHER_TYPE = "Best Practices ebMS2 EB014"
#: Environments where the endpoint must be the standard HTTPS port (TLS005).
STRICT_ENVIRONMENTS = ("pre", "prod")
_CPA_ID_OK = re.compile(r"^[A-Za-z0-9_-]+$")
_REGISTER_HINT = (
    "ask the Digikoppelaar for a renewed CPA in the CPA-register; when the End date is left "
    "empty the register sets it to the first certificate expiry, so a certificate renewal "
    "usually means a new CPA"
)


def _where(cpa: Cpa, party: PartyInfo | None = None, path: str = "") -> str:
    text = f"CPA {cpa.cpa_id}"
    if party is not None:
        text += f" / PartyInfo[@partyName='{party.name}']"
    return f"{text}{path}"


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- validity --------------------------------------------------------------------------------


def check_validity(cpa: Cpa, now: dt.datetime, expiry_warning_days: int = 30) -> list[Finding]:
    """Status ``agreed``; Start < now < End; a warning ahead of End."""
    findings: list[Finding] = []
    where = _where(cpa)
    if cpa.status != "agreed":
        findings.append(
            error(
                "cpa.validity.status",
                f"the CPA status is {cpa.status!r}; only an 'agreed' CPA is used by ebMS "
                "adapters",
                "finish the CPA in the CPA-register (both parties agree) and load the agreed "
                "version",
                where=f"{where}/Status/@value",
                status=cpa.status,
            )
        )
    if cpa.start >= cpa.end:
        findings.append(
            error(
                "cpa.validity.order",
                f"Start ({_day(cpa.start)}) is not before End ({_day(cpa.end)})",
                "the CPA can never be valid; ask for a corrected CPA",
                where=f"{where}/Start",
            )
        )
    if now < cpa.start:
        findings.append(
            error(
                "cpa.validity.not_started",
                f"the CPA only becomes valid on {_day(cpa.start)}",
                "wait until Start, or ask for a CPA whose Start has passed; check the clock "
                "(UTC/NTP) if this is unexpected",
                where=f"{where}/Start",
                start=cpa.start.isoformat(),
            )
        )
    if now > cpa.end:
        findings.append(
            error(
                "cpa.validity.expired",
                f"the CPA expired on {_day(cpa.end)}; messages under it are refused as "
                "Inconsistent 'Invalid CPA'",
                _REGISTER_HINT,
                where=f"{where}/End",
                end=cpa.end.isoformat(),
            )
        )
    elif cpa.end - now < dt.timedelta(days=expiry_warning_days):
        days = (cpa.end - now).days
        findings.append(
            warning(
                "cpa.validity.expiring",
                f"the CPA expires in {days} day(s), on {_day(cpa.end)}",
                _REGISTER_HINT,
                where=f"{where}/End",
                end=cpa.end.isoformat(),
            )
        )
    return findings


# --- certificates ----------------------------------------------------------------------------


def _party_certificates(party: PartyInfo) -> list[tuple[str, x509.Certificate]]:
    return [(cert_id, entry.certificate) for cert_id, entry in party.certificates.items()]


def check_certificates(
    cpa: Cpa,
    now: dt.datetime,
    *,
    configured_identity_cert: x509.Certificate | None = None,
    presented_certs: Mapping[str, x509.Certificate] | None = None,
    expiry_warning_days: int = 30,
) -> list[Finding]:
    """Certificates in the CPA are valid now, do not expire before End, and equal the
    configured identity and the certificates peers actually presented (by fingerprint).

    ``presented_certs`` maps a party reference (OIN, ``type:value`` or partyName) to the
    certificate that party presented in a TLS handshake.
    """
    findings: list[Finding] = []
    for party in cpa.parties:
        for cert_id, cert in _party_certificates(party):
            where = _where(cpa, party, f"/Certificate[@certId='{cert_id}']")
            evidence = {"cert_id": cert_id, "fingerprint_sha256": fingerprint_sha256(cert)}
            if now < cert.not_valid_before_utc:
                findings.append(
                    error(
                        "cpa.certificate.not_yet_valid",
                        f"certificate {cert_id} of {party.name} is valid only from "
                        f"{_day(cert.not_valid_before_utc)}",
                        "check the clock, or wait for the certificate to become valid",
                        where=where,
                        **evidence,
                    )
                )
            if now > cert.not_valid_after_utc:
                findings.append(
                    error(
                        "cpa.certificate.expired",
                        f"certificate {cert_id} of {party.name} expired on "
                        f"{_day(cert.not_valid_after_utc)}",
                        "renew the certificate and ask for a new CPA with the new certificate",
                        where=where,
                        **evidence,
                    )
                )
            elif cert.not_valid_after_utc - now < dt.timedelta(days=expiry_warning_days):
                findings.append(
                    warning(
                        "cpa.certificate.expiring",
                        f"certificate {cert_id} of {party.name} expires on "
                        f"{_day(cert.not_valid_after_utc)}",
                        "renew the certificate in time; a new key needs a new CPA",
                        where=where,
                        **evidence,
                    )
                )
            if cpa.end > cert.not_valid_after_utc:
                findings.append(
                    warning(
                        "cpa.certificate.outlived",
                        f"the CPA runs until {_day(cpa.end)}, after certificate {cert_id} of "
                        f"{party.name} expires ({_day(cert.not_valid_after_utc)}); the "
                        "connection stops working when the certificate expires",
                        _REGISTER_HINT,
                        where=where,
                        **evidence,
                    )
                )
    if configured_identity_cert is not None:
        findings += _identity_in_cpa(cpa, configured_identity_cert)
    for ref, presented in (presented_certs or {}).items():
        findings += _presented_matches(cpa, ref, presented)
    return findings


def _identity_in_cpa(cpa: Cpa, certificate: x509.Certificate) -> list[Finding]:
    fingerprint = fingerprint_sha256(certificate)
    oin = subject_oin(certificate)
    party = cpa.party_by_oin(oin) if oin else None
    if party is None:
        return [
            error(
                "cpa.certificate.identity_party",
                f"no party in the CPA has the OIN of the configured certificate ({oin})",
                "use the CPA made for your OIN, or configure the certificate the CPA was made "
                "with ([certificate] in dso.toml)",
                where=_where(cpa),
                fingerprint_sha256=fingerprint,
            )
        ]
    known = {fingerprint_sha256(cert): cert_id for cert_id, cert in _party_certificates(party)}
    if fingerprint in known:
        return [
            info(
                "cpa.certificate.identity",
                f"the configured certificate is certificate {known[fingerprint]} of "
                f"{party.name} in the CPA",
                where=_where(cpa, party),
                fingerprint_sha256=fingerprint,
            )
        ]
    return [
        error(
            "cpa.certificate.identity_mismatch",
            f"the configured certificate (SHA-256 {fingerprint}) is not in the CPA for "
            f"{party.name}; the CPA holds "
            + ", ".join(f"{cid} ({fp[:16]}…)" for fp, cid in known.items()),
            "after a certificate renewal the CPA must be renewed too; ask the Digikoppelaar "
            "for a CPA with the current certificate, or configure the certificate the CPA "
            "names",
            where=_where(cpa, party, "/Certificate"),
            fingerprint_sha256=fingerprint,
        )
    ]


def _presented_matches(cpa: Cpa, ref: str, presented: x509.Certificate) -> list[Finding]:
    try:
        party = cpa.party(ref)
    except CpaError as exc:
        return [error("cpa.certificate.presented_party", exc.message, where=_where(cpa))]
    fingerprint = fingerprint_sha256(presented)
    expected = {cpa.expected_server_cert(party), cpa.expected_client_cert(party)}
    expected_prints = {fingerprint_sha256(cert) for cert in expected if cert is not None}
    if fingerprint in expected_prints:
        return []
    return [
        error(
            "cpa.certificate.presented_mismatch",
            f"{party.name} presented a certificate (SHA-256 {fingerprint}) that is not its "
            "TLS certificate in the CPA",
            "the peer changed its certificate or the CPA is outdated; a new certificate needs "
            "a new CPA",
            where=_where(cpa, party, "/Transport"),
            fingerprint_sha256=fingerprint,
        )
    ]


# --- party ids -------------------------------------------------------------------------------


def check_party_ids(cpa: Cpa, env: str) -> list[Finding]:
    """PartyId type ``urn:osb:oin``; the OIN equals the OIN of the party's TLS certificates
    (OTAP suffixes stripped, and reported); no OTAP suffix on PROD."""
    findings: list[Finding] = []
    for party in cpa.parties:
        for party_id in party.party_ids:
            where = _where(cpa, party, "/PartyId")
            if not party_id.type:
                findings.append(
                    error(
                        "cpa.party_id.type",
                        f"PartyId {party_id.value} of {party.name} has no type; Digikoppeling "
                        f"requires a PartyId type, {c.PARTY_ID_TYPE_OIN!r} for an OIN "
                        f"({RULE_PARTY_ID})",
                        "ask for a CPA whose PartyIds carry type urn:osb:oin",
                        where=where,
                        rule=RULE_PARTY_ID,
                    )
                )
                continue
            if party_id.type != c.PARTY_ID_TYPE_OIN:
                findings.append(
                    warning(
                        "cpa.party_id.type",
                        f"PartyId {party_id.value} of {party.name} has type {party_id.type!r}, "
                        f"not {c.PARTY_ID_TYPE_OIN!r}: allowed for parties without an own OIN "
                        f"during a transition ({RULE_PARTY_ID_OTHER_TYPE}), not checked against "
                        "the certificate OIN",
                        "Digikoppeling strongly advises an own OIN (type urn:osb:oin) for the "
                        "party; agree the other type with the partner until then",
                        where=where,
                        rule=RULE_PARTY_ID_OTHER_TYPE,
                    )
                )
                continue
            oin, suffix = strip_otap_suffix(party_id.value)
            if suffix:
                findings.append(
                    (error if env == "prod" else info)(
                        "cpa.party_id.otap_suffix",
                        f"PartyId {party_id.value} carries the OTAP suffix {suffix}; it is "
                        f"stripped before comparing with the certificate OIN {oin}"
                        + ("; PROD PartyIds carry no suffix" if env == "prod" else ""),
                        "use the PartyId without suffix in the production CPA"
                        if env == "prod"
                        else "",
                        where,
                    )
                )
            findings += _oin_matches_certificates(cpa, party, oin, where)
    return findings


def _oin_matches_certificates(
    cpa: Cpa, party: PartyInfo, oin: str, where: str
) -> list[Finding]:
    findings: list[Finding] = []
    certs = {
        "client": cpa.expected_client_cert(party),
        "server": cpa.expected_server_cert(party),
    }
    seen: set[str] = set()
    for role, cert in certs.items():
        if cert is None:
            continue
        fingerprint = fingerprint_sha256(cert)
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        cert_oin = subject_oin(cert)
        if cert_oin is None:
            findings.append(
                warning(
                    "cpa.party_id.certificate_without_oin",
                    f"the TLS {role} certificate of {party.name} has no OIN in subject "
                    "serialNumber, so the PartyId cannot be checked against it",
                    "Digikoppeling uses PKIoverheid certificates with the OIN in "
                    "serialNumber",
                    where=where,
                )
            )
        elif strip_otap_suffix(cert_oin)[0] != oin:
            findings.append(
                error(
                    "cpa.party_id.oin_mismatch",
                    f"PartyId OIN {oin} of {party.name} differs from the OIN {cert_oin} in its "
                    f"TLS {role} certificate",
                    "the PartyId must be the OIN of the end party that owns the certificate; "
                    "ask for a CPA with the right OIN or use the matching certificate",
                    where=where,
                    party_oin=oin,
                    certificate_oin=cert_oin,
                )
            )
    return findings


# --- endpoints -------------------------------------------------------------------------------


def check_endpoints(cpa: Cpa, env: str) -> list[Finding]:
    """Every endpoint is https (port 443 on PRE/PROD) and its host is named by the party's
    server certificate SAN."""
    findings: list[Finding] = []
    for party in cpa.parties:
        server = cpa.expected_server_cert(party)
        for transport in party.transports.values():
            for uri in transport.endpoints:
                where = _where(
                    cpa, party, f"/Transport[@transportId='{transport.transport_id}']/Endpoint"
                )
                try:
                    parts = urlsplit(uri)
                except ValueError as exc:
                    findings.append(
                        error(
                            "cpa.endpoint.url",
                            f"endpoint {uri!r} of {party.name} is not a URL: {exc}",
                            "write the endpoint as https://host[:port]/path (IPv6 hosts in "
                            "brackets)",
                            where=where,
                            endpoint=uri,
                        )
                    )
                    continue
                if parts.scheme.lower() != "https":
                    findings.append(
                        error(
                            "cpa.endpoint.scheme",
                            f"endpoint {uri} of {party.name} does not use https",
                            "Digikoppeling allows only HTTPS with mutual TLS",
                            where=where,
                            endpoint=uri,
                        )
                    )
                    continue
                try:
                    port = parts.port or 443
                except ValueError:
                    findings.append(
                        error("cpa.endpoint.port", f"endpoint {uri} has an invalid port",
                              where=where)
                    )
                    continue
                if env in STRICT_ENVIRONMENTS and port != 443:
                    findings.append(
                        error(
                            "cpa.endpoint.port",
                            f"endpoint {uri} of {party.name} uses port {port}; Digikoppeling "
                            "requires port 443 (TLS005)",
                            "publish the adapter on port 443",
                            where=where,
                            endpoint=uri,
                        )
                    )
                host = parts.hostname or ""
                if server is not None and not host_in_certificate(host, server):
                    findings.append(
                        error(
                            "cpa.endpoint.san",
                            f"the host {host} of endpoint {uri} is not named in the "
                            f"subjectAltName of {party.name}'s server certificate",
                            "the endpoint FQDN must equal a name in the server certificate; "
                            "fix the endpoint in the CPA or get a certificate with that name",
                            where=where,
                            endpoint=uri,
                        )
                    )
    return findings


# --- crypto ----------------------------------------------------------------------------------


def _is_sha1(value: str) -> bool:
    return bool(re.search(r"sha-?1(?![0-9])", value.lower()))


def _is_3des(value: str) -> bool:
    lowered = value.lower()
    return "tripledes" in lowered or "3des" in lowered or "des-ede" in lowered


def _is_rsa_1_5(value: str) -> bool:
    lowered = value.lower()
    return "rsa-1_5" in lowered or "rsaes-pkcs1" in lowered or "rsa-pkcs1" in lowered


def _is_aes(value: str) -> bool:
    return "aes" in value.lower()


def _is_gcm(value: str) -> bool:
    return "gcm" in value.lower()


def _is_key_transport(value: str) -> bool:
    lowered = value.lower()
    return "rsa-oaep" in lowered or _is_rsa_1_5(value)


def _crypto(
    check: str, rule: str, message: str, hint: str, where: str, value: str
) -> Finding:
    return error(check, f"{message} ({rule})", hint, where=where, algorithm=value, rule=rule)


def check_crypto(cpa: Cpa) -> list[Finding]:
    """Signing with SHA-2 only (SIGN001, SIGN003 digest, SIGN004 signature); payload
    encryption with AES (ENC001) in GCM mode and no 3DES (ENC003); key transport RSA-OAEP, not
    RSA-1_5 (ENC004). Every finding carries its rule id in ``evidence["rule"]``."""
    findings: list[Finding] = []
    for party in cpa.parties:
        for exchange in party.doc_exchanges.values():
            where = _where(cpa, party, f"/DocExchange[@docExchangeId='{exchange.doc_exchange_id}']")
            for kind, values, rule in (
                ("hash", exchange.hash_functions, "SIGN003"),
                ("signature", exchange.signature_algorithms, "SIGN004"),
            ):
                for value in values:
                    if _is_sha1(value):
                        findings.append(_crypto(
                            "cpa.crypto.sha1", rule,
                            f"{party.name} uses SHA-1 as {kind} algorithm ({value}); "
                            "Digikoppeling requires SHA-2 (SIGN001)",
                            "ask for a CPA with SHA-256 (xmlenc#sha256, "
                            "xmldsig-more#rsa-sha256)",
                            where, value,
                        ))
            for value in exchange.encryption_algorithms:
                if _is_rsa_1_5(value):
                    findings.append(_crypto(
                        "cpa.crypto.rsa_1_5", "ENC004",
                        f"{party.name} transports the key with RSA-1_5 ({value}); Digikoppeling "
                        "requires RSA-OAEP",
                        "ask for a CPA with key transport rsa-oaep-mgf1p (or xmlenc11#rsa-oaep)",
                        where, value,
                    ))
                elif _is_key_transport(value):
                    continue
                elif _is_3des(value):
                    findings.append(_crypto(
                        "cpa.crypto.3des", "ENC003",
                        f"{party.name} encrypts with 3DES ({value}); Digikoppeling forbids it",
                        "ask for a CPA with AES-128-GCM or AES-256-GCM",
                        where, value,
                    ))
                elif not _is_aes(value):
                    findings.append(_crypto(
                        "cpa.crypto.not_aes", "ENC001",
                        f"{party.name} encrypts with {value}; Digikoppeling payload encryption "
                        "is AES (FIPS 197)",
                        "ask for a CPA with AES-128-GCM or AES-256-GCM",
                        where, value,
                    ))
                elif not _is_gcm(value):
                    findings.append(_crypto(
                        "cpa.crypto.aes_cbc", "ENC003",
                        f"{party.name} encrypts with AES in CBC mode ({value}); Digikoppeling "
                        "requires GCM",
                        "ask for a CPA with xmlenc11#aes128-gcm or xmlenc11#aes256-gcm",
                        where, value,
                    ))
    return findings


# --- naming ----------------------------------------------------------------------------------


def check_naming(cpa: Cpa) -> list[Finding]:
    """No whitespace in Service or Action; no dots or odd characters in the CPAId."""
    findings: list[Finding] = []
    for party in cpa.parties:
        for binding in party.service_bindings:
            where = _where(cpa, party, "/CollaborationRole/ServiceBinding")
            if re.search(r"\s", binding.service):
                findings.append(
                    error(
                        "cpa.naming.whitespace",
                        f"Service {binding.service!r} contains whitespace",
                        "Digikoppeling forbids whitespace in Service; ask for a corrected CPA",
                        where=f"{where}/Service",
                    )
                )
            for action in binding.actions:
                if re.search(r"\s", action.action):
                    findings.append(
                        error(
                            "cpa.naming.whitespace",
                            f"Action {action.action!r} contains whitespace",
                            "Digikoppeling forbids whitespace in Action; ask for a corrected "
                            "CPA",
                            where=f"{where}/ThisPartyActionBinding[@action]",
                        )
                    )
    if not _CPA_ID_OK.match(cpa.cpa_id):
        odd = sorted({ch for ch in cpa.cpa_id if not re.match(r"[A-Za-z0-9_-]", ch)})
        findings.append(
            warning(
                "cpa.naming.cpaid",
                f"the CPAId {cpa.cpa_id!r} contains {' '.join(repr(ch) for ch in odd)}; "
                "adapters may use it as a file name",
                "the convention is [ServiceID]_[PartyA]_[PartyB]_[versie] with no dots or "
                "odd characters",
                where=_where(cpa, None, "/@cpaid"),
            )
        )
    return findings


# --- MSH channels ----------------------------------------------------------------------------


def check_msh_channels(cpa: Cpa) -> list[Finding]:
    """One resolvable default MSH channel per party, the same MSH signal profile on both
    sides, no nextMSH acks, a consistent RM/BE setting, one role per party."""
    findings: list[Finding] = []
    profiles: dict[str, tuple[str, ...]] = {}
    for party in cpa.parties:
        where = _where(cpa, party, "/@defaultMshChannelId")
        if len(set(party.roles)) > 1:
            findings.append(
                warning(
                    "cpa.msh.roles",
                    f"{party.name} has {len(set(party.roles))} roles; Digikoppeling allows one "
                    "role per party per CPA",
                    "ask for one CPA per role",
                    where=_where(cpa, party, "/CollaborationRole"),
                )
            )
        try:
            channel = cpa.msh_channel(party)
        except CpaError as exc:
            findings.append(
                error(
                    "cpa.msh.default_channel",
                    exc.message,
                    "every party needs exactly one default MSH channel (defaultMshChannelId "
                    "naming one of its DeliveryChannels) for Ping, Pong, acks and errors",
                    where=where,
                )
            )
            continue
        profile = (
            channel.sync_reply_mode,
            channel.ack_requested,
            channel.ack_signature_requested,
            channel.duplicate_elimination,
            channel.actor or "",
        )
        profiles[party.name] = profile
        if channel.actor == c.ACTOR_NEXT_MSH:
            findings.append(
                error(
                    "cpa.msh.next_msh",
                    f"the MSH channel {channel.channel_id} of {party.name} asks for nextMSH "
                    "acknowledgements; Digikoppeling never requests them",
                    "use actor urn:oasis:names:tc:ebxml-msg:actor:toPartyMSH",
                    where=where,
                )
            )
        if (channel.ack_requested == "always") != (channel.duplicate_elimination == "always"):
            findings.append(
                warning(
                    "cpa.msh.profile",
                    f"the MSH channel {channel.channel_id} of {party.name} mixes profiles: "
                    f"ackRequested={channel.ack_requested}, "
                    f"duplicateElimination={channel.duplicate_elimination}",
                    "osb-rm uses always/always, osb-be never/never",
                    where=where,
                )
            )
        if channel.sync_reply_mode not in ("none", "mshSignalsOnly"):
            findings.append(
                warning(
                    "cpa.msh.sync_reply",
                    f"syncReplyMode {channel.sync_reply_mode!r} on {party.name}'s MSH channel; "
                    "Digikoppeling uses 'none' (or 'mshSignalsOnly' when both sides support "
                    "it)",
                    "business responses are always asynchronous in Digikoppeling",
                    where=where,
                )
            )
    if len(set(profiles.values())) > 1:
        detail = "; ".join(
            f"{name}: syncReplyMode={p[0]}, ackRequested={p[1]}, ackSignatureRequested={p[2]}, "
            f"duplicateElimination={p[3]}"
            for name, p in profiles.items()
        )
        findings.append(
            error(
                "cpa.msh.inconsistent",
                f"the default MSH channels of the two parties differ ({detail})",
                "all MSH signals of a CPA share one profile; different ack profiles need "
                "separate CPAs",
                where=_where(cpa),
            )
        )
    return findings


# --- reliable messaging ----------------------------------------------------------------------


def check_reliable_messaging(cpa: Cpa) -> list[Finding]:
    """RM channels state Retries and RetryInterval; PersistDuration covers the retries."""
    findings: list[Finding] = []
    for party in cpa.parties:
        for channel in party.channels.values():
            if channel.ack_requested != "always":
                continue
            exchange = party.doc_exchange_of(channel)
            where = _where(cpa, party, f"/DocExchange[@docExchangeId='{channel.doc_exchange_id}']")
            if exchange is None or exchange.retries is None or exchange.retry_interval is None:
                findings.append(
                    warning(
                        "cpa.rm.values",
                        f"channel {channel.channel_id} of {party.name} requests acks but its "
                        "DocExchange states no Retries/RetryInterval",
                        "state them in the CPA (Best Practices: 8 retries, 3 hours); adapters "
                        "otherwise use their own defaults",
                        where=where,
                    )
                )
                continue
            window = exchange.retry_interval * (exchange.retries + 1)
            findings.append(
                info(
                    "cpa.rm.values",
                    f"{party.name}: {exchange.retries} retries every {exchange.retry_interval}; "
                    f"TimeToLive window {window}",
                    where=where,
                )
            )
            last_retry = exchange.retry_interval * exchange.retries
            persist = exchange.persist_duration
            if persist is not None and persist < last_retry:
                findings.append(
                    warning(
                        "cpa.rm.persist_duration",
                        f"PersistDuration {persist} of {party.name} is shorter than "
                        f"Retries×RetryInterval = {last_retry}, when the last retry arrives; "
                        "late duplicates cannot be recognised",
                        "set PersistDuration to at least (1+Retries)×RetryInterval",
                        where=where,
                    )
                )
            elif persist is not None and persist < window:
                findings.append(
                    info(
                        "cpa.rm.persist_duration",
                        f"PersistDuration {persist} of {party.name} covers the last retry but "
                        f"not the full (1+Retries)×RetryInterval = {window} the "
                        "Koppelvlakstandaard asks for duplicate-check storage",
                        "keep received MessageIds at least (1+Retries)×RetryInterval",
                        where=where,
                    )
                )
    return findings


def lint_cpa(
    cpa: Cpa,
    *,
    now: dt.datetime,
    env: str,
    configured_identity_cert: x509.Certificate | None = None,
    presented_certs: Mapping[str, x509.Certificate] | None = None,
    expiry_warning_days: int = 30,
) -> list[Finding]:
    """All CPA rules; see the ``check_*`` functions for each group. A certificate whose
    fields cannot be decoded is a ``cpa.certificate.unreadable`` error, and a group it keeps
    from running says so (``cpa.lint.skipped``) instead of raising."""
    findings = check_readable(cpa)
    groups: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("validity", lambda: check_validity(cpa, now, expiry_warning_days)),
        ("certificates", lambda: check_certificates(
            cpa,
            now,
            configured_identity_cert=configured_identity_cert,
            presented_certs=presented_certs,
            expiry_warning_days=expiry_warning_days,
        )),
        ("party ids", lambda: check_party_ids(cpa, env)),
        ("endpoints", lambda: check_endpoints(cpa, env)),
        ("crypto", lambda: check_crypto(cpa)),
        ("naming", lambda: check_naming(cpa)),
        ("MSH channels", lambda: check_msh_channels(cpa)),
        ("reliable messaging", lambda: check_reliable_messaging(cpa)),
    ]
    for name, group in groups:
        try:
            findings += group()
        except UNREADABLE as exc:
            findings.append(error(
                "cpa.lint.skipped",
                f"the {name} checks could not run: {type(exc).__name__}: {str(exc)[:200]}",
                "fix the unreadable values reported above (usually a damaged certificate) "
                "and lint again",
                where=_where(cpa),
            ))
    return findings


def check_readable(cpa: Cpa) -> list[Finding]:
    """Every certificate in the CPA decodes (subject, SAN, extensions, key)."""
    findings: list[Finding] = []
    for party in cpa.parties:
        for item in party.certificates.values():
            for index, certificate in enumerate(item.certificates, start=1):
                problem = certificate_problem(certificate)
                if problem is not None:
                    findings.append(error(
                        "cpa.certificate.unreadable",
                        f"certificate {item.cert_id} of {party.name} (X509Certificate "
                        f"{index}) cannot be used: {problem}",
                        "put the party's real PKIoverheid certificate (base64 DER) in the CPA; "
                        "this one is damaged",
                        where=_where(cpa, party, f"/Certificate[@certId='{item.cert_id}']"),
                    ))
    return findings

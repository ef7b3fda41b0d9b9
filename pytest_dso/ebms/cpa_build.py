"""Write Digikoppeling-style CPPA 2.0 CPAs: two parties, embedded certificates, one delivery
channel per party (also its default MSH channel), reliable-messaging values.

Used by the simulator (``dso-sim cpa``) and by tests to make good and deliberately faulty CPAs.
The service and action names of the real STAM CPA are not public; the defaults here are
placeholders of this project (:data:`PLACEHOLDER_SERVICE`), and the real values come from the
CPA the CPA-register produces.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.durations import format_duration
from pytest_dso.ebms.envelope import format_timestamp
from pytest_dso.pkio.testpki import TestPki

#: A project placeholder (not an official DSO-LV name) for the verzoeknotificatie service.
PLACEHOLDER_SERVICE = "DSO-SIM:Verzoeknotificatie:1:0"
#: A project placeholder action for the verzoeknotificatie.
PLACEHOLDER_ACTION = "Verzoeknotificatie"

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
TRIPLE_DES = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"

_CPPA = f"{{{c.CPPA_NS}}}"
_DS = f"{{{c.DS_NS}}}"
_XLINK = f"{{{c.XLINK_NS}}}"


@dataclass(frozen=True)
class PartySpec:
    """One side of the CPA. ``party_id`` is the OIN (an OTAP suffix may be appended);
    ``certificate`` is used for TLS client, TLS server and signing unless overridden."""

    name: str
    party_id: str
    certificate: x509.Certificate
    endpoint: str
    role: str
    sends: tuple[str, ...] = ()
    party_id_type: str | None = c.PARTY_ID_TYPE_OIN
    server_certificate: x509.Certificate | None = None
    client_certificate: x509.Certificate | None = None
    trust_anchors: tuple[x509.Certificate, ...] = ()
    sync_reply_mode: str | None = None
    ack_requested: str | None = None
    ack_signature_requested: str | None = None
    duplicate_elimination: str | None = None
    actor: str | None = None
    default_msh_channel: bool = True

    @property
    def slug(self) -> str:
        """The name reduced to ``[A-Za-z0-9_]`` for ids."""
        return re.sub(r"[^A-Za-z0-9]+", "_", self.name).strip("_") or "party"


@dataclass(frozen=True)
class ServiceSpec:
    """One more Service binding: the same parties and actions under ``service`` of
    ``service_type``, on a channel of its own (best effort or reliable). Real CPAs bind one
    Service name under several types this way (e.g. a best-effort and a reliable variant)."""

    service: str
    service_type: str | None
    reliable: bool

    @property
    def slug(self) -> str:
        """The type and name reduced to ``[A-Za-z0-9_]`` for ids."""
        text = f"{self.service_type or 'untyped'}_{self.service}"
        return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "service"


@dataclass(frozen=True)
class CpaSpec:
    """Everything :func:`build_cpa` needs. Defaults follow the Digikoppeling ``osb-rm``
    profile with the Best Practices values (8 retries, 3 h, PersistDuration 1 day)."""

    cpa_id: str
    parties: tuple[PartySpec, PartySpec]
    start: dt.datetime
    end: dt.datetime
    status: str = "agreed"
    service: str = PLACEHOLDER_SERVICE
    service_type: str | None = c.SERVICE_TYPE_OSB
    reliable: bool = True
    retries: int = 8
    retry_interval: dt.timedelta = dt.timedelta(hours=3)
    persist_duration: dt.timedelta = dt.timedelta(days=1)
    sync_reply_mode: str = "none"
    signing: bool = False
    hash_function: str = SHA256
    signature_algorithm: str = RSA_SHA256
    encryption_algorithm: str | None = None
    version: str = "1"
    comment: str = field(default="Generated test CPA; not for production use")
    #: Further Service bindings, each on its own channel (the first binding, from
    #: ``service``/``service_type``/``reliable``, keeps the default MSH channel).
    extra_services: tuple[ServiceSpec, ...] = ()


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, /, **attrs: str
) -> etree._Element:
    element = etree.SubElement(parent, _CPPA + tag)
    for key, value in attrs.items():
        if key.startswith("xlink_"):
            element.set(_XLINK + key[6:], value)
        else:
            element.set(_CPPA + key, value)
    if text is not None:
        element.text = text
    return element


def _reliable_messaging(binding: etree._Element, spec: CpaSpec) -> None:
    """ReliableMessaging and PersistDuration of a sender or receiver binding."""
    rm = _sub(binding, "ReliableMessaging")
    _sub(rm, "Retries", str(spec.retries))
    _sub(rm, "RetryInterval", format_duration(spec.retry_interval))
    _sub(rm, "MessageOrderSemantics", "NotGuaranteed")
    _sub(binding, "PersistDuration", format_duration(spec.persist_duration))


def _der_b64(certificate: x509.Certificate) -> str:
    der = certificate.public_bytes(serialization.Encoding.DER)
    text = base64.b64encode(der).decode("ascii")
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def _certificate(parent: etree._Element, cert_id: str, certificate: x509.Certificate) -> None:
    holder = _sub(parent, "Certificate", certId=cert_id)
    key_info = etree.SubElement(holder, _DS + "KeyInfo")
    data = etree.SubElement(key_info, _DS + "X509Data")
    etree.SubElement(data, _DS + "X509Certificate").text = _der_b64(certificate)


def _btc(parent: etree._Element, spec: CpaSpec) -> None:
    level = "transient-and-persistent" if spec.signing else "transient"
    nonrep = "true" if spec.signing else "false"
    _sub(
        parent,
        "BusinessTransactionCharacteristics",
        isNonRepudiationRequired=nonrep,
        isNonRepudiationReceiptRequired=nonrep,
        isConfidential="transient-and-persistent" if spec.encryption_algorithm else "transient",
        isAuthenticated=level,
        isAuthorizationRequired="true",
        isTamperProof=level,
        isIntelligibleCheckRequired="false",
        timeToPerform="P2D",
    )


def _action(
    parent: etree._Element, kind: str, action: str, channel_id: str, spec: CpaSpec, slug: str,
    package_id: str,
) -> None:
    holder = _sub(parent, kind)
    binding = _sub(
        holder,
        "ThisPartyActionBinding",
        id=f"{slug}_{kind}_{re.sub(r'[^A-Za-z0-9]+', '_', action)}",
        action=action,
        packageId=package_id,
        xlink_type="simple",
    )
    _btc(binding, spec)
    _sub(binding, "ChannelId", channel_id)


def _party(
    root: etree._Element, spec: CpaSpec, party: PartySpec, other: PartySpec
) -> None:
    slug = party.slug
    channel_id = f"{slug}_defaultChannel"
    attrs = {"partyName": party.name, "defaultMshPackageId": f"{slug}_package"}
    if party.default_msh_channel:
        attrs["defaultMshChannelId"] = channel_id
    info = _sub(root, "PartyInfo", **attrs)
    party_id = _sub(info, "PartyId", party.party_id)
    if party.party_id_type:
        party_id.set(_CPPA + "type", party.party_id_type)
    _sub(info, "PartyRef", xlink_href="http://www.example.invalid/", xlink_type="simple")
    services = _services(spec)
    for index, item in enumerate(services):
        role = _sub(info, "CollaborationRole")
        _sub(
            role, "ProcessSpecification", "", name=item.service, version="1.0",
            xlink_href="http://www.example.invalid/process", xlink_type="simple",
        )
        _sub(role, "Role", name=party.role, xlink_href="http://www.example.invalid/role",
             xlink_type="simple")
        binding = _sub(role, "ServiceBinding")
        service = _sub(binding, "Service", item.service)
        if item.service_type:
            service.set(_CPPA + "type", item.service_type)
        item_channel = channel_id if index == 0 else f"{slug}_{item.slug}_channel"
        item_slug = slug if index == 0 else f"{slug}_{item.slug}"
        for action in party.sends:
            _action(binding, "CanSend", action, item_channel, spec, item_slug, f"{slug}_package")
        for action in other.sends:
            _action(
                binding, "CanReceive", action, item_channel, spec, item_slug, f"{slug}_package"
            )
    client_cert = party.client_certificate or party.certificate
    server_cert = party.server_certificate or party.certificate
    _certificate(info, f"{slug}_cert", party.certificate)
    if party.client_certificate is not None:
        _certificate(info, f"{slug}_clientCert", client_cert)
    if party.server_certificate is not None:
        _certificate(info, f"{slug}_serverCert", server_cert)
    for index, anchor in enumerate(party.trust_anchors, start=1):
        _certificate(info, f"{slug}_anchor{index}", anchor)
    details = _sub(info, "SecurityDetails", securityId=f"{slug}_security")
    if party.trust_anchors:
        anchors = _sub(details, "TrustAnchors")
        for index in range(1, len(party.trust_anchors) + 1):
            _sub(anchors, "AnchorCertificateRef", certId=f"{slug}_anchor{index}")
    for index, item in enumerate(services):
        suffix = "" if index == 0 else f"_{item.slug}"
        reliable = item.reliable
        channel = _sub(
            info, "DeliveryChannel",
            channelId=channel_id if index == 0 else f"{slug}{suffix}_channel",
            transportId=f"{slug}_transport", docExchangeId=f"{slug}_docExchange{suffix}",
        )
        _sub(
            channel,
            "MessagingCharacteristics",
            syncReplyMode=party.sync_reply_mode or spec.sync_reply_mode,
            ackRequested=party.ack_requested or ("always" if reliable else "never"),
            ackSignatureRequested=party.ack_signature_requested
            or ("always" if spec.signing else "never"),
            duplicateElimination=party.duplicate_elimination
            or ("always" if reliable else "never"),
            actor=party.actor or c.ACTOR_TO_PARTY_MSH,
        )
    transport = _sub(info, "Transport", transportId=f"{slug}_transport")
    sender = _sub(transport, "TransportSender")
    _sub(sender, "TransportProtocol", "HTTP", version="1.1")
    client = _sub(sender, "TransportClientSecurity")
    _sub(client, "TransportSecurityProtocol", "TLS", version="1.2")
    _sub(
        client, "ClientCertificateRef",
        certId=f"{slug}_clientCert" if party.client_certificate is not None else f"{slug}_cert",
    )
    receiver = _sub(transport, "TransportReceiver")
    _sub(receiver, "TransportProtocol", "HTTP", version="1.1")
    _sub(receiver, "Endpoint", uri=party.endpoint, type="allPurpose")
    server = _sub(receiver, "TransportServerSecurity")
    _sub(server, "TransportSecurityProtocol", "TLS", version="1.2")
    _sub(
        server, "ServerCertificateRef",
        certId=f"{slug}_serverCert" if party.server_certificate is not None else f"{slug}_cert",
    )
    for index, item in enumerate(services):
        suffix = "" if index == 0 else f"_{item.slug}"
        exchange = _sub(info, "DocExchange", docExchangeId=f"{slug}_docExchange{suffix}")
        send_binding = _sub(exchange, "ebXMLSenderBinding", version="2.0")
        if item.reliable:
            _reliable_messaging(send_binding, spec)
        if spec.signing:
            nonrep = _sub(send_binding, "SenderNonRepudiation")
            _sub(nonrep, "NonRepudiationProtocol", "http://www.w3.org/2000/09/xmldsig#")
            _sub(nonrep, "HashFunction", spec.hash_function)
            _sub(nonrep, "SignatureAlgorithm", spec.signature_algorithm)
            _sub(nonrep, "SigningCertificateRef", certId=f"{slug}_cert")
        if spec.encryption_algorithm:
            envelope = _sub(send_binding, "SenderDigitalEnvelope")
            _sub(envelope, "DigitalEnvelopeProtocol", "XMLENC", version="1.0")
            _sub(envelope, "EncryptionAlgorithm", spec.encryption_algorithm)
        receive_binding = _sub(exchange, "ebXMLReceiverBinding", version="2.0")
        if item.reliable:
            _reliable_messaging(receive_binding, spec)
        if spec.signing:
            nonrep = _sub(receive_binding, "ReceiverNonRepudiation")
            _sub(nonrep, "NonRepudiationProtocol", "http://www.w3.org/2000/09/xmldsig#")
            _sub(nonrep, "HashFunction", spec.hash_function)
            _sub(nonrep, "SignatureAlgorithm", spec.signature_algorithm)
        if spec.encryption_algorithm:
            envelope = _sub(receive_binding, "ReceiverDigitalEnvelope")
            _sub(envelope, "DigitalEnvelopeProtocol", "XMLENC", version="1.0")
            _sub(envelope, "EncryptionAlgorithm", spec.encryption_algorithm)
            _sub(envelope, "EncryptionCertificateRef", certId=f"{slug}_cert")


def _services(spec: CpaSpec) -> tuple[ServiceSpec, ...]:
    first = ServiceSpec(spec.service, spec.service_type, spec.reliable)
    return (first, *spec.extra_services)


def build_cpa(spec: CpaSpec) -> bytes:
    """The CPA XML (UTF-8) for ``spec``."""
    root = etree.Element(
        _CPPA + "CollaborationProtocolAgreement",
        nsmap={"cppa": c.CPPA_NS, "ds": c.DS_NS, "xlink": c.XLINK_NS},
    )
    root.set(_CPPA + "cpaid", spec.cpa_id)
    root.set(_CPPA + "version", spec.version)
    _sub(root, "Status", value=spec.status)
    _sub(root, "Start", format_timestamp(spec.start))
    _sub(root, "End", format_timestamp(spec.end))
    first, second = spec.parties
    _party(root, spec, first, second)
    _party(root, spec, second, first)
    _sub(root, "SimplePart", id="soapPart", mimetype="text/xml")
    _sub(root, "SimplePart", id="payloadPart", mimetype="application/xml")
    for party in spec.parties:
        packaging = _sub(root, "Packaging", id=f"{party.slug}_package")
        _sub(packaging, "ProcessingCapabilities", generate="true", parse="true")
        composites = _sub(packaging, "CompositeList")
        composite = _sub(
            composites, "Composite", id=f"{party.slug}_message", mimetype="multipart/related",
            mimeparameters='type="text/xml"',
        )
        _sub(composite, "Constituent", idref="soapPart")
        _sub(composite, "Constituent", idref="payloadPart")
    comment = _sub(root, "Comment", spec.comment)
    comment.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )


def write_cpa(spec: CpaSpec, path: str | os.PathLike[str]) -> Path:
    """Write :func:`build_cpa` output to ``path`` and return the path."""
    target = Path(path)
    target.write_bytes(build_cpa(spec))
    return target


def earliest_expiry(certificates: Sequence[x509.Certificate]) -> dt.datetime:
    """The earliest ``not_valid_after`` of ``certificates`` (what the CPA-register uses as End
    when none is given)."""
    return min(cert.not_valid_after_utc for cert in certificates)


def cpa_id_for(service: str, first_oin: str, second_oin: str, version: int = 1) -> str:
    """A CPAId after the Digikoppeling convention ``[ServiceID]_[PartyA]_[PartyB]_[versie]``
    with every character outside ``[A-Za-z0-9_-]`` replaced (no dots)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", service).strip("-")
    return f"{safe}_{first_oin}_{second_oin}_{version}"


def local_cpa(
    pki: TestPki,
    dso_endpoint: str,
    dka_endpoint: str,
    *,
    dso_slug: str = "dso-lv",
    dka_slug: str = "digikoppelaar",
    now: dt.datetime | None = None,
    days: int = 180,
    service: str = PLACEHOLDER_SERVICE,
    action: str = PLACEHOLDER_ACTION,
    reliable: bool = True,
    sync_reply_mode: str = "none",
    cpa_id: str | None = None,
) -> bytes:
    """The CPA between the simulated DSO-LV and the test PKI's Digikoppelaar (local mode).

    DSO-LV sends ``action`` to the Digikoppelaar; both take part in Ping/Pong. Start is a day
    before ``now``; End is ``days`` ahead but never after the first certificate expiry.
    """
    moment = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    dso, dka = pki.party(dso_slug), pki.party(dka_slug)
    dso_cert = pki.leaves[dso_slug].certificate
    dka_cert = pki.leaves[dka_slug].certificate
    end = min(moment + dt.timedelta(days=days), earliest_expiry([dso_cert, dka_cert]))
    spec = CpaSpec(
        cpa_id=cpa_id or cpa_id_for(service, dso.oin, dka.oin),
        parties=(
            PartySpec(
                name="DSO-LV", party_id=dso.oin, certificate=dso_cert, endpoint=dso_endpoint,
                role="Verzender", sends=(action,),
            ),
            PartySpec(
                name=dka.name, party_id=dka.oin, certificate=dka_cert, endpoint=dka_endpoint,
                role="Ontvanger",
            ),
        ),
        start=moment - dt.timedelta(days=1),
        end=end,
        service=service,
        reliable=reliable,
        sync_reply_mode=sync_reply_mode,
    )
    return build_cpa(spec)

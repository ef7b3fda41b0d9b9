"""Validate an ebMS envelope: XML Schema (our own ebMS/SOAP schemas) plus Digikoppeling rules.

``validate_envelope`` never raises for bad input; every problem is a finding:

- ``ebms.xml``: not well-formed or hostile (DTD/entities);
- ``ebms.schema``: violates ``schemas/ebms-header-2_0.xsd`` / ``soap-envelope-1_1.xsd`` (the
  same compiled schema the MSH checks every inbound message against);
- ``ebms.header.*``: order, eb:version, mustUnderstand, Timestamp, PartyId@type, whitespace
  in Service/Action;
- ``ebms.manifest.cid``, ``ebms.ack.*``, ``ebms.sync_reply.actor``, ``ebms.message_order``:
  Digikoppeling restrictions;
- ``ebms.envelope``: anything else the envelope parser (and so the MSH) refuses, so that the
  validator never passes what the MSH answers with an error.

Locations use the forms ebms-core puts in its ``eb:Error@location``
(``//Header/AckRequested/@actor``), so a finding here and a MessageError from either MSH point
at the same place.
"""

from __future__ import annotations

import functools
import re
import threading
from importlib import resources

from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.envelope import EnvelopeError, parse_envelope, parse_timestamp
from pytest_dso.findings import Finding, Severity, error, warning
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml

_SOAP = f"{{{c.SOAP_NS}}}"
_EB = f"{{{c.EB_NS}}}"
_XLINK = f"{{{c.XLINK_NS}}}"

SCHEMA_FILE = "ebms-header-2_0.xsd"
#: MessageHeader children in schema order.
HEADER_ORDER = (
    "From", "To", "CPAId", "ConversationId", "Service", "Action", "MessageData",
    "DuplicateElimination", "Description",
)
HEADER_EXTENSIONS = (
    "MessageHeader", "AckRequested", "SyncReply", "Acknowledgment", "ErrorList", "MessageOrder",
)
BODY_EXTENSIONS = ("Manifest", "StatusRequest", "StatusResponse")


@functools.cache
def envelope_schema() -> etree.XMLSchema:
    """The compiled ebMS envelope schema (loaded once, from the package, never the network)."""
    path = resources.files("pytest_dso.ebms.schemas").joinpath(SCHEMA_FILE)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file), parser))


_NAMES = {c.SOAP_NS: "soap", c.EB_NS: "eb", c.XLINK_NS: "xlink", c.DS_NS: "ds"}
_CLARK = re.compile(r"\{([^}]*)\}")
_STEP_PREFIX = re.compile(r"(?<=/)[A-Za-z_][\w.-]*:")


def _readable(text: str) -> str:
    """Clark names (``{uri}Name``) as ``prefix:Name``."""
    return _CLARK.sub(lambda m: f"{_NAMES.get(m.group(1), m.group(1))}:", text)


def _location(path: str | None) -> str:
    """An lxml element path (``/soap:Envelope/soap:Header/eb:ErrorList``) in the form
    ebms-core uses (``//Header/ErrorList``)."""
    if not path:
        return "/"
    steps = _STEP_PREFIX.sub("", path).split("/")
    if len(steps) > 1 and steps[1] == "Envelope":
        return "//" + "/".join(steps[2:]) if len(steps) > 2 else "/"
    return path


#: One validation at a time: the compiled schema keeps one error log, which a validation in
#: another thread would clear or fill while this one reads it.
_VALIDATING = threading.Lock()


def schema_problems(root: etree._Element) -> list[tuple[str, str]]:
    """(reason, location) for each schema violation of the envelope ``root``."""
    schema = envelope_schema()
    with _VALIDATING:
        if schema.validate(root):
            return []
        entries = list(schema.error_log)  # type: ignore[call-overload]
    return [(_readable(e.message), _location(e.path)) for e in entries]


def _eb(element: etree._Element, name: str) -> str | None:
    value = element.get(_EB + name)
    return value if value is not None else element.get(name)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _schema_findings(root: etree._Element) -> list[Finding]:
    return [
        error(
            "ebms.schema",
            reason,
            "make the envelope follow the ebMS 2.0 structure (element order and required "
            "attributes)",
            where=where,
        )
        for reason, where in schema_problems(root)
    ]


def _order_findings(header: etree._Element) -> list[Finding]:
    seen = [
        _local(child)
        for child in header
        if isinstance(child.tag, str) and child.tag.startswith(_EB)
    ]
    known = [name for name in seen if name in HEADER_ORDER]
    expected = sorted(known, key=HEADER_ORDER.index)
    if known == expected:
        return []
    return [
        error(
            "ebms.header.order",
            f"MessageHeader children are in the order {', '.join(known)}; the schema order is "
            f"{', '.join(expected)}",
            "write From, To, CPAId, ConversationId, Service, Action, MessageData, "
            "DuplicateElimination, Description in that order",
            where="//Header/MessageHeader",
        )
    ]


def _extension_findings(
    soap_header: etree._Element | None, body: etree._Element | None
) -> list[Finding]:
    findings: list[Finding] = []
    blocks: list[tuple[etree._Element, bool]] = []
    if soap_header is not None:
        blocks += [
            (e, True)
            for e in soap_header
            if isinstance(e.tag, str) and e.tag.startswith(_EB) and _local(e) in HEADER_EXTENSIONS
        ]
    if body is not None:
        blocks += [
            (e, False)
            for e in body
            if isinstance(e.tag, str) and e.tag.startswith(_EB) and _local(e) in BODY_EXTENSIONS
        ]
    for element, in_header in blocks:
        name = _local(element)
        where = f"//{'Header' if in_header else 'Body'}/{name}"
        version = _eb(element, "version")
        if version != c.EB_VERSION:
            findings.append(
                error(
                    "ebms.header.version",
                    f"eb:{name} has eb:version={version!r}; it must be '2.0'",
                    'add eb:version="2.0"',
                    where=f"{where}/@version",
                )
            )
        if in_header and element.get(_SOAP + "mustUnderstand") != "1":
            findings.append(
                error(
                    "ebms.header.must_understand",
                    f"eb:{name} lacks soap:mustUnderstand=\"1\"",
                    'add soap:mustUnderstand="1" to every ebMS header block',
                    where=f"{where}/@mustUnderstand",
                )
            )
    return findings


def _message_header_findings(header: etree._Element) -> list[Finding]:
    findings: list[Finding] = []
    where = "//Header/MessageHeader"
    for name in ("Service", "Action"):
        element = header.find(_EB + name)
        text = element.text if element is not None and element.text else ""
        if re.search(r"\s", text):
            findings.append(
                error(
                    "ebms.header.whitespace",
                    f"eb:{name} {text!r} contains whitespace",
                    f"Digikoppeling forbids whitespace in {name}; send the value exactly as in "
                    "the CPA",
                    where=f"{where}/{name}",
                )
            )
    stamp = header.find(f"{_EB}MessageData/{_EB}Timestamp")
    if stamp is None:
        findings.append(
            error(
                "ebms.header.timestamp",
                "eb:Timestamp is missing",
                "Digikoppeling requires eb:MessageData/eb:Timestamp (UTC)",
                where=f"{where}/MessageData/Timestamp",
            )
        )
    else:
        text = (stamp.text or "").strip()
        try:
            parse_timestamp(text)
        except ValueError:
            findings.append(
                error(
                    "ebms.header.timestamp",
                    f"eb:Timestamp {text!r} is not an xsd:dateTime",
                    "write the UTC time like 2024-05-01T10:00:00.000Z",
                    where=f"{where}/MessageData/Timestamp",
                )
            )
        else:
            if not text.endswith("Z"):
                findings.append(
                    warning(
                        "ebms.header.timestamp",
                        f"eb:Timestamp {text!r} is not in UTC (no 'Z')",
                        "ebMS timestamps are UTC; write them with a trailing Z",
                        where=f"{where}/MessageData/Timestamp",
                    )
                )
    for side in ("From", "To"):
        for party in header.findall(f"{_EB}{side}/{_EB}PartyId"):
            kind = _eb(party, "type")
            value = (party.text or "").strip()
            if not kind:
                findings.append(
                    error(
                        "ebms.header.party_id_type",
                        f"eb:{side}/eb:PartyId {value} has no eb:type",
                        f"Digikoppeling requires eb:type=\"{c.PARTY_ID_TYPE_OIN}\"",
                        where=f"{where}/{side}/PartyId",
                    )
                )
            elif kind != c.PARTY_ID_TYPE_OIN:
                findings.append(
                    warning(
                        "ebms.header.party_id_type",
                        f"eb:{side}/eb:PartyId {value} has type {kind!r}, not "
                        f"{c.PARTY_ID_TYPE_OIN!r}",
                        "Digikoppeling PartyIds are OINs of type urn:osb:oin",
                        where=f"{where}/{side}/PartyId",
                    )
                )
    return findings


def _digikoppeling_findings(
    soap_header: etree._Element, body: etree._Element | None, header: etree._Element
) -> list[Finding]:
    findings: list[Finding] = []
    if soap_header.find(_EB + "MessageOrder") is not None:
        findings.append(
            error(
                "ebms.message_order",
                "eb:MessageOrder is present; Digikoppeling MSHs answer NotSupported",
                "do not use MessageOrder (it is strongly discouraged in Digikoppeling)",
                where="//Header/MessageOrder",
            )
        )
    ack_requested = soap_header.find(_EB + "AckRequested")
    if ack_requested is not None and ack_requested.get(_SOAP + "actor") == c.ACTOR_NEXT_MSH:
        findings.append(
            error(
                "ebms.ack.next_msh",
                "eb:AckRequested asks for a nextMSH acknowledgement",
                f"Digikoppeling never requests nextMSH acks; use {c.ACTOR_TO_PARTY_MSH}",
                where="//Header/AckRequested/@actor",
            )
        )
    elif ack_requested is not None and (
        ack_requested.get(_SOAP + "actor") or ""
    ) != c.ACTOR_TO_PARTY_MSH:
        findings.append(
            error(
                "ebms.ack.actor",
                f"eb:AckRequested has soap:actor={ack_requested.get(_SOAP + 'actor')!r}",
                "Digikoppeling acknowledgements are end to end: "
                f"soap:actor=\"{c.ACTOR_TO_PARTY_MSH}\"",
                where="//Header/AckRequested/@actor",
            )
        )
    sync_reply = soap_header.find(_EB + "SyncReply")
    if sync_reply is not None and sync_reply.get(_SOAP + "actor") != c.SOAP_ACTOR_NEXT:
        findings.append(
            error(
                "ebms.sync_reply.actor",
                f"eb:SyncReply has soap:actor={sync_reply.get(_SOAP + 'actor')!r}",
                f"eb:SyncReply always has soap:actor=\"{c.SOAP_ACTOR_NEXT}\"",
                where="//Header/SyncReply/@actor",
            )
        )
    if (
        soap_header.find(_EB + "Acknowledgment") is not None
        and header.find(_EB + "DuplicateElimination") is not None
    ):
        findings.append(
            error(
                "ebms.ack.duplicate_elimination",
                "an Acknowledgment carries eb:DuplicateElimination; strict MSHs reject it",
                "leave DuplicateElimination out of acknowledgements",
                where="//Header/MessageHeader/DuplicateElimination",
            )
        )
    if body is not None:
        for reference in body.findall(f"{_EB}Manifest/{_EB}Reference"):
            href = reference.get(_XLINK + "href") or ""
            if not href.lower().startswith("cid:"):
                findings.append(
                    error(
                        "ebms.manifest.cid",
                        f"Manifest reference {href!r} is not a cid: reference",
                        "Digikoppeling allows only references to MIME parts (cid:...)",
                        where=f"//Body/Manifest/Reference[@href='{href}']",
                    )
                )
    return findings


def validate_envelope(data: bytes) -> list[Finding]:
    """Findings for the SOAP/ebMS envelope ``data`` (empty when it is valid)."""
    try:
        root = parse_xml(data, what="ebMS envelope")
    except UnsafeXmlError as exc:
        return [error("ebms.xml", str(exc), "send a well-formed envelope without a DOCTYPE")]
    findings = _schema_findings(root)
    soap_header = root.find(_SOAP + "Header")
    body = root.find(_SOAP + "Body")
    findings += _extension_findings(soap_header, body)
    header = soap_header.find(_EB + "MessageHeader") if soap_header is not None else None
    if soap_header is None or header is None:
        if root.tag == _SOAP + "Envelope":
            findings.append(
                error(
                    "ebms.header.missing",
                    "the envelope has no eb:MessageHeader",
                    "every ebMS message carries exactly one eb:MessageHeader in the SOAP Header",
                    where="//Header/MessageHeader",
                )
            )
        return findings
    findings += _order_findings(header)
    findings += _message_header_findings(header)
    findings += _digikoppeling_findings(soap_header, body, header)
    findings += _parser_findings(root, findings)
    return findings


def _covers(where: str, location: str) -> bool:
    """True when a finding at ``where`` already points at ``location`` (or its element)."""
    return where not in ("", "/") and (location == where or location.startswith(where + "/"))


def _parser_findings(root: etree._Element, found: list[Finding]) -> list[Finding]:
    """What the envelope parser refuses, unless a finding above already points there."""
    try:
        parse_envelope(root)
    except EnvelopeError as exc:
        if any(_covers(f.where, exc.location) for f in found if f.severity is Severity.ERROR):
            return []
        return [
            error(
                "ebms.envelope",
                f"an MSH refuses this envelope: {exc.code}: {exc.message}",
                "correct the element or attribute at the location given",
                where=exc.location,
            )
        ]
    return []

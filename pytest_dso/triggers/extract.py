"""Reading the verzoeknummer (and, where present, the OINs) from a trigger payload.

The official verzoeknotificatie layout is not public [?], and adapters often wrap or rewrite
the payload before they hand it on (``<triggerbericht><trigger><verzoeknummer>`` [V]). So the
default is the lenient STAM parser of :mod:`pytest_dso.stam.xml`; where an adapter writes
something else, configure an XPath (``[triggers] verzoeknummer_xpath``) or a regular expression
(``[triggers] verzoeknummer_regex``; the group named ``verzoeknummer``, else group 1, else the
whole match).

A DKA may also send messages of its own: the Jnet/EnableU DKA announces a withdrawal as
``<root><oin/><verzoeknummer/><actie>close</actie></root>`` [V]. That payload is recognised
before any other method and extracted with ``kind`` :data:`KIND_DKA_WITHDRAWAL`, so it is
recorded as a withdrawal and never taken for a verzoeknotificatie.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lxml import etree

from pytest_dso.stam.xml import StamParseError, local_name, parse_verzoeknotificatie
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml


class TriggerParseError(ValueError):
    """The payload holds no readable verzoeknummer; the message says why."""


#: A verzoeknotificatie (triggerbericht) from DSO-LV.
KIND_VERZOEKNOTIFICATIE = "verzoeknotificatie"
#: A DKA's own withdrawal message (``<root>…<actie>close</actie></root>``) [V].
KIND_DKA_WITHDRAWAL = "dka-intrekking"


@dataclass(frozen=True)
class Extracted:
    """What a payload says: the verzoeknummer, the OINs it names, if any, and its kind."""

    verzoeknummer: str
    recipient_oin: str | None = None
    bevoegd_gezag_oin: str | None = None
    kind: str = KIND_VERZOEKNOTIFICATIE


def dka_withdrawal(raw: bytes) -> Extracted | None:
    """The DKA withdrawal in ``raw`` (``<root><oin/><verzoeknummer/><actie>close</actie>
    </root>``, element names matched case-insensitively in any namespace), or ``None``."""
    head = raw.lstrip()[:512].lower()
    if b"close" not in raw.lower() or b"root" not in head:
        return None
    try:
        root = parse_xml(raw, what="DKA message")
    except UnsafeXmlError:
        return None
    if local_name(root) != "root":
        return None
    fields = {local_name(c): (c.text or "").strip() for c in root if isinstance(c.tag, str)}
    if fields.get("actie", "").casefold() != "close" or not fields.get("verzoeknummer"):
        return None
    return Extracted(fields["verzoeknummer"], fields.get("oin") or None,
                     kind=KIND_DKA_WITHDRAWAL)


@dataclass(frozen=True)
class VerzoeknummerExtractor:
    """Reads the verzoeknummer from a payload: STAM parser, XPath or regex (in that choice).

    ``xpath`` is evaluated on the hardened-parsed XML with ``namespaces``; it may select an
    element (its text is used), an attribute or a string. ``regex`` is searched in the payload
    decoded as UTF-8. Only one of the two may be set.
    """

    xpath: str | None = None
    regex: str | None = None
    namespaces: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.xpath and self.regex:
            raise ValueError("give verzoeknummer_xpath or verzoeknummer_regex, not both")
        if self.regex:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"verzoeknummer_regex {self.regex!r} is invalid: {exc}") from None
        if self.xpath:
            try:
                etree.XPath(self.xpath, namespaces=dict(self.namespaces))
            except etree.XPathSyntaxError as exc:
                raise ValueError(f"verzoeknummer_xpath {self.xpath!r} is invalid: {exc}") from None

    @property
    def method(self) -> str:
        """``xpath``, ``regex`` or ``stam`` (for reports)."""
        return "xpath" if self.xpath else "regex" if self.regex else "stam"

    def extract(self, raw: bytes) -> Extracted:
        """The verzoeknummer in ``raw``; raises :class:`TriggerParseError`."""
        if not raw.strip():
            raise TriggerParseError("the payload is empty")
        withdrawal = dka_withdrawal(raw)
        if withdrawal is not None:
            return withdrawal
        if self.regex:
            return self._by_regex(raw)
        if self.xpath:
            return self._by_xpath(raw)
        try:
            notificatie = parse_verzoeknotificatie(raw)
        except (StamParseError, UnsafeXmlError) as exc:
            raise TriggerParseError(f"not a readable verzoeknotificatie: {exc}") from None
        return Extracted(
            notificatie.verzoeknummer.strip(),
            notificatie.ontvanger_oin or None,
            notificatie.bevoegd_gezag_oin or None,
        )

    def _by_regex(self, raw: bytes) -> Extracted:
        assert self.regex is not None
        text = raw.decode("utf-8", errors="replace")
        match = re.search(self.regex, text)
        if match is None:
            raise TriggerParseError(f"verzoeknummer_regex {self.regex!r} does not match")
        if "verzoeknummer" in match.groupdict():
            value = match.group("verzoeknummer")
        elif match.groups():
            value = match.group(1)
        else:
            value = match.group(0)
        if not value or not value.strip():
            raise TriggerParseError(f"verzoeknummer_regex {self.regex!r} matched an empty value")
        return Extracted(value.strip())

    def _by_xpath(self, raw: bytes) -> Extracted:
        assert self.xpath is not None
        try:
            root = parse_xml(raw, what="trigger payload")
        except UnsafeXmlError as exc:
            raise TriggerParseError(str(exc)) from None
        result = etree.XPath(self.xpath, namespaces=dict(self.namespaces))(root)
        values: list[str] = []
        items = result if isinstance(result, list) else [result]
        for item in items:
            if isinstance(item, etree._Element):
                values.append("".join(str(t) for t in item.itertext()))
            elif isinstance(item, str | bytes | int | float) and not isinstance(item, bool):
                values.append(item.decode() if isinstance(item, bytes) else str(item))
        value = next((v.strip() for v in values if v.strip()), "")
        if not value:
            raise TriggerParseError(f"verzoeknummer_xpath {self.xpath!r} selects nothing")
        if value.endswith(".0") and value[:-2].isdigit():  # number() results
            value = value[:-2]
        return Extracted(value)


#: The default: the lenient STAM verzoeknotificatie parser.
STAM_EXTRACTOR = VerzoeknummerExtractor()

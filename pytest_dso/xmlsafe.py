"""Hardened XML parsing: no DTDs, no entities, no network. Shared by ebMS, CPA and STAM code."""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

#: At most this many elements (counted as ``<`` before parsing, so a flood of empty elements
#: is refused before a tree costing ~50x its size is built); libxml2 itself refuses nesting
#: deeper than 256 levels without ``huge_tree``.
MAX_ELEMENTS = 200_000


class UnsafeXmlError(ValueError):
    """Raised for XML that is malformed or hostile (DTD, entity declarations)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_local = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser (an lxml parser may not be shared between threads; making one per
    document costs more than parsing a small one)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes | str, *, what: str = "document") -> etree._Element:
    """Parse ``data`` safely and return the root element.

    Any DOCTYPE is refused outright, so neither XXE nor entity expansion can happen.
    Raises :class:`UnsafeXmlError` with a readable message on any problem.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw or raw.isspace():
        raise UnsafeXmlError(f"the {what} is empty")
    tags = raw.count(b"<")
    if tags > 2 * MAX_ELEMENTS + 16:  # an element has a start and an end tag, or one empty tag
        raise UnsafeXmlError(
            f"the {what} has {tags} tags; at most {MAX_ELEMENTS} elements are accepted"
        )
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise UnsafeXmlError(f"the {what} is not well-formed XML: {exc.msg}", line) from None
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXmlError(
            f"the {what} contains a DOCTYPE declaration; DTDs and entities are refused "
            "(XXE and entity-expansion protection)"
        )
    for _entity in root.iter(etree.Entity):
        raise UnsafeXmlError(f"the {what} references an entity; entities are refused")
    return root

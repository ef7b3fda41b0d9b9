"""Validate verzoek and verzoeknotificatie XML, and check a verzoek against a submission.

By default documents are validated against this project's schemas
(:mod:`pytest_dso.stam.schemas`), which describe exactly what the simulator emits. When
``[stam] xsd_dir`` is configured, the schema is taken from that folder instead: the XSD whose
``targetNamespace`` equals the document's root namespace and that declares the root element
globally (imports and includes are resolved relative to that file). Parsing of the document
goes through :func:`pytest_dso.xmlsafe.parse_xml`, so DTDs and entities are refused.

Check ids: ``stam.xml.*`` (parsing), ``stam.xsd.*`` (schema), ``stam.verzoek.*`` (content),
``stam.verzoeknummer.*`` (format), ``stam.bijlage.*`` (documents).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from lxml import etree

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.stam.model import (
    VOLGNUMMER_INITIEEL,
    VOLGNUMMER_INTREKKING,
    Bijlage,
    Doel,
    Verzoek,
    VerzoekType,
)
from pytest_dso.stam.schemas import VERZOEK_XSD, VERZOEKNOTIFICATIE_XSD
from pytest_dso.stam.verzoeknummer import DEFAULT_PATTERN, check_verzoeknummer
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml

Kind = Literal["verzoek", "verzoeknotificatie"]
#: At most this many schema errors are reported per document (plus a summary).
MAX_SCHEMA_ERRORS = 50


class SchemaLoadError(ValueError):
    """An XSD could not be read or compiled; the message says which file and why."""


@dataclass(frozen=True)
class _Schema:
    schema: etree.XMLSchema
    source: Path
    lock: threading.Lock


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _compile(path: Path) -> _Schema:
    try:
        doc = etree.parse(str(path), parser=_schema_parser())
        return _Schema(etree.XMLSchema(doc), path, threading.Lock())
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise SchemaLoadError(f"cannot load XML Schema {path}: {exc}") from None


@functools.lru_cache(maxsize=4)
def _builtin_schema(kind: Kind) -> _Schema:
    return _compile(VERZOEK_XSD if kind == "verzoek" else VERZOEKNOTIFICATIE_XSD)


def _signature(xsd_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Path, mtime and size of every XSD: a changed file invalidates the caches."""
    out = []
    for path in sorted(xsd_dir.rglob("*.xsd")):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _schema_index(
    signature: tuple[tuple[str, int, int], ...],
) -> tuple[tuple[str, frozenset[str], Path], ...]:
    """(targetNamespace, global element names, path) of every XSD in ``signature``."""
    entries = []
    for name, _, _ in signature:
        path = Path(name)
        try:
            root = etree.parse(name, parser=_schema_parser()).getroot()
        except (OSError, etree.XMLSyntaxError):
            continue
        names = frozenset(
            str(el.get("name"))
            for el in root
            if isinstance(el.tag, str) and el.tag.endswith("}element") and el.get("name")
        )
        entries.append((root.get("targetNamespace", ""), names, path))
    return tuple(entries)


@functools.lru_cache(maxsize=16)
def _user_schema(path: Path, signature: tuple[tuple[str, int, int], ...]) -> _Schema:
    del signature  # part of the cache key only
    return _compile(path)


def find_schema(xsd_dir: Path, namespace: str, element: str) -> Path | None:
    """The XSD under ``xsd_dir`` declaring global ``{namespace}element``, if any."""
    for target, names, path in _schema_index(_signature(xsd_dir.resolve())):
        if target == namespace and element in names:
            return path
    return None


def _parse(xml_bytes: bytes, what: str) -> tuple[etree._Element | None, list[Finding]]:
    try:
        return parse_xml(xml_bytes, what=what), []
    except UnsafeXmlError as exc:
        text = str(exc)
        hostile = "DOCTYPE" in text or "entit" in text
        where = f"line {exc.line}" if exc.line else ""
        if hostile:
            return None, [
                error(
                    "stam.xml.unsafe",
                    text,
                    "DSO-LV never sends a DOCTYPE; a message with one is refused as hostile "
                    "(XXE / entity expansion)",
                    where,
                )
            ]
        return None, [
            error(
                "stam.xml.malformed",
                text,
                "the bytes are not well-formed XML; check the transport (MIME part, encoding)",
                where,
            )
        ]


def _qname(node: etree._Element) -> tuple[str, str]:
    q = etree.QName(node)
    return q.namespace or "", q.localname


def _validate(xml_bytes: bytes, kind: Kind, xsd_dir: Path | None) -> list[Finding]:
    root, findings = _parse(xml_bytes, f"{kind} XML")
    if root is None:
        return findings
    namespace, element = _qname(root)
    if xsd_dir is None:
        schema = _builtin_schema(kind)
        label = "the pytest-dso model schema"
    else:
        if not Path(xsd_dir).is_dir():
            return [
                error(
                    "stam.xsd.dir_missing",
                    f"the configured XSD folder {xsd_dir} does not exist",
                    "fix [stam] xsd_dir in dso.toml (relative paths are relative to dso.toml)",
                )
            ]
        signature = _signature(Path(xsd_dir).resolve())
        path = find_schema(Path(xsd_dir), namespace, element)
        if path is None:
            known = sorted(f"{{{t}}}{n}" for t, names, _ in _schema_index(signature) for n in names)
            return [
                error(
                    "stam.xsd.no_schema",
                    f"no XSD in {xsd_dir} declares the root element {{{namespace}}}{element}",
                    "put the official STAM XSDs (iplo.nl) in [stam] xsd_dir; global elements "
                    f"found there: {', '.join(known[:20]) or 'none'}",
                )
            ]
        try:
            schema = _user_schema(path, signature)
        except SchemaLoadError as exc:
            return [error("stam.xsd.load", str(exc), "check the XSD files in [stam] xsd_dir")]
        label = str(path)
    with schema.lock:
        valid = schema.schema.validate(root)
        log = list(cast(Iterable[Any], schema.schema.error_log)) if not valid else []
    for entry in log[:MAX_SCHEMA_ERRORS]:
        findings.append(
            error(
                "stam.xsd.invalid",
                f"{kind} does not conform to {label}: {entry.message}",
                "compare the element at this place with the schema; element order and "
                "enumeration values matter",
                f"line {entry.line}, {entry.path}" if entry.path else f"line {entry.line}",
                schema=str(schema.source),
            )
        )
    if len(log) > MAX_SCHEMA_ERRORS:
        findings.append(
            error(
                "stam.xsd.invalid",
                f"{len(log) - MAX_SCHEMA_ERRORS} more schema errors not listed",
                "fix the first errors; later ones are often consequences",
            )
        )
    return findings


def validate_verzoek(xml_bytes: bytes, xsd_dir: Path | None = None) -> list[Finding]:
    """Schema findings for a verzoek: this project's XSD, or the one in ``xsd_dir``.

    Every schema error becomes an ERROR finding with the line and the element path; hostile or
    malformed XML gives ``stam.xml.unsafe`` / ``stam.xml.malformed``. Empty list: valid.
    """
    return _validate(xml_bytes, "verzoek", xsd_dir)


def validate_verzoeknotificatie(xml_bytes: bytes, xsd_dir: Path | None = None) -> list[Finding]:
    """Schema findings for a verzoeknotificatie (see :func:`validate_verzoek`)."""
    return _validate(xml_bytes, "verzoeknotificatie", xsd_dir)


def check_verzoek(
    verzoek: Verzoek,
    expected_oin: str,
    expected_verzoeknummer: str | None = None,
    expected_type: VerzoekType | str | None = None,
    *,
    pattern: str = DEFAULT_PATTERN,
) -> list[Finding]:
    """Content checks of a fetched verzoek for the tenant ``expected_oin``.

    - the tenant is the uitvoerende instantie (fine), only the bevoegd gezag (a kopiebericht:
      INFO, never an error), or neither (ERROR);
    - the verzoeknummer equals the submitted one (ERROR) and has the expected form (WARNING);
    - the type is one of the seven (WARNING: never a parse failure) and equals the submitted
      one (ERROR);
    - volgnummer and doel agree (0 / Initiëren or Conceptverzoek, 1..998 / Aanvullen,
      999 / Intrekken) (WARNING).
    """
    findings: list[Finding] = []
    where = f"verzoek {verzoek.verzoeknummer}"
    bg, ui = verzoek.bevoegd_gezag, verzoek.uitvoerende_instantie
    if ui.oin == expected_oin:
        pass
    elif bg.oin == expected_oin:
        findings.append(
            info(
                "stam.verzoek.kopiebericht",
                f"this is a kopiebericht: the uitvoerende instantie is {ui.oin} ({ui.naam}), "
                f"not {expected_oin}, which is the bevoegd gezag",
                "a behandeldienst handles this verzoek; the bevoegd gezag receives a copy. "
                "Do not process it twice",
                where,
            )
        )
    else:
        findings.append(
            error(
                "stam.verzoek.oin_mismatch",
                f"neither the bevoegd gezag ({bg.oin}) nor the uitvoerende instantie "
                f"({ui.oin}) is the tenant {expected_oin}",
                "the verzoek was delivered to or fetched for the wrong organisation; check the "
                "activiteit's bevoegd gezag and the behandeldienstconfiguratie",
                where,
            )
        )
    if expected_verzoeknummer is not None and verzoek.verzoeknummer != expected_verzoeknummer:
        findings.append(
            error(
                "stam.verzoek.verzoeknummer_mismatch",
                f"the verzoek carries verzoeknummer {verzoek.verzoeknummer!r}, the submission "
                f"returned {expected_verzoeknummer!r}",
                "the adapter fetched another verzoek than the one announced; check how the "
                "verzoeknummer is taken from the verzoeknotificatie",
                where,
            )
        )
    findings.extend(check_verzoeknummer(verzoek.verzoeknummer, pattern, where=where))
    if not verzoek.type.is_known:
        findings.append(
            warning(
                "stam.verzoek.type_unknown",
                f"verzoek type {verzoek.type.value!r} is none of the seven STAM verzoek types "
                f"({', '.join(t.value for t in VerzoekType)})",
                "a newer DSO-LV type (Verzoek indienen v5 has 'Idee'): make sure the VTH "
                "system routes it to a person instead of dropping it",
                where,
            )
        )
    if expected_type is not None:
        wanted = (
            VerzoekType.of(expected_type) if isinstance(expected_type, str) else expected_type
        )
        if verzoek.type != wanted:
            findings.append(
                error(
                    "stam.verzoek.type_mismatch",
                    f"the verzoek has type {verzoek.type.value!r}, the submission was "
                    f"{wanted.value!r}",
                    "check the activiteit chosen in the loket (Melding vs Informatie)",
                    where,
                )
            )
    findings.extend(_volgnummer_findings(verzoek, where))
    return findings


def _volgnummer_findings(verzoek: Verzoek, where: str) -> list[Finding]:
    v, d = verzoek.volgnummer, verzoek.doel
    expected: tuple[Doel, ...]
    if v == VOLGNUMMER_INITIEEL:
        expected = (Doel.INITIEREN, Doel.CONCEPTVERZOEK)
    elif v == VOLGNUMMER_INTREKKING:
        expected = (Doel.INTREKKEN,)
    else:
        expected = (Doel.AANVULLEN,)
    if d in expected:
        return []
    return [
        warning(
            "stam.verzoek.volgnummer_doel",
            f"volgnummer {v} does not fit doel {d.value!r} (expected "
            f"{' or '.join(e.value for e in expected)})",
            "CIM-AM: the initial verzoek has volgnummer 0, each aanvulling +1, an intrekking 999",
            where,
        )
    ]


def check_bijlage(bijlage: Bijlage, chunks: bytes | Iterable[bytes], *,
                  sha256: str | None = None) -> list[Finding]:
    """Compare fetched document bytes with the size and SHA-256 the verzoek announces.
    ``sha256``: the hex SHA-256 of ``chunks`` (then whole bytes) when the caller has it
    already, so the document is not hashed again."""
    if sha256 is not None and isinstance(chunks, bytes):
        return _bijlage_findings(bijlage, len(chunks), sha256)
    digest = hashlib.sha256()
    size = 0
    for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
        digest.update(chunk)
        size += len(chunk)
    return _bijlage_findings(bijlage, size, digest.hexdigest())


def _bijlage_findings(bijlage: Bijlage, size: int, hexdigest: str) -> list[Finding]:
    findings: list[Finding] = []
    where = f"document {bijlage.document_id} ({bijlage.bestandsnaam})"
    if bijlage.size and size != bijlage.size:
        findings.append(
            error(
                "stam.bijlage.size",
                f"received {size} bytes, the verzoek announces {bijlage.size}",
                "the download was truncated or the wrong document was fetched",
                where,
            )
        )
    if bijlage.sha256 and hexdigest != bijlage.sha256.lower():
        findings.append(
            error(
                "stam.bijlage.sha256",
                f"SHA-256 {hexdigest} differs from the announced {bijlage.sha256}",
                "the document changed in transit or storage; fetch it again",
                where,
            )
        )
    return findings

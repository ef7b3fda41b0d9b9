"""A thin, redacting layer over allure-pytest: titles, labels, steps and typed attachments.

Every function works as a no-op when Allure is not collecting (no ``--alluredir`` and no
pytest-dso results folder), so suites and engine code can call them unconditionally. Every
text is redacted before it reaches Allure; the pytest layer also redacts each file Allure
writes, with the run's full :class:`~pytest_dso.evidence.redaction.Redactor`.

Labels used by pytest-dso (and read back by the ticket bundle):

==================  ========================================================
``dso_step``        aansluitproces step, e.g. ``PRE 2.6`` or ``PROD 7``
``tenant``          OIN of the bevoegd gezag / behandeldienst
``tenant_name``     its name
``dso_env``         ``local``, ``pre`` or ``prod``
``verzoeknummer``   the verzoek a test submitted or fetched
``dso_proof``       what the test proved, e.g. ``CPAId …``, ``MessageId …``, a sha256;
                    the ticket bundle shows it next to each aangetoond step
==================  ========================================================
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import allure
from allure_commons._allure import StepContext

from pytest_dso.evidence.exchanges import ExchangeRecord
from pytest_dso.evidence.httpexchange import (
    DEFAULT_BODY_LIMIT,
    HTTP_EXCHANGE_EXTENSION,
    HTTP_EXCHANGE_MIME,
    as_exchange,
    exchange_document,
    exchange_title,
)
from pytest_dso.evidence.redaction import Redactor, patterns_only

LABEL_STEP = "dso_step"
LABEL_TENANT = "tenant"
LABEL_TENANT_NAME = "tenant_name"
LABEL_ENV = "dso_env"
LABEL_VERZOEKNUMMER = "verzoeknummer"
LABEL_PROOF = "dso_proof"


def _cut(data: bytes | str, limit: int) -> tuple[str, bool]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    truncated = len(raw) > limit
    text = raw[:limit].decode("utf-8", "replace")
    return text, truncated


@dataclass(frozen=True)
class Evidence:
    """Evidence helpers bound to one :class:`Redactor` (the ``dso_evidence`` fixture)."""

    redactor: Redactor = field(default_factory=Redactor)
    body_limit: int = DEFAULT_BODY_LIMIT

    # --- titles, labels, steps ----------------------------------------------------------------

    def title(self, text: str) -> None:
        """Set the test's title in the report."""
        allure.dynamic.title(self.redactor.redact_text(text))  # type: ignore[no-untyped-call]

    def label(self, name: str, *values: str) -> None:
        """Add a label (redacted) to the running test."""
        shown = [self.redactor.redact_text(str(v)) for v in values]
        allure.dynamic.label(name, *shown)  # type: ignore[no-untyped-call]

    def dso_step(self, step: str) -> None:
        """Label the test with the aansluitproces step it proves (``PRE 2.6``, ``PROD 7``)."""
        self.label(LABEL_STEP, step)

    def tenant(self, oin: str, name: str | None = None) -> None:
        """Label the test with the bevoegd gezag or behandeldienst it is about."""
        self.label(LABEL_TENANT, oin)
        if name:
            self.label(LABEL_TENANT_NAME, name)

    def environment(self, env: str) -> None:
        """Label the test with the DSO-LV environment."""
        self.label(LABEL_ENV, env)

    def verzoeknummer(self, nummer: str) -> None:
        """Record the verzoeknummer a test submitted or fetched (shown in the ticket bundle)."""
        self.label(LABEL_VERZOEKNUMMER, nummer)

    def proof(self, name: str, value: str | None) -> None:
        """Record one fact that proves the test's step (``CPAId``, ``MessageId``, a sha256):
        the ticket bundle and its mails show it next to the step when it is aangetoond."""
        if value:
            self.label(LABEL_PROOF, f"{name} {value}")

    @contextmanager
    def step(self, title: str, **params: object) -> Iterator[None]:
        """A report step; the title and parameter values are redacted. Keep secrets out of
        parameters anyway."""
        shown = {k: self.redactor.redact_text(str(v)) for k, v in params.items()}
        context = StepContext(self.redactor.redact_text(title), shown)  # type: ignore[no-untyped-call]
        with context:
            yield

    # --- exchanges ----------------------------------------------------------------------------

    def record(self, record: ExchangeRecord) -> None:
        """Write one engine exchange record as a report step: its parameters, attachments
        (redacted) and sub-steps."""
        with self.step(record.title, **dict(record.parameters)):
            for item in record.attachments:
                if item.mime == HTTP_EXCHANGE_MIME:
                    text = item.body if isinstance(item.body, str) else item.body.decode()
                    allure.attach(self.redactor.redact_text(text),
                                  name=self.redactor.redact_text(item.name),
                                  attachment_type=HTTP_EXCHANGE_MIME,
                                  extension=HTTP_EXCHANGE_EXTENSION)
                else:
                    self.attach_text(item.body, item.name, item.mime, item.extension)
            for child in record.children:
                self.record(child)

    def attach_ping(self, result: Any) -> None:
        """The Ping/Pong of a :class:`~pytest_dso.ebms.pingpong.PingResult` as steps: the Ping
        envelope and HTTP answer, the (a)sync Pong, ebMS ids, timings and TLS facts."""
        from pytest_dso.evidence.exchanges import ping_records

        for item in ping_records(result):
            self.record(item)
        self.proof("CPAId", result.cpa_id)
        if result.ping is not None:
            self.proof("Ping MessageId", result.ping.message_id)
        if result.pong is not None:
            self.proof("Pong MessageId", result.pong.message_id)

    def attach_conformance(self, run: Any) -> None:
        """A negative conformance case (:class:`pytest_dso.ebms.conformance.CaseRun`) as
        steps: each spoiled request and the MSH's answer, with ebMS ids, timings and TLS facts."""
        from pytest_dso.evidence.exchanges import conformance_records

        for item in conformance_records(run):
            self.record(item)

    def attach_tls_probes(self, probes: Iterable[Any]) -> None:
        """For each :class:`pytest_dso.network.tlsprobe.TlsProbe`, what was probed and what
        could not be (see :func:`~pytest_dso.evidence.exchanges.tls_probe_summary`)."""
        from pytest_dso.evidence.exchanges import tls_probe_summary

        for probe in probes:
            self.attach_json(tls_probe_summary(probe), f"TLS-probe {probe.where}")
            accepted = ", ".join(p.label for p in probe.accepted)
            self.proof(f"TLS {probe.where}", accepted or "geen versie geaccepteerd")

    def attach_rest(self, exchanges: Iterable[Any]) -> None:
        """Each recorded REST call (:class:`pytest_dso.dso.rest.Exchange`) as a step."""
        from pytest_dso.evidence.exchanges import rest_record

        for exchange in exchanges:
            self.record(rest_record(exchange))

    def attach_trigger(self, trigger: Any) -> None:
        """A verzoeknotificatie (:class:`pytest_dso.triggers.base.Trigger`) as a step."""
        from pytest_dso.evidence.exchanges import trigger_record

        self.record(trigger_record(trigger))
        self.proof("verzoeknotificatie MessageId", trigger.message_id)

    # --- attachments --------------------------------------------------------------------------

    def attach_text(
        self, text: bytes | str, name: str, mime: str = "text/plain", extension: str = "txt"
    ) -> None:
        """Attach text (redacted, cut at the body limit)."""
        shown, truncated = _cut(text, self.body_limit)
        shown = self.redactor.redact_text(shown)
        if truncated:
            size = len(text.encode("utf-8") if isinstance(text, str) else text)
            shown += f"\n[... truncated: {size} bytes in total, first {self.body_limit} shown]"
        allure.attach(
            shown,
            name=self.redactor.redact_text(name),
            attachment_type=mime,
            extension=extension,
        )

    def attach_json(self, data: Mapping[str, Any] | list[Any], name: str) -> None:
        """Attach a JSON document (redacted)."""
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        self.attach_text(text, name, "application/json", "json")

    def attach_exchange(self, exchange: Any, name: str | None = None) -> None:
        """Attach an HTTP exchange in the Allure HTTP exchange format (``schemaVersion: 1``),
        sensitive headers marked ``__ALLURE_REDACTED__`` and bodies truncated above the
        limit. Accepts what :func:`~pytest_dso.evidence.httpexchange.as_exchange` accepts."""
        recorded = as_exchange(exchange)
        document = exchange_document(recorded, self.redactor, self.body_limit)
        allure.attach(
            json.dumps(document, ensure_ascii=False, indent=2),
            name=self.redactor.redact_text(name)
            if name
            else exchange_title(recorded, self.redactor),
            attachment_type=HTTP_EXCHANGE_MIME,
            extension=HTTP_EXCHANGE_EXTENSION,
        )

    def attach_ebms(self, envelope: Any, name: str = "ebMS-bericht") -> None:
        """Attach an ebMS message: the raw SOAP envelope or MIME multipart (bytes or text),
        or a whole HTTP exchange carrying it."""
        if not isinstance(envelope, bytes | str):
            raw = getattr(envelope, "raw", None)
            if isinstance(raw, bytes | str):
                envelope = raw
            else:
                self.attach_exchange(envelope, name)
                return
        head = (
            envelope[:64] if isinstance(envelope, str) else envelope[:64].decode("utf-8", "replace")
        )
        if head.lstrip().startswith("<"):
            self.attach_text(envelope, name, "application/xml", "xml")
        else:
            self.attach_text(envelope, name, "text/plain", "txt")

    def attach_stam(self, xml: bytes | str, name: str = "STAM-bericht") -> None:
        """Attach STAM XML with the configured personal-data elements (BSN) redacted."""
        text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
        self.attach_text(self.redactor.redact_xml(text), name, "application/xml", "xml")
        raw = xml if isinstance(xml, bytes) else xml.encode("utf-8")
        self.proof("STAM-XML sha256", hashlib.sha256(raw).hexdigest())

    def attach_certificate_summary(self, summary: Any, name: str = "certificaat") -> None:
        """Attach what identifies a certificate (subject, issuer, OIN, validity, SHA-256
        fingerprint, SANs): from an ``x509.Certificate``, an identity with ``.certificate``,
        or a mapping you built. Never the private key."""
        facts = certificate_summary(summary)
        self.attach_json(facts, name)
        self.proof("certificaat sha256", str(facts.get("sha256_fingerprint")
                                             or facts.get("sha256 fingerprint") or ""))

    def attach_cpa_summary(
        self,
        summary: Mapping[str, Any] | None = None,
        name: str = "CPA",
        **fields: Any,
    ) -> None:
        """Attach the key facts of a CPA (CPAId, parties and their OINs, endpoints, validity,
        services) given as a mapping and/or keyword arguments."""
        facts = {**(dict(summary) if summary else {}), **fields}
        self.attach_json(facts, name)
        self.proof("CPAId", str(facts.get("cpa_id") or facts.get("CPAId") or ""))

    def attach_bijlage_hashes(
        self,
        hashes: Mapping[str, str] | Iterable[tuple[str, str] | tuple[str, str, int]],
        name: str = "bijlagen (sha256)",
    ) -> None:
        """Attach a table of bijlagen: name, SHA-256 and (where known) size."""
        rows = [(k, v) for k, v in hashes.items()] if isinstance(hashes, Mapping) else list(hashes)
        lines = ["naam\tsha256\tgrootte"]
        for row in rows:
            size = str(row[2]) if len(row) > 2 else ""
            lines.append(f"{row[0]}\t{row[1]}\t{size}")
            self.proof(f"bijlage {row[0]} sha256", row[1])
        self.attach_text("\n".join(lines) + "\n", name, "text/tab-separated-values", "tsv")


def certificate_summary(source: Any) -> dict[str, Any]:
    """The public facts of a certificate as a JSON-friendly mapping."""
    if isinstance(source, Mapping):
        return dict(source)
    from cryptography import x509

    cert = source if isinstance(source, x509.Certificate) else getattr(source, "certificate", None)
    if not isinstance(cert, x509.Certificate):
        raise TypeError(
            f"cannot summarise {type(source).__name__}: pass an x509.Certificate, an object with "
            ".certificate, or a mapping"
        )
    from pytest_dso.pkio.identity import fingerprint_sha256, subject_oin

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns_names = []
    key = cert.public_key()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "oin": subject_oin(cert),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256_fingerprint": fingerprint_sha256(cert),
        "dns_names": dns_names,
        "public_key": f"{type(key).__name__.lstrip('_')} {getattr(key, 'key_size', '')}".strip(),
    }


# --- module-level shortcuts (patterns-only redaction; the results writer adds the run's
# registered secrets when it writes the files) -----------------------------------------------


def _patterns_only() -> Redactor:
    """The shortcuts' redactor (patterns only, no secrets): built once, never given secrets."""
    return patterns_only()


def title(text: str, redactor: Redactor | None = None) -> None:
    """Set the test's title."""
    Evidence(redactor or _patterns_only()).title(text)


def label(name: str, *values: str, redactor: Redactor | None = None) -> None:
    """Add a label to the running test."""
    Evidence(redactor or _patterns_only()).label(name, *values)


def step(title: str, redactor: Redactor | None = None, **params: object) -> Any:
    """A report step (context manager)."""
    return Evidence(redactor or _patterns_only()).step(title, **params)


def attach_exchange(
    exchange: Any, name: str | None = None, redactor: Redactor | None = None
) -> None:
    """Attach an HTTP exchange (see :meth:`Evidence.attach_exchange`)."""
    Evidence(redactor or _patterns_only()).attach_exchange(exchange, name)


def attach_ebms(
    envelope: Any, name: str = "ebMS-bericht", redactor: Redactor | None = None
) -> None:
    """Attach an ebMS message (see :meth:`Evidence.attach_ebms`)."""
    Evidence(redactor or _patterns_only()).attach_ebms(envelope, name)


def attach_stam(
    xml: bytes | str, name: str = "STAM-bericht", redactor: Redactor | None = None
) -> None:
    """Attach STAM XML with BSN redacted."""
    Evidence(redactor or _patterns_only()).attach_stam(xml, name)


def attach_certificate_summary(
    summary: Any, name: str = "certificaat", redactor: Redactor | None = None
) -> None:
    """Attach a certificate summary."""
    Evidence(redactor or _patterns_only()).attach_certificate_summary(summary, name)


def attach_cpa_summary(
    summary: Mapping[str, Any] | None = None,
    name: str = "CPA",
    redactor: Redactor | None = None,
    **fields: Any,
) -> None:
    """Attach a CPA summary."""
    Evidence(redactor or _patterns_only()).attach_cpa_summary(summary, name, **fields)


def attach_bijlage_hashes(
    hashes: Mapping[str, str] | Iterable[tuple[str, str] | tuple[str, str, int]],
    name: str = "bijlagen (sha256)",
    redactor: Redactor | None = None,
) -> None:
    """Attach a table of bijlage hashes."""
    Evidence(redactor or _patterns_only()).attach_bijlage_hashes(hashes, name)

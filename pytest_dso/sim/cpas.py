"""The CPAs a simulator holds: the one it builds for a local DKA and those offered to it.

Every CPA is kept as a file in ``<state>/cpas/<cpaId>.xml`` so a restart knows them again. A
verzoeknotificatie for OIN X goes out under the CPA whose other party is X; when there is none
(a DKA that serves several bevoegde gezagen under its own OIN), under the newest CPA.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from pytest_dso.ebms.cpa import Cpa, CpaError, parse_cpa
from pytest_dso.ebms.cpa_build import (
    PLACEHOLDER_ACTION,
    PLACEHOLDER_SERVICE,
    CpaSpec,
    PartySpec,
    build_cpa,
    cpa_id_for,
    earliest_expiry,
)
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.readable import certificate_problem

#: Reliable-messaging values of the CPAs the simulator builds (Best Practices [C]).
DEFAULT_RETRIES = 8
DEFAULT_RETRY_INTERVAL = dt.timedelta(hours=3)


def simulator_cpa(
    server: Identity,
    ebms_url: str,
    dka_endpoint: str,
    dka_certificate: x509.Certificate,
    *,
    dka_oin: str | None = None,
    dka_name: str = "Digikoppelaar",
    sync_reply_mode: str = "none",
    retries: int = DEFAULT_RETRIES,
    retry_interval: dt.timedelta = DEFAULT_RETRY_INTERVAL,
    days: int = 180,
    now: dt.datetime | None = None,
) -> bytes:
    """A CPA between the simulator (``server``, at ``ebms_url``) and a DKA at ``dka_endpoint``
    presenting ``dka_certificate``. The DKA's PartyId is ``dka_oin`` or the OIN in its
    certificate. The service and action are this project's placeholders (the real names are
    not public)."""
    from pytest_dso.pkio.identity import subject_oin

    oin = dka_oin or subject_oin(dka_certificate)
    if not oin:
        raise CpaError(
            "the DKA certificate has no OIN in subject.serialNumber; give the DKA's OIN "
            "explicitly (dso-sim cpa --dka-oin)"
        )
    sim_oin = server.oin or ""
    moment = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    end = min(moment + dt.timedelta(days=days),
              earliest_expiry([server.certificate, dka_certificate]))
    spec = CpaSpec(
        cpa_id=cpa_id_for(PLACEHOLDER_SERVICE, sim_oin, oin),
        parties=(
            PartySpec(name="DSO-LV", party_id=sim_oin, certificate=server.certificate,
                      endpoint=ebms_url, role="Verzender", sends=(PLACEHOLDER_ACTION,)),
            PartySpec(name=dka_name, party_id=oin, certificate=dka_certificate,
                      endpoint=dka_endpoint, role="Ontvanger"),
        ),
        start=moment - dt.timedelta(days=1),
        end=end,
        retries=retries,
        retry_interval=retry_interval,
        sync_reply_mode=sync_reply_mode,
    )
    return build_cpa(spec)


def _file_name(cpa_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", cpa_id) + ".xml"


class CpaRegistry:
    """Installed CPAs of one simulator (thread-safe), persisted in ``folder``."""

    def __init__(self, sim_oin: str, folder: Path | None = None) -> None:
        self.sim_oin = sim_oin
        self.folder = folder
        self._lock = threading.Lock()
        self._cpas: dict[str, tuple[Cpa, bytes]] = {}
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.xml"), key=lambda p: p.stat().st_mtime):
                self.install(path.read_bytes(), persist=False)

    def install(self, xml: bytes, *, persist: bool = True) -> Cpa:
        """Parse, check and keep a CPA (replacing one with the same CPAId). Raises
        :class:`CpaError` when it is not a CPA with the simulator as a party."""
        cpa = parse_cpa(xml)
        if cpa.party_by_oin(self.sim_oin) is None:
            raise CpaError(
                f"CPA {cpa.cpa_id} has no party with the simulator's OIN {self.sim_oin}; its "
                "parties are " + ", ".join(f"{p.name} ({', '.join(p.ids)})" for p in cpa.parties)
            )
        if cpa.status != "agreed":
            raise CpaError(f"CPA {cpa.cpa_id} has status {cpa.status!r}; only 'agreed' is used")
        with self._lock:
            self._cpas.pop(cpa.cpa_id, None)
            self._cpas[cpa.cpa_id] = (cpa, xml)
        if persist and self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / _file_name(cpa.cpa_id)).write_bytes(xml)
        return cpa

    def all(self) -> Sequence[Cpa]:
        """Every installed CPA, oldest first."""
        with self._lock:
            return [cpa for cpa, _ in self._cpas.values()]

    def get(self, cpa_id: str) -> Cpa | None:
        """The CPA with ``cpa_id``."""
        with self._lock:
            found = self._cpas.get(cpa_id)
            return found[0] if found else None

    def xml(self, cpa_id: str) -> bytes | None:
        """The XML of the CPA with ``cpa_id``."""
        with self._lock:
            found = self._cpas.get(cpa_id)
            return found[1] if found else None

    def for_recipient(self, oin: str) -> Cpa | None:
        """The CPA to use for a message to ``oin``: one where ``oin`` is the other party, else
        the newest CPA (its party receives for every bevoegd gezag), else ``None``."""
        with self._lock:
            cpas = [cpa for cpa, _ in self._cpas.values()]
        for cpa in reversed(cpas):
            if cpa.party_by_oin(oin) is not None and oin != self.sim_oin:
                return cpa
        return cpas[-1] if cpas else None


def offered_cpa_problems(
    cpa: Cpa,
    *,
    sim_oin: str,
    caller_oin: str,
    anchors: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    existing: Cpa | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Everything that keeps an offered CPA from being used, checked before anything is
    replaced: every certificate readable, the other party's certificates chaining to
    ``anchors`` and carrying its OIN or the caller's, endpoints that are HTTPS URLs, a
    validity that has not ended, and no CPAId that belongs to another party."""
    from urllib.parse import urlsplit

    from pytest_dso.pkio.chain import build_path
    from pytest_dso.pkio.identity import fingerprint_sha256, subject_oin

    problems: list[str] = []
    moment = now or dt.datetime.now(dt.UTC)
    if cpa.end <= moment:
        problems.append(f"the CPA ended at {cpa.end.isoformat()}")
    own = cpa.party_by_oin(sim_oin)
    others = [p for p in cpa.parties if p is not own]
    if own is None or len(others) != 1:
        problems.append(f"the CPA needs the simulator ({sim_oin}) and exactly one other party")
        return problems
    other = others[0]
    anchor_fps = {fingerprint_sha256(a) for a in anchors}
    for party in cpa.parties:
        for item in party.certificates.values():
            for certificate in item.certificates:
                problem = certificate_problem(certificate)
                if problem is not None:
                    problems.append(f"certificate {item.cert_id!r} of {party.name} cannot be "
                                    f"read: {problem}")
        for transport in party.transports.values():
            for endpoint in transport.endpoints:
                try:
                    parts = urlsplit(endpoint)
                    host, port = parts.hostname, parts.port
                except ValueError as exc:
                    problems.append(f"endpoint {endpoint!r} of {party.name} is not a URL: {exc}")
                    continue
                del port
                if parts.scheme != "https" or not host:
                    problems.append(f"endpoint {endpoint!r} of {party.name} is not an https URL "
                                    "with a host")
    if problems:
        return problems
    allowed = {oin for oin in (other.oin, caller_oin) if oin}
    for item in other.certificates.values():
        leaf = item.certificate
        path = build_path(leaf, (*item.certificates[1:], *intermediates), anchors)
        if fingerprint_sha256(path.top) not in anchor_fps or path.ended not in ("root",
                                                                                "anchor"):
            problems.append(
                f"certificate {item.cert_id!r} of {other.name} ({leaf.subject.rfc4514_string()})"
                " does not chain to a CA the simulator trusts; use a certificate of the trusted "
                "PKI and put its intermediate certificates in the X509Data")
        oin = subject_oin(leaf)
        if oin and oin not in allowed:
            problems.append(
                f"certificate {item.cert_id!r} of {other.name} carries OIN {oin}, neither the "
                f"party's ({other.oin}) nor the caller's ({caller_oin})")
    if existing is not None:
        previous = next((p for p in existing.parties if p.oin != sim_oin), None)
        if previous is not None and previous.oin != other.oin:
            problems.append(f"CPAId {cpa.cpa_id} is already in use for {previous.name} "
                            f"({previous.oin}); choose another CPAId")
    return problems

"""The simulated DSO-LV services behind the REST APIs, on the store and the domain rules.

Implements :class:`pytest_dso.sim.rest.backend.Backend`: verzoeken and documents come from the
SQLite store, authorisation from the :class:`MandateTable`, routing from the
:class:`RoutingTable` (behandeldienstconfiguraties), submissions from
:func:`pytest_dso.sim.domain.submission.submit`. Verzoeknotificaties are handed to ``notify``
(the simulator's ebMS delivery), one call per recipient.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_dso.dso.shapes import (
    BehandeldienstConfiguratie,
    Indienbericht,
    RouteringAdvies,
    ZoekVraag,
)
from pytest_dso.sim.config import Quotas
from pytest_dso.sim.domain.mandates import Mandaat, MandateTable
from pytest_dso.sim.domain.routing import (
    InvalidConfiguratieError,
    RoutingConflictError,
    RoutingTable,
)
from pytest_dso.sim.domain.submission import (
    Notification,
    SubmissionError,
    submit,
    wijzig_bevoegd_gezag,
)
from pytest_dso.sim.pdf import publiceerbaar_pdf
from pytest_dso.sim.rest.backend import Caller, Concept, DocumentInfo, Submitted
from pytest_dso.sim.store import Store, StoredVerzoek
from pytest_dso.stam.model import Bijlage, Organisatie, RdPunt, Verzoek
from pytest_dso.stam.verzoeknummer import VerzoeknummerAllocator
from pytest_dso.stam.xml import render_verzoek
from pytest_dso.transport.api import ApiError, SpooledBody

# Open concepts, their lifetime (24 h [C]) and their uploads are bounded by
# :class:`pytest_dso.sim.config.Quotas` ([simulator.limits]).
#: How many recently submitted verzoeken are kept in memory for fast fetching.
RECENT_VERZOEKEN = 512

Notify = Callable[[Notification], str]
CpaOffer = Callable[[Caller, bytes], Mapping[str, Any]]
CpaList = Callable[[], Sequence[Mapping[str, Any]]]

#: Which type of bevoegd gezag owns an aansluitactiviteit, from a word in its name.
_OWNER_WORDS: Mapping[str, str] = {
    "gemeentes": "gemeente",
    "waterschappen": "waterschap",
    "provincies": "provincie",
    "rijk": "rijk",
}


@dataclass(frozen=True)
class Organisation:
    """A bevoegd gezag or behandeldienst the simulator knows."""

    oin: str
    naam: str
    type: str


@dataclass
class _OpenConcept:
    concept: Concept
    created: float
    #: each upload is spooled to a file in the store's folder: (info, file, sha256)
    uploads: list[tuple[DocumentInfo, Path, str]] = field(default_factory=list)
    client: str = ""


def _located_in(verzoek: Verzoek, polygoon: Sequence[RdPunt],
                box: tuple[float, float, float, float] | None = None) -> bool:
    """True when a point of a projectlocatie (its punt or a corner of its vlak) lies inside
    ``polygoon``. A verzoek submitted without any located projectlocatie matches every polygon
    (the simulator accepts submissions without a locatie; DSO-LV always has one). ``box`` is
    the polygon's bounding box (:func:`_bounds`): a point outside it is never ray-cast."""
    points = [q for p in verzoek.projectlocaties
              for q in ((p.punt,) if p.punt is not None else ()) + p.vlak]
    if not points:
        return True
    x0, y0, x1, y1 = box or _bounds(polygoon)
    return any(x0 <= q.x <= x1 and y0 <= q.y <= y1 and _inside(q, polygoon) for q in points)


def _bounds(polygon: Sequence[RdPunt]) -> tuple[float, float, float, float]:
    """The bounding box ``(min x, min y, max x, max y)`` of ``polygon``."""
    xs = [p.x for p in polygon]
    ys = [p.y for p in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(point: RdPunt, polygon: Sequence[RdPunt]) -> bool:
    """Ray casting: is ``point`` inside ``polygon`` (RD coordinates)?"""
    inside = False
    count = len(polygon)
    for i in range(count):
        a, b = polygon[i], polygon[(i + 1) % count]
        if (a.y > point.y) != (b.y > point.y):
            cross = (b.x - a.x) * (point.y - a.y) / (b.y - a.y) + a.x
            if point.x < cross:
                inside = not inside
    return inside


class _Names(Mapping[str, str]):
    """OIN → name, read from the organisations as they are (no copy of all of them)."""

    def __init__(self, organisations: Mapping[str, Organisation]) -> None:
        self._organisations = organisations

    def __getitem__(self, oin: str) -> str:
        return self._organisations[oin].naam

    def __iter__(self) -> Iterator[str]:
        return iter(self._organisations)

    def __len__(self) -> int:
        return len(self._organisations)


class SimServices:
    """The state and rules behind the five simulated APIs. Thread-safe."""

    def __init__(
        self,
        store: Store,
        *,
        organisations: Sequence[Organisation],
        mandates: MandateTable,
        notify: Notify,
        cpa_offer: CpaOffer | None = None,
        cpa_list: CpaList | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        quotas: Quotas | None = None,
        verzoeknummer_share: tuple[int, int] = (0, 1),
    ) -> None:
        self.store = store
        self.quotas = quotas or Quotas()
        self.routing = RoutingTable.from_store(store)
        self.mandates = mandates
        self.organisations = {o.oin: o for o in organisations}
        self._notify = notify
        self._cpa_offer = cpa_offer
        self._cpa_list = cpa_list
        self._clock = clock
        self._allocator = VerzoeknummerAllocator(store, share=verzoeknummer_share)
        self._lock = threading.Lock()
        self._concepts: OrderedDict[str, _OpenConcept] = OrderedDict()
        self._recent: OrderedDict[str, StoredVerzoek] = OrderedDict()
        self._submitting: set[str] = set()
        self._spool: Path | None = None

    def __repr__(self) -> str:
        return f"SimServices({self.store!r})"

    @property
    def names(self) -> Mapping[str, str]:
        """OIN → name of every known organisation (a live view, not a copy per call)."""
        return _Names(self.organisations)

    # -- afhandelen -------------------------------------------------------------------------
    def _stored(self, verzoeknummer: str) -> StoredVerzoek | None:
        """The latest version, from a small cache of recent verzoeken (a DKA fetches a new
        verzoek several times right after its verzoeknotificatie) or the store."""
        with self._lock:
            cached = self._recent.get(verzoeknummer)
        if cached is not None:
            return cached
        return self.store.get_verzoek(verzoeknummer)

    def _keep(self, stored: StoredVerzoek) -> None:
        with self._lock:
            self._recent[stored.verzoek.verzoeknummer] = stored
            self._recent.move_to_end(stored.verzoek.verzoeknummer)
            while len(self._recent) > RECENT_VERZOEKEN:
                self._recent.popitem(last=False)

    def _put(self, verzoek: Verzoek) -> None:
        xml = render_verzoek(verzoek)
        self.store.put_verzoek(verzoek, xml)
        stored = StoredVerzoek(verzoek, xml, self._clock())
        self.store.after_commit(lambda: self._keep(stored))  # never cache a rolled-back one

    def verzoek(self, verzoeknummer: str) -> Verzoek | None:
        stored = self._stored(verzoeknummer)
        return stored.verzoek if stored else None

    def may_fetch(self, caller: Caller, verzoek: Verzoek) -> tuple[bool, str]:
        if caller.oin is None:
            return False, "no client certificate OIN"
        decision = self.mandates.may_fetch(caller.oin, verzoek, caller.acting_oin)
        return decision.allowed, decision.reason

    def may_act_for(self, caller_oin: str, acting_oin: str, what: Mandaat) -> bool:
        return self.mandates.may(caller_oin, acting_oin, what).allowed

    def stam_xml(self, verzoeknummer: str) -> bytes:
        stored = self._stored(verzoeknummer)
        if stored is None:
            raise ApiError(404, "Verzoek niet gevonden", f"no verzoek {verzoeknummer}")
        return stored.xml

    def publiceerbaar_pdf(self, verzoeknummer: str) -> bytes:
        stored = self._stored(verzoeknummer)
        if stored is None:
            raise ApiError(404, "Verzoek niet gevonden", f"no verzoek {verzoeknummer}")
        return stored.pdf or publiceerbaar_pdf(stored.verzoek)

    def document(self, verzoeknummer: str, document_id: str
                 ) -> tuple[Bijlage, Callable[[], Iterator[bytes]]] | None:
        found = self.store.get_document(document_id)
        if found is None or found.verzoeknummer != verzoeknummer:
            return None
        return found.bijlage, found.chunks

    def zoek(self, caller: Caller, vraag: ZoekVraag) -> Sequence[Verzoek]:
        if caller.oin is None:
            return ()
        since = dt.datetime.combine(vraag.van, dt.time(), dt.UTC)
        until = dt.datetime.combine(vraag.tot + dt.timedelta(days=1), dt.time(), dt.UTC)
        if vraag.verzoeknummer:
            found = self.verzoek(vraag.verzoeknummer)
            candidates: list[Verzoek] = [found] if found else []
        else:
            oins = (
                (caller.acting_oin,) if caller.acting_oin
                else self.mandates.namens(caller.oin, Mandaat.OPHALEN_VERZOEK)
            )
            seen: dict[str, Verzoek] = {}
            for oin in oins:
                for v in self.store.verzoeken(oin=oin, since=since, until=until, limit=10_000):
                    seen.setdefault(v.verzoeknummer, v)
            candidates = sorted(seen.values(), key=lambda v: v.indiendatum, reverse=True)
        out = []
        box = _bounds(vraag.polygoon) if vraag.polygoon else None
        for v in candidates:
            if not since <= v.indiendatum < until or not self.may_fetch(caller, v)[0]:
                continue
            if vraag.polygoon and not _located_in(v, vraag.polygoon, box):
                continue
            out.append(v)
        return out

    def wijzig_bevoegd_gezag(self, caller: Caller, verzoek: Verzoek, nieuw_oin: str) -> Verzoek:
        assert caller.oin is not None
        if not self.mandates.may(caller.oin, verzoek.bevoegd_gezag.oin,
                                 Mandaat.OPHALEN_VERZOEK):
            raise ApiError(403, "Niet geautoriseerd",
                           f"only the bevoegd gezag {verzoek.bevoegd_gezag.oin} (or a party it "
                           "mandated) may hand this verzoek to another bevoegd gezag")
        if nieuw_oin not in self.organisations:
            raise ApiError(422, "Onbekend bevoegd gezag",
                           f"the simulator knows no bevoegd gezag {nieuw_oin}")
        try:
            result = wijzig_bevoegd_gezag(
                verzoek, Organisatie(nieuw_oin, self.names.get(nieuw_oin, "")), now=self._clock()
            )
        except SubmissionError as exc:
            raise ApiError(409, "Wijziging niet mogelijk", str(exc)) from None
        moved = result.verzoeken[0]
        with self.store.transaction():
            self._put(moved)
            for note in result.notifications:
                self._notify(note)
        return moved

    # -- behandeldienstconfiguratie ---------------------------------------------------------
    def _require_bdc_mandate(self, caller: Caller, bg_oin: str) -> None:
        assert caller.oin is not None
        decision = self.mandates.may(caller.oin, bg_oin, Mandaat.BEHANDELDIENSTCONFIGURATIE)
        if not decision:
            raise ApiError(403, "Geen mandaat", decision.reason, oin=caller.oin)

    def bdc_create(
        self, caller: Caller, config: BehandeldienstConfiguratie
    ) -> BehandeldienstConfiguratie:
        self._require_bdc_mandate(caller, config.oin)
        try:
            return self.routing.create(config)
        except RoutingConflictError as exc:
            raise ApiError(409, "Conflicterende configuratie", str(exc)) from None
        except InvalidConfiguratieError as exc:
            raise ApiError(400, "Ongeldige configuratie", str(exc)) from None

    def _visible(self, caller: Caller) -> set[str]:
        assert caller.oin is not None
        if caller.acting_oin:
            return {caller.acting_oin}
        return set(self.mandates.namens(caller.oin, Mandaat.BEHANDELDIENSTCONFIGURATIE))

    def bdc_list(self, caller: Caller) -> Sequence[BehandeldienstConfiguratie]:
        visible = self._visible(caller)
        return [c for c in self.routing.list() if c.oin in visible
                or c.behandeldienst_oin in visible]

    def bdc_get(self, caller: Caller, config_id: str) -> BehandeldienstConfiguratie | None:
        found = next((c for c in self.routing.list() if c.id == config_id), None)
        if found is None:
            return None
        visible = self._visible(caller)
        if found.oin not in visible and found.behandeldienst_oin not in visible:
            raise ApiError(403, "Geen mandaat",
                           f"{caller.oin} may not read configurations of {found.oin}")
        return found

    def bdc_delete(self, caller: Caller, config_id: str) -> bool:
        found = next((c for c in self.routing.list() if c.id == config_id), None)
        if found is None:
            return False
        self._require_bdc_mandate(caller, found.oin)
        self.routing.delete(config_id)
        return True

    # -- verzoeksroutering ------------------------------------------------------------------
    def _owner_type(self, activiteit: str) -> str | None:
        words = activiteit.replace("–", " ").replace("-", " ").casefold().split()
        return next((_OWNER_WORDS[w] for w in words if w in _OWNER_WORDS), None)

    def route(self, activiteiten: Sequence[str], locatie_oin: str | None,
              toestemming: str | None,
              bevoegd_gezag_oin: str | None = None) -> RouteringAdvies:
        place = self.organisations.get(locatie_oin) if locatie_oin else None
        owners: dict[str, tuple[Organisation, bool]] = {}
        bd: Organisatie | None = None
        for activiteit in activiteiten:
            configured = {c.oin for c in self.routing.list() if c.activiteit.naam == activiteit}
            kind = self._owner_type(activiteit)
            if kind is None and not configured:
                raise ApiError(404, "Activiteit onbekend",
                               f"no indieningsvereisten for activiteit {activiteit!r} in the "
                               "simulator's RTR (geen STAM zonder STTR); use an "
                               "aansluitactiviteit such as 'Gemeentes – Melding'")
            if kind == "gemeente" and place is not None and place.type == "gemeente":
                found = [(place, True)]
            else:
                found = [(o, False) for o in self.organisations.values()
                         if (kind and o.type == kind) or o.oin in configured]
            for org, afgeleid in found:
                owners.setdefault(org.oin, (org, afgeleid))
                if bevoegd_gezag_oin and org.oin != bevoegd_gezag_oin:
                    continue
                bd_oin = self.routing.route(activiteit, org.oin, toestemming, locatie_oin)
                if bd is None and bd_oin:
                    bd = Organisatie(bd_oin, self.names.get(bd_oin, ""))
        if not owners:
            raise ApiError(404, "Geen bevoegd gezag",
                           "no bevoegd gezag of that type is configured in the simulator")
        return RouteringAdvies(
            bevoegde_gezagen=tuple((Organisatie(o.oin, o.naam), af) for o, af in owners.values()),
            conceptverzoek_toegestaan=False,
            behandeldienst=bd,
        )

    # -- indienen ---------------------------------------------------------------------------
    def _expire_concepts(self) -> None:
        """Drop concepts past their lifetime, and the oldest above the global cap."""
        limit = time.monotonic() - self.quotas.concept_lifetime
        while self._concepts:
            oldest = next(iter(self._concepts.values()))
            if oldest.created >= limit and len(self._concepts) <= self.quotas.max_concepts:
                break
            _, dropped = self._concepts.popitem(last=False)
            _discard(dropped)

    def concept_start(self, bericht: Indienbericht, client: str = "") -> Concept:
        unknown = [a.bevoegd_gezag.oin for a in bericht.activiteiten
                   if a.bevoegd_gezag.oin not in self.organisations]
        if unknown:
            raise ApiError(422, "Onbekend bevoegd gezag",
                           f"the simulator knows no bevoegd gezag {', '.join(unknown)}; known: "
                           + ", ".join(f"{o.oin} ({o.naam})" for o in self.organisations.values()))
        concept = Concept(str(uuid.uuid4()), bericht)
        with self._lock:
            self._expire_concepts()
            cap = self.quotas.max_concepts_per_client
            if sum(1 for o in self._concepts.values() if o.client == client) >= cap:
                hours = self.quotas.concept_lifetime / 3600
                raise ApiError(429, "Te veel open verzoeken",
                               f"this client has {cap} open concepts (the limit per client); "
                               f"submit them or wait: unfinished concepts are dropped after "
                               f"{hours:g} h", retry_after=60)
            self._concepts[concept.verzoek_id] = _OpenConcept(concept, time.monotonic(),
                                                              client=client)
        return concept

    def concept(self, verzoek_id: str) -> Concept | None:
        with self._lock:
            found = self._concepts.get(verzoek_id)
            if found is None:
                return None
            return replace(found.concept, documenten=tuple(d for d, _, _ in found.uploads))

    def uploads_folder(self) -> Path:
        """The folder of spooled uploads (``uploads`` next to the store); the HTTP server
        streams upload bodies into it, so taking one over is a rename."""
        if self._spool is None:
            folder = (self.store.path.parent / "uploads" if self.store.path is not None
                      else Path(tempfile.mkdtemp(prefix="dso-sim-uploads-")))
            folder.mkdir(parents=True, exist_ok=True)
            _sweep(folder, self.store.document_paths())
            self._spool = folder
        return self._spool

    def _spool_file(self, content: bytes) -> tuple[Path, str]:
        """Write ``content`` to a new file in the store's ``uploads`` folder, hashing it as it
        is written; the concept then holds the file, not the bytes."""
        path = self.uploads_folder() / f"{uuid.uuid4().hex}.upload"
        digest = hashlib.sha256()
        view = memoryview(content)
        with path.open("wb") as handle:
            for start in range(0, len(view), 1 << 20):
                block = view[start:start + (1 << 20)]
                digest.update(block)
                handle.write(block)
        return path, digest.hexdigest()

    def concept_document(self, verzoek_id: str, bestandsnaam: str, mimetype: str,
                         content: bytes | SpooledBody) -> DocumentInfo:
        if isinstance(content, SpooledBody):
            path = content.take(self.uploads_folder() / f"{uuid.uuid4().hex}.upload")
            size, sha = content.size, content.sha256
        else:
            path, sha = self._spool_file(content)
            size = len(content)
        try:
            return self._add_upload(verzoek_id, bestandsnaam, mimetype, size, path, sha)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def _add_upload(self, verzoek_id: str, bestandsnaam: str, mimetype: str, size: int,
                    path: Path, sha: str) -> DocumentInfo:
        with self._lock:
            found = self._concepts.get(verzoek_id)
            if found is None:
                raise ApiError(404, "Verzoek niet gevonden", f"no open verzoek {verzoek_id}")
            q = self.quotas
            if len(found.uploads) >= q.max_uploads_per_concept:
                raise ApiError(413, "Te veel documenten",
                               f"a concept holds at most {q.max_uploads_per_concept} documents")
            held = sum(i.size for i, _, _ in found.uploads)
            if held + size > q.max_concept_bytes:
                raise ApiError(413, "Documenten te groot",
                               f"the documents of one concept are limited to "
                               f"{q.max_concept_bytes} bytes in all")
            everywhere = sum(i.size for o in self._concepts.values() for i, _, _ in o.uploads)
            if everywhere + size > q.max_uploaded_bytes:
                raise ApiError(429, "Te veel open documenten",
                               "the simulator holds too many uploaded documents of unfinished "
                               "concepts; submit or abandon concepts and retry",
                               retry_after=60)
            info = DocumentInfo(f"u{len(found.uploads) + 1:03d}", bestandsnaam, mimetype, size)
            found.uploads.append((info, path, sha))
            return info

    def _first_result(self, key: str, fingerprint: str) -> Submitted | None:
        first = self.store.get_submission(key)
        if first is None:
            return None
        stored_fingerprint, result = first
        if fingerprint and stored_fingerprint and fingerprint != stored_fingerprint:
            raise ApiError(422, "Idempotency-Key hergebruikt",
                           "this Idempotency-Key was used for a different indienbericht; use "
                           "a new key for a new submission")
        return Submitted(tuple(result["verzoeknummers"]), tuple(result["notificaties"]))

    def concept_finalise(self, verzoek_id: str, *, idempotency_key: str | None = None,
                         fingerprint: str = "") -> Submitted:
        keys = [f"concept:{verzoek_id}"]
        if idempotency_key:
            keys.insert(0, f"key:{idempotency_key}")
        with self._lock:
            busy = [k for k in keys if k in self._submitting]
            if busy:
                raise ApiError(409, "Indiening loopt al",
                               "a submission with this Idempotency-Key or verzoekId is being "
                               "processed; retry in a moment to get its result")
            self._submitting.update(keys)
        try:
            for key in keys:
                first = self._first_result(key, fingerprint)
                if first is not None:
                    with self._lock:
                        _discard(self._concepts.pop(verzoek_id, None))
                    return first
            return self._finalise(verzoek_id, keys, fingerprint)
        finally:
            with self._lock:
                self._submitting.difference_update(keys)

    def _finalise(self, verzoek_id: str, keys: Sequence[str], fingerprint: str) -> Submitted:
        with self._lock:
            found = self._concepts.pop(verzoek_id, None)
        if found is None:
            raise ApiError(404, "Verzoek niet gevonden",
                           f"no open verzoek {verzoek_id} (already submitted, or dropped)")
        try:
            return self._submit(found, keys, fingerprint)
        except BaseException:  # refused (422) or failed: its spooled files go with it
            _discard(found)
            raise

    def _submit(self, found: _OpenConcept, keys: Sequence[str], fingerprint: str) -> Submitted:
        now = self._clock()
        try:
            result = submit(found.concept.bericht, routing=self.routing,
                            allocate=self._allocator.allocate, now=now, names=self.names)
        except SubmissionError as exc:
            raise ApiError(422, "Verzoek niet in te dienen", str(exc)) from None
        verzoeken = []
        with self.store.transaction():
            for verzoek in result.verzoeken:
                uploaded = [
                    (Bijlage(f"{verzoek.verzoeknummer}-{info.document_id}", info.bestandsnaam,
                             info.mimetype, info.size, sha), path)
                    for info, path, sha in found.uploads
                ]
                full = replace(verzoek, bijlagen=(*verzoek.bijlagen, *(b for b, _ in uploaded)))
                self._put(full)
                for bijlage, path in uploaded:  # the spooled file now belongs to the store
                    self.store.put_document(full.verzoeknummer, bijlage, path=path)
                for bijlage in verzoek.bijlagen:
                    spec = result.documenten.get(bijlage.document_id)
                    if spec is not None:
                        self.store.put_document(full.verzoeknummer, bijlage, spec=spec)
                verzoeken.append(full)
            # in the same transaction: a verzoek is never stored without its
            # verzoeknotificaties; they leave once it has committed
            message_ids = tuple(self._notify(n) for n in result.notifications)
            submitted = Submitted(tuple(v.verzoeknummer for v in verzoeken), message_ids)
            for key in keys:
                self.store.put_submission(key, fingerprint, {
                    "verzoeknummers": list(submitted.verzoeknummers),
                    "notificaties": list(submitted.notificaties)})
        return submitted

    # -- CPA aanbieden ----------------------------------------------------------------------
    def cpa_offer(self, caller: Caller, xml: bytes) -> Mapping[str, Any]:
        if self._cpa_offer is None:
            raise ApiError(501, "Niet beschikbaar", "this simulator does not accept CPAs")
        return self._cpa_offer(caller, xml)

    def cpas(self) -> Sequence[Mapping[str, Any]]:
        return self._cpa_list() if self._cpa_list else ()


def _discard(concept: _OpenConcept | None) -> None:
    """Delete the spooled files of a concept that was dropped or could not be submitted."""
    if concept is not None:
        for _, path, _ in concept.uploads:
            path.unlink(missing_ok=True)


def _sweep(folder: Path, kept: frozenset[Path]) -> None:
    """Remove what a previous run left when it was killed: half-received bodies
    (``.spool-*.part``) and uploads of concepts that died with it (concepts live in memory)."""
    keep = {path.resolve() for path in kept}
    for file in (*folder.glob(".spool-*.part"), *folder.glob("*.upload")):
        if file.resolve() not in keep:
            file.unlink(missing_ok=True)

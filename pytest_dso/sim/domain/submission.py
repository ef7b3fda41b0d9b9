"""Indienen as DSO-LV does it: split per bevoegd gezag, route, and announce with triggers.

Behaviour modelled (DSO's process documents and the sources in ``docs/unknowns.md``):

- A submission whose activiteiten belong to several bevoegde gezagen becomes one verzoek
  per bevoegd gezag (**meervoudig verzoek**), each with its own verzoeknummer [I].
- Per activiteit the behandeldienstconfiguratie is consulted (activiteit + BG + toestemming +
  locatie). The first routed behandeldienst becomes the verzoek's **uitvoerende instantie**;
  without one the bevoegd gezag is.
- **At most two verzoeknotificaties per verzoek** [C]: first the uitvoerende instantie, then
  the bevoegd gezag when it differs (a **kopiebericht** for it), then other routed
  behandeldiensten. Recipients beyond the limit are returned as :class:`Undelivered`, which
  reproduces "a meervoudig verzoek with a BD activiteit is not always delivered to that BD".
- An aanvulling keeps the verzoeknummer, volgnummer + 1; an intrekking has volgnummer 999;
  both are announced again. After a change of bevoegd gezag the new BG gets the latest
  version only; the behandeldienst cannot be changed [C].

Pure functions: they return what to store and what to deliver; the server does the I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from pytest_dso.dso.shapes import Indienbericht
from pytest_dso.sim.domain.routing import RoutingTable
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.model import (
    Bijlage,
    Organisatie,
    Projectactiviteit,
    Projectlocatie,
    RdPunt,
    Verzoek,
    Verzoeknotificatie,
)

#: DSO-LV sends at most this many triggers per verzoek [C] (presentation *Focus op STAM*).
MAX_TRIGGERS_PER_VERZOEK = 2


class SubmissionError(ValueError):
    """The submission cannot become a verzoek; the message says why."""


@dataclass(frozen=True)
class Notification:
    """One verzoeknotificatie to deliver over ebMS to ``recipient_oin``."""

    recipient_oin: str
    verzoeknummer: str
    volgnummer: int
    kopie: bool
    notificatie: Verzoeknotificatie


@dataclass(frozen=True)
class Undelivered:
    """A party that would need the verzoek but gets no trigger, and why."""

    recipient_oin: str
    verzoeknummer: str
    reason: str


@dataclass(frozen=True)
class SubmissionResult:
    """What a submission (or aanvulling, intrekking, BG change) produced.

    ``documenten`` maps each document id to the spec that regenerates its bytes.
    """

    verzoeken: tuple[Verzoek, ...]
    notifications: tuple[Notification, ...]
    undelivered: tuple[Undelivered, ...] = ()
    documenten: Mapping[str, BijlageSpec] = field(default_factory=dict)


def notifications_for(
    verzoek: Verzoek,
    now: dt.datetime,
    *,
    also: Sequence[str] = (),
    max_triggers: int = MAX_TRIGGERS_PER_VERZOEK,
) -> tuple[tuple[Notification, ...], tuple[Undelivered, ...]]:
    """Triggers for ``verzoek``: uitvoerende instantie, then the BG (kopie), then ``also``,
    at most ``max_triggers``; the rest is returned as undelivered."""
    ui, bg = verzoek.uitvoerende_instantie.oin, verzoek.bevoegd_gezag.oin
    recipients = list(dict.fromkeys([ui, bg, *also]))
    sent = recipients[:max_triggers]
    skipped = recipients[max_triggers:]
    notes = tuple(
        Notification(
            recipient_oin=oin,
            verzoeknummer=verzoek.verzoeknummer,
            volgnummer=verzoek.volgnummer,
            kopie=oin != ui,
            notificatie=Verzoeknotificatie(
                verzoeknummer=verzoek.verzoeknummer,
                volgnummer=verzoek.volgnummer,
                type=verzoek.type,
                bevoegd_gezag_oin=bg,
                ontvanger_oin=oin,
                tijdstip=now,
            ),
        )
        for oin in sent
    )
    lost = tuple(
        Undelivered(
            oin,
            verzoek.verzoeknummer,
            f"DSO-LV sends at most {max_triggers} verzoeknotificaties per verzoek; "
            f"{oin} gets none for verzoek {verzoek.verzoeknummer}",
        )
        for oin in skipped
    )
    return notes, lost


def submit(
    bericht: Indienbericht,
    *,
    routing: RoutingTable,
    allocate: Callable[[], str],
    now: dt.datetime,
    names: Mapping[str, str] | None = None,
    max_triggers: int = MAX_TRIGGERS_PER_VERZOEK,
) -> SubmissionResult:
    """Turn a submission into verzoeken (one per bevoegd gezag) and the triggers to send.

    ``allocate`` hands out verzoeknummers (e.g. ``VerzoeknummerAllocator.allocate``);
    ``names`` maps OINs to organisation names for the XML. Generated bijlagen are attached
    to every verzoek with ids ``<verzoeknummer>-001``...; their SHA-256 is computed once.
    """
    if not bericht.activiteiten:
        raise SubmissionError("the submission has no activiteiten")
    names = names or {}
    groups: dict[str, list[int]] = {}
    for index, act in enumerate(bericht.activiteiten):
        groups.setdefault(act.bevoegd_gezag.oin, []).append(index)
    hashed: dict[tuple[int, int], Bijlage] = {}
    verzoeken: list[Verzoek] = []
    notifications: list[Notification] = []
    undelivered: list[Undelivered] = []
    documenten: dict[str, BijlageSpec] = {}
    for bg_oin, indexes in groups.items():
        acts = [bericht.activiteiten[i] for i in indexes]
        bg_naam = acts[0].bevoegd_gezag.naam or names.get(bg_oin, "")
        routed = [
            bd
            for a in acts
            if (
                bd := routing.route(
                    a.activiteit, bg_oin, a.toestemming, bericht.locatie_oin or None
                )
            )
        ]
        bds = list(dict.fromkeys(routed))
        ui_oin = bds[0] if bds else bg_oin
        nummer = allocate()
        bijlagen: list[Bijlage] = []
        for n, gb in enumerate(bericht.bijlagen, start=1):
            key = (gb.seed, gb.size)
            if key not in hashed:
                spec = BijlageSpec(gb.seed, gb.size, gb.bestandsnaam, gb.mediatype)
                hashed[key] = spec.bijlage("")
            document_id = f"{nummer}-{n:03d}"
            bijlagen.append(
                replace(
                    hashed[key],
                    document_id=document_id,
                    bestandsnaam=gb.bestandsnaam or hashed[key].bestandsnaam,
                    mediatype=gb.mediatype,
                )
            )
            documenten[document_id] = BijlageSpec(gb.seed, gb.size, gb.bestandsnaam, gb.mediatype)
        verzoek = Verzoek(
            verzoeknummer=nummer,
            type=bericht.type,
            doel=bericht.doel,
            naam=bericht.naam,
            indiendatum=now,
            toelichting=bericht.toelichting,
            bevoegd_gezag=Organisatie(bg_oin, bg_naam),
            uitvoerende_instantie=Organisatie(
                ui_oin, names.get(ui_oin, bg_naam if ui_oin == bg_oin else "")
            ),
            projectlocaties=tuple(_with_vlak(p) for p in bericht.projectlocaties),
            projectactiviteiten=tuple(
                Projectactiviteit(a.activiteit.naam, a.specificaties) for a in acts
            ),
            initiatiefnemer=bericht.initiatiefnemer,
            contactpersoon=bericht.contactpersoon,
            bijlagen=tuple(bijlagen),
        )
        notes, lost = notifications_for(verzoek, now, also=bds[1:], max_triggers=max_triggers)
        verzoeken.append(verzoek)
        notifications.extend(notes)
        undelivered.extend(lost)
    return SubmissionResult(tuple(verzoeken), tuple(notifications), tuple(undelivered), documenten)


def aanvullen(
    verzoek: Verzoek,
    *,
    now: dt.datetime,
    bijlagen: Sequence[Bijlage] | None = None,
    projectactiviteiten: Sequence[Projectactiviteit] | None = None,
    toelichting: str | None = None,
    max_triggers: int = MAX_TRIGGERS_PER_VERZOEK,
) -> SubmissionResult:
    """An aanvulling of ``verzoek`` (same verzoeknummer, volgnummer + 1) and its triggers.

    ``bijlagen`` is the complete new set; documents left out count as withdrawn [V].
    """
    try:
        nieuw = verzoek.aanvulling(
            now, bijlagen=bijlagen, projectactiviteiten=projectactiviteiten, toelichting=toelichting
        )
    except ValueError as exc:
        raise SubmissionError(str(exc)) from None
    notes, lost = notifications_for(nieuw, now, max_triggers=max_triggers)
    return SubmissionResult((nieuw,), notes, lost)


def intrekken(
    verzoek: Verzoek, *, now: dt.datetime, max_triggers: int = MAX_TRIGGERS_PER_VERZOEK
) -> SubmissionResult:
    """The intrekking of ``verzoek`` (volgnummer 999, doel Intrekken) and its triggers."""
    try:
        nieuw = verzoek.intrekking(now)
    except ValueError as exc:
        raise SubmissionError(str(exc)) from None
    notes, lost = notifications_for(nieuw, now, max_triggers=max_triggers)
    return SubmissionResult((nieuw,), notes, lost)


def wijzig_bevoegd_gezag(
    verzoek: Verzoek, nieuw: Organisatie, *, now: dt.datetime
) -> SubmissionResult:
    """Hand the latest version of ``verzoek`` to another bevoegd gezag (rerouting).

    Only the bevoegd gezag changes; when a behandeldienst was the uitvoerende instantie it
    stays (changing the BD is not possible [C]), otherwise the new BG becomes it. The new BG
    is notified of the latest version only.
    """
    if nieuw.oin == verzoek.bevoegd_gezag.oin:
        raise SubmissionError(
            f"verzoek {verzoek.verzoeknummer} already has bevoegd gezag {nieuw.oin}"
        )
    had_bd = verzoek.uitvoerende_instantie.oin != verzoek.bevoegd_gezag.oin
    moved = replace(
        verzoek,
        bevoegd_gezag=nieuw,
        uitvoerende_instantie=verzoek.uitvoerende_instantie if had_bd else nieuw,
    )
    note = Notification(
        recipient_oin=nieuw.oin,
        verzoeknummer=moved.verzoeknummer,
        volgnummer=moved.volgnummer,
        kopie=moved.uitvoerende_instantie.oin != nieuw.oin,
        notificatie=Verzoeknotificatie(
            verzoeknummer=moved.verzoeknummer,
            volgnummer=moved.volgnummer,
            type=moved.type,
            bevoegd_gezag_oin=nieuw.oin,
            ontvanger_oin=nieuw.oin,
            tijdstip=now,
        ),
    )
    return SubmissionResult((moved,), (note,))


#: Half the side of the square the simulator derives around a point locatie, in metres.
DERIVED_HALF_SIDE = 5.0


def _with_vlak(locatie: Projectlocatie) -> Projectlocatie:
    """A point locatie with a derived square polygon around it (rendered as ``gml:posList``),
    standing in for the locatie DSO-LV derives; the real derivation is not public [?]."""
    if locatie.punt is None or locatie.vlak:
        return locatie
    x, y, d = locatie.punt.x, locatie.punt.y, DERIVED_HALF_SIDE
    ring = (RdPunt(x - d, y - d), RdPunt(x + d, y - d), RdPunt(x + d, y + d),
            RdPunt(x - d, y + d), RdPunt(x - d, y - d))
    return replace(locatie, vlak=ring)

"""Gemiste verzoeken: verzoeken DSO-LV holds for a tenant that the VTH side never saw.

What a leverancier runs after an outage (a vendor describes the procedure [V]): search Verzoek
afhandelen ``verzoeken/_zoek`` for the last N days, and for every hit that the trigger source
did not see (and a VTH check, when configured, does not find) report the verzoeknummer with
its ``samenvatting`` link, the original STAM message, to fetch it by hand or by the adapter.

A verzoek nothing can check (the trigger source keeps no history from before the run and no VTH
check is configured) is reported as *undecided*, a warning, not as missed.

``_zoek`` takes a verzoeknummer or an RD polygon plus a date range and answers in pages of 50
[V]; the search here uses a polygon around the whole of the Netherlands in RD [I] (the vendor's
procedure gives a polygon, its extent is the searcher's choice) and keeps the hits where the
tenant is the bevoegd gezag or the behandeldienst. At most ``max_pages`` pages are read; more
hits than that give a warning, never an endless loop.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.shapes import Zaakverwijzing, ZoekVraag
from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.stam.model import RdPunt

#: The whole of the Netherlands in Rijksdriehoek coordinates (the RD validity area), closed.
NL_RD_POLYGON: tuple[RdPunt, ...] = (
    RdPunt(-7000, 289000),
    RdPunt(300000, 289000),
    RdPunt(300000, 629000),
    RdPunt(-7000, 629000),
    RdPunt(-7000, 289000),
)
#: Default look-back (``[health] missed_days``).
DEFAULT_DAYS = 7
#: Pages of 50 read at most per tenant.
MAX_PAGES = 20
PAGE_SIZE = 50

#: ``seen(verzoeknummer)``: True when the trigger source or the VTH check knows it, False when
#: they do not, ``None`` when nothing can tell (no history and no VTH check).
Seen = Callable[[str], bool | None]


@dataclass(frozen=True)
class GemistVerzoek:
    """One verzoek DSO-LV holds for the tenant that the VTH side has not seen."""

    verzoeknummer: str
    tenant_oin: str
    bevoegd_gezag_oin: str
    behandeldienst_oin: str
    samenvatting_url: str

    def describe(self) -> str:
        """One line for reports."""
        bd = f", behandeldienst {self.behandeldienst_oin}" if self.behandeldienst_oin else ""
        return (f"{self.verzoeknummer} (bevoegd gezag {self.bevoegd_gezag_oin}{bd}): "
                f"{self.samenvatting_url}")


@dataclass(frozen=True)
class MissedReport:
    """The outcome for one tenant: what ``_zoek`` found, what was not seen, and whether the
    page limit cut the search short."""

    tenant_oin: str
    van: dt.date
    tot: dt.date
    found: tuple[str, ...]
    missed: tuple[GemistVerzoek, ...]
    truncated: bool = False
    undecided: tuple[GemistVerzoek, ...] = ()

    def findings(self, tenant_name: str = "") -> list[Finding]:
        """One ERROR per missed verzoek, a WARNING for the verzoeken nothing could check and
        when the search was cut short, and an INFO with the counts."""
        where = f"tenant {tenant_name or self.tenant_oin} ({self.tenant_oin})"
        out = [
            error(
                "health.missed_verzoek",
                f"verzoek {m.verzoeknummer} is in DSO-LV for {self.tenant_oin} but the trigger "
                "source and the VTH check have not seen it",
                f"fetch the original STAM message at {m.samenvatting_url} (samenvatting) and "
                "process it; then find out why its verzoeknotificatie did not arrive (adapter, "
                "DKA, ESB). If your VTH system does have it, configure a VTH check "
                "(pytest_dso_vth_check) so this check can tell",
                where,
                verzoeknummer=m.verzoeknummer,
                samenvatting=m.samenvatting_url,
            )
            for m in self.missed
        ]
        if self.undecided:
            out.append(warning(
                "health.missed_undecided",
                f"{len(self.undecided)} verzoek(en) could not be checked: the trigger source "
                "keeps no history from before this run and no VTH check is configured: "
                + "; ".join(m.describe() for m in self.undecided[:20])
                + (" …" if len(self.undecided) > 20 else ""),
                "configure a VTH check (pytest_dso_vth_check or a dso_vth_check fixture) or a "
                "trigger source that keeps its history ([triggers] source = \"folder\" or "
                "\"ebms-core\")", where))
        if self.truncated:
            out.append(warning(
                "health.missed_truncated",
                f"_zoek returned more than {len(self.found)} verzoeken between {self.van} and "
                f"{self.tot}; only those were compared",
                "lower [health] missed_days so one run covers all of them", where))
        out.append(info(
            "health.missed_summary",
            f"{len(self.found)} verzoek(en) between {self.van} and {self.tot}, "
            f"{len(self.missed)} not seen, {len(self.undecided)} undecided", "", where))
        return out


class SharedSearch:
    """The ``_zoek`` results of one run, searched once per caller.

    DSO-LV answers ``_zoek`` for the caller: the party of the client certificate, or the OIN
    it acts for when an acting-OIN header is sent. Tenants that call as the same party (a
    leverancier's one certificate for many bevoegde gezagen) get the same hits, so those are
    fetched once and each tenant keeps its own. Thread-safe; a failed search is not kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[Hashable, tuple[Zaakverwijzing, ...]] = {}

    @staticmethod
    def caller_key(client: AfhandelenClient, vraag: ZoekVraag, max_pages: int) -> Hashable:
        """What decides the answer: where, as whom, and the question."""
        session = client.session
        identity = session.identity
        who = identity.certificate.fingerprint(hashes.SHA256()) if identity is not None else b""
        acting = session.acting_oin if session.config.acting_oin_header else None
        return (session.url("afhandelen.zoek"), who, acting, session.config.acting_oin_header,
                vraag, max_pages)

    def hits(
        self, client: AfhandelenClient, vraag: ZoekVraag, max_pages: int
    ) -> tuple[Zaakverwijzing, ...]:
        """Every page of ``vraag`` for ``client``'s caller (searched on first use)."""
        key = self.caller_key(client, vraag, max_pages)
        with self._lock:
            known = self._hits.get(key)
        if known is not None:
            return known
        found = client.zoek_alle(vraag, max_pages=max_pages)
        with self._lock:
            return self._hits.setdefault(key, found)


def missed_verzoeken(
    client: AfhandelenClient,
    tenant_oin: str,
    seen: Seen,
    *,
    days: int = DEFAULT_DAYS,
    today: dt.date | None = None,
    polygon: tuple[RdPunt, ...] = NL_RD_POLYGON,
    max_pages: int = MAX_PAGES,
    shared: SharedSearch | None = None,
) -> MissedReport:
    """Search the last ``days`` days for ``tenant_oin`` and report what ``seen`` does not know.

    Read-only (``_zoek`` is a POST that changes nothing). Raises the client's ``ApiError``
    when the search itself fails. With ``shared``, tenants that call as the same party share
    one search (see :class:`SharedSearch`).
    """
    if not 1 <= days <= 366:
        raise ValueError(f"days must be 1..366, not {days}")
    tot = today or dt.datetime.now(dt.UTC).date()
    van = tot - dt.timedelta(days=days)
    vraag = ZoekVraag(van, tot, polygoon=polygon, page_size=PAGE_SIZE)
    hits = (client.zoek_alle(vraag, max_pages=max_pages) if shared is None
            else shared.hits(client, vraag, max_pages))
    mine = [h for h in hits if tenant_oin in (h.bevoegd_gezag_oin, h.behandeldienst_oin)]
    unique = list(dict.fromkeys(h.verzoeknummer for h in mine))
    by_nummer = {h.verzoeknummer: h for h in mine}
    missed: list[GemistVerzoek] = []
    undecided: list[GemistVerzoek] = []
    for nr in unique:
        known = seen(nr)
        if known:
            continue
        item = GemistVerzoek(
            nr,
            tenant_oin,
            by_nummer[nr].bevoegd_gezag_oin,
            by_nummer[nr].behandeldienst_oin,
            client.session.url("afhandelen.samenvatting", verzoeknummer=nr),
        )
        (undecided if known is None else missed).append(item)
    return MissedReport(tenant_oin, van, tot, tuple(unique), tuple(missed),
                        truncated=len(hits) >= max_pages * PAGE_SIZE,
                        undecided=tuple(undecided))

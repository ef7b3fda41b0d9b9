"""The aansluitproces as data, the one model every part of pytest-dso uses: PRE in 4 parts
(14 steps), PROD in 7 steps, the mails to DSO-Beheer and how each step is proven.

Source: *Procesbeschrijving aansluiten op STAM-koppelvlak van DSO* v2.1 (DSO-Beheer, 28 October
2024), as summarised in aansluitproces.md §3–§5. Each :class:`Step` says who acts, what they do
(``action`` in English for test output, ``todo`` in Dutch for the evidence summary), what
evidence DSO-beheer expects (mail subject and attachment), whether it is about one bevoegd
gezag (``per_tenant``) and whether a harness run can prove it (``proof``: the kind of automated
evidence; empty for a manual step). Each :class:`Mail` names the steps it reports.

Users of the model: the suites (``@pytest.mark.dso_step(label)``), the step tests
(``suites/test_aansluitproces.py``), the Allure labels (:func:`allure_labels`: epic = the
environment's aansluitproces, feature = the part, story = the step), the ticket bundle and the
progress picture (:mod:`pytest_dso.evidence.progress`). How a run proves an automated step
(``proof``) is in :data:`pytest_dso.fixtures.proofs.PROOFS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pytest_dso.environments import PROD_TESTDATUM

MAIL_TO = "dso-beheer@rws.nl"
#: Placeholder for the ticket number in mail subjects.
TICKET = "<ticketnummer>"
_TESTDATUM = f"{PROD_TESTDATUM:%d-%m-%Y}"
#: Steps proven by this kind of evidence have a manual way too: a screenshot the user adds
#: (``dso-report add-screenshot``) when no ``dso_vth_check`` is configured.
SCREENSHOT_PROOFS = frozenset({"vth"})

_LABEL_RE = re.compile(r"^\s*(PRE|PROD)\s+(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """A part of the aansluitproces: PRE 1–4, or one of the 7 PROD steps."""

    env: str  # "pre" | "prod"
    number: str
    title: str

    @property
    def label(self) -> str:
        """``PRE 2`` or ``PROD 3``."""
        return f"{self.env.upper()} {self.number}"

    @property
    def feature(self) -> str:
        """The Allure feature: ``PRE 2 Digikoppeling realiseren``."""
        return f"{self.label} {self.title}"


@dataclass(frozen=True, repr=False)
class Step:
    """One step of the aansluitproces."""

    env: str  # "pre" | "prod"
    number: str  # "1.1" … "4.2" on PRE, "1" … "7" on PROD
    part: str  # the title of its part
    title: str
    actor: str
    action: str
    evidence: str
    mail_subject: str = ""
    proof: str = ""  # empty: manual; else which automated evidence proves it
    todo: str = ""  # what the user does, in Dutch (evidence summary)
    per_tenant: bool = False  # proven per bevoegd gezag / behandeldienst

    def __repr__(self) -> str:
        # Shown as the test parameter in reports: readable, no dataclass dump.
        return f"{self.label} {self.title}"

    @property
    def label(self) -> str:
        """The ``dso_step`` label, e.g. ``PRE 2.6`` or ``PROD 7``."""
        return f"{self.env.upper()} {self.number}"

    @property
    def part_number(self) -> str:
        """``2`` for PRE 2.6; the step number itself on PROD."""
        return self.number.split(".")[0]

    @property
    def automated(self) -> bool:
        """True when a harness run can prove the step."""
        return bool(self.proof)

    @property
    def screenshot_allowed(self) -> bool:
        """True when a screenshot added with ``dso-report add-screenshot`` proves it."""
        return self.proof in SCREENSHOT_PROOFS

    @property
    def story(self) -> str:
        """The Allure story: ``PRE 2.6 Technisch testen (Ping/Pong)``."""
        return f"{self.label} {self.title}"

    def subject(self, ticket: str | None) -> str:
        """The mail subject with the ticket number filled in (placeholder when unknown)."""
        return self.mail_subject.replace(TICKET, ticket or TICKET)


PRE_PARTS: tuple[Part, ...] = (
    Part("pre", "1", "Aanmelden voor aansluiten"),
    Part("pre", "2", "Digikoppeling realiseren"),
    Part("pre", "3", "Triggerbericht ontvangen"),
    Part("pre", "4", "Vergunningaanvraag ophalen en gereedmelden"),
)
_PRE_TITLES = {p.number: p.title for p in PRE_PARTS}


def _pre(number: str, title: str, actor: str, action: str, evidence: str, todo: str,
         subject: str = "", proof: str = "", per_tenant: bool = False) -> Step:
    return Step("pre", number, _PRE_TITLES[number.split(".")[0]], title, actor, action, evidence,
                subject, proof, todo, per_tenant)


PRE_STEPS: tuple[Step, ...] = (
    _pre("1.1", "Verzoek tot aansluiten", "leverancier of bevoegd gezag",
         f"Mail {MAIL_TO} at least 4 weeks before the aansluitdatum; you receive the "
         "ticketnummer used in every later mail.",
         "the ticketnummer (pass it with --dso-ticket)",
         f"Mail {MAIL_TO} uiterlijk 4 weken voor de aansluitdatum; u krijgt het ticketnummer.",
         "aanmelden voor aansluiten STAM PRE-omgeving"),
    _pre("1.2", "Gegevens aanleveren", "leverancier",
         "Send the filled-in Excel 'Aanvragen Mandateringen STAM' (OINs of bevoegd gezag, "
         "leverancier and Digikoppelaar, contacts; tick 'remove old mandates' on a change of "
         "leverancier).",
         "the mandate Excel",
         "Stuur de ingevulde Excel 'Aanvragen Mandateringen STAM' (OIN's en contactgegevens).",
         f"{TICKET}: gegevens aansluiten DSO"),
    _pre("2.1", "Machtigen", "bevoegd gezag",
         "In the CPA-register (https://cparegister.nl/) click 'Providers toevoegen/verwijderen' "
         "and machtig the Digikoppelaar or leverancier, at least 1 week before.",
         "confirmation from the bevoegd gezag",
         "Het bevoegd gezag machtigt de Digikoppelaar in het CPA-register (knop 'Providers "
         "toevoegen/verwijderen'), uiterlijk 1 week voor de aansluitdatum."),
    _pre("2.2", "Mandateren", "DSO-beheer",
         "DSO mandates the Digikoppelaar/leverancier for the APIs, based on the Excel.",
         "confirmation from DSO-beheer",
         "DSO-Beheer mandateert de Digikoppelaar op basis van de Excel; wacht op de bevestiging."),
    _pre("2.3", "CPA aanmaken", "Digikoppelaar",
         "Create the STAM CPA in the CPA-register (PRE spec 348 / server_participant 3870).",
         "the CPA file (checked by the CPA suite)",
         "Maak de STAM-CPA in het CPA-register (PRE: specificatie 348, server_participant "
         "3870) en zet het pad in [ebms] cpa.", proof="cpa"),
    _pre("2.4", "CPA inladen", "Digikoppelaar",
         "Offer the CPA to DSO-LV through the REST API with the PKIoverheid certificate.",
         "the CPA aanbieden response",
         "Bied de CPA via de REST API (CPA aanbieden) aan met het PKIoverheid-certificaat.",
         proof="cpa_aanbieden"),
    _pre("2.5", "IP whitelisten", "Digikoppelaar",
         "Allow the DSO egress addresses as sources on the adapter's inbound firewall and the "
         "ingress addresses as destinations.",
         "the whitelist check and a received Pong or trigger from a DSO egress address",
         "Sta de egress-adressen van DSO toe op de inkomende firewall en de ingress-adressen "
         "voor uitgaand verkeer.", proof="whitelist"),
    _pre("2.6", "Technisch testen (Ping/Pong)", "Digikoppelaar",
         "An ebMS Ping/Pong proves the connection works without firewall blocks.",
         "the ping exchange (CPAId, MessageId, RefToMessageId)",
         "Voer de ebMS Ping/Pong uit (suites/test_pingpong.py).", proof="pingpong"),
    _pre("2.7", "Gereedmelden", "Digikoppelaar of leverancier",
         "Report the successful Ping/Pong to DSO-beheer (may be combined with step 4.2 when the "
         "whole connection took a week or less).",
         "the ping evidence of step 2.6",
         "Verstuur de mail 'pingpong geslaagd' zodra PRE 2.3 tot en met 2.6 zijn aangetoond.",
         f"{TICKET}: pingpong geslaagd"),
    _pre("3.1", "Inloggen", "leverancier",
         "Log in at https://pre.omgevingswet.overheid.nl/ with eHerkenning or an Omgevingsloket "
         "ID.",
         "none (a login; in local mode the simulator's indienen API stands in)",
         "Log in op https://pre.omgevingswet.overheid.nl/ met eHerkenning of een "
         "Omgevingsloket ID.", per_tenant=True),
    _pre("3.2", "Melding of informatie indienen", "leverancier",
         "Submit the aansluitactiviteit for the tenant's type as 'Definitief verzoek'.",
         "the verzoeknummer of the submission",
         "Dien de aansluitactiviteit van het bevoegd gezag in als 'Definitief verzoek' en geef "
         "het verzoeknummer mee met --dso-verzoeknummer.", proof="submission", per_tenant=True),
    _pre("3.3", "Triggerbericht checken", "Digikoppelaar, daarna leverancier",
         "The verzoeknotificatie arrives in the adapter and is passed to the application.",
         "the received trigger with its verzoeknummer and time",
         "Controleer dat de verzoeknotificatie in de adapter en de applicatie aankomt.",
         proof="trigger", per_tenant=True),
    _pre("4.1", "Ophalen testen", "leverancier of Digikoppelaar",
         "Fetch the verzoek by verzoeknummer through the REST API and deliver it to the VTH- "
         "or zaaksysteem of the bevoegd gezag or behandeldienst.",
         "the fetched referenties, STAM XML, bijlagen and PDF",
         "Haal het verzoek op met het verzoeknummer via de REST API.", proof="ophalen",
         per_tenant=True),
    _pre("4.2", "Schermafdruk aanleveren", "leverancier, behandeldienst of bevoegd gezag",
         "Mail a screenshot of the melding or informatie as read into the VTH- or zaaksysteem.",
         "screenshot of the verzoek in the VTH system (the dso_vth_check outcome supports it)",
         "Maak een schermafdruk van het ingelezen verzoek in het VTH- of zaaksysteem en voeg "
         "hem toe: dso-report add-screenshot --ticket <ticketnummer> --step 'PRE 4.2' "
         "--tenant <OIN> <bestand.png> (of configureer dso_vth_check).",
         f"{TICKET}: ophalen vergunning gereed.", proof="vth", per_tenant=True),
)

PROD_PARTS: tuple[Part, ...] = (
    Part("prod", "1", "Aanmelden"),
    Part("prod", "2", "API-key aanvragen"),
    Part("prod", "3", "Digikoppeling realiseren"),
    Part("prod", "4", "Verzoek aanmaken"),
    Part("prod", "5", "Triggerbericht ontvangen"),
    Part("prod", "6", "Verzoek ophalen"),
    Part("prod", "7", "Bevestigen"),
)
_PROD_TITLES = {p.number: p.title for p in PROD_PARTS}


def _prod(number: str, actor: str, action: str, evidence: str, todo: str,
          subject: str = "", proof: str = "", per_tenant: bool = False) -> Step:
    title = _PROD_TITLES[number]
    return Step("prod", number, title, title, actor, action, evidence, subject, proof, todo,
                per_tenant)


PROD_STEPS: tuple[Step, ...] = (
    _prod("1", "leverancier of bevoegd gezag",
          "Ask DSO-beheer to copy the PRE mandates to PROD (for a behandeldienst also the "
          "routing of 'Informatie' to it). PRE must be fully done first.",
          "the new PROD ticketnummer",
          "Vraag DSO-Beheer de PRE-mandaten naar PROD over te zetten; u krijgt een nieuw "
          "ticketnummer.", "aansluiten STAM-koppelvlak productie"),
    _prod("2", "leverancier",
          "Request the PROD API key in the Ontwikkelaarsportaal; it works immediately.",
          "an API key in the environment variable named by [api] api_key_env",
          "Vraag de PROD API-key aan in het Ontwikkelaarsportaal en zet hem in de variabele van "
          "[api] api_key_env."),
    _prod("3", "Digikoppelaar, leverancier of BG",
          "New PROD CPA (spec 357 / server_participant 4046), CPA inladen, IP whitelisten, "
          "Ping/Pong, then mail the ping evidence.",
          "a screenshot of the successful Ping/Pong",
          "Nieuwe PROD-CPA (specificatie 357, server_participant 4046), inladen, whitelisten en "
          "Ping/Pong; mail daarna het bewijs.", f"{TICKET}: ping pong test", proof="pingpong"),
    _prod("4", "leverancier",
          "In the Omgevingsloket (beheerportaal, tab 'Aansluiten' or 'Aanvragen', eHerkenning "
          f"for production) set testdatum {_TESTDATUM} and submit the aansluitactiviteit.",
          "the verzoeknummer of the submission",
          f"Dien in het Omgevingsloket (testdatum {_TESTDATUM}) de aansluitactiviteit in en geef "
          "het verzoeknummer mee met --dso-verzoeknummer.", proof="submission", per_tenant=True),
    _prod("5", "Digikoppelaar, daarna leverancier",
          "As PRE 3.3.", "the received trigger",
          "Controleer dat de verzoeknotificatie in de adapter en de applicatie aankomt.",
          proof="trigger", per_tenant=True),
    _prod("6", "leverancier of Digikoppelaar",
          "Fetch by verzoeknummer; the melding or informatie must be visible in the VTH- or "
          "zaaksysteem, and the bevoegd gezag checks it.",
          "the fetched verzoek",
          "Haal het verzoek op met het verzoeknummer via de REST API.", proof="ophalen",
          per_tenant=True),
    _prod("7", "leverancier, behandelaar of bevoegd gezag",
          "Mail a screenshot of the verzoek as read in; it must clearly show PROD and which "
          "bevoegd gezag or behandelaar, and the mail states the verzoeknummer.",
          "screenshot showing PROD and the BG/BD, plus the verzoeknummer",
          "Maak een schermafdruk waarop PROD en het bevoegd gezag te zien zijn en voeg hem toe: "
          "dso-report add-screenshot --ticket <ticketnummer> --step 'PROD 7' --tenant <OIN> "
          "<bestand.png>.", f"{TICKET}: verzoek ophalen gereed", proof="vth", per_tenant=True),
)

STEPS: Mapping[str, tuple[Step, ...]] = MappingProxyType({"pre": PRE_STEPS, "prod": PROD_STEPS})
PARTS: Mapping[str, tuple[Part, ...]] = MappingProxyType({"pre": PRE_PARTS, "prod": PROD_PARTS})


@dataclass(frozen=True)
class Mail:
    """A mail to DSO-Beheer that reports evidence: sent as step ``step``, ready only when every
    step in ``reports`` is proven (per tenant for per-tenant steps)."""

    step: str  # the label of the step that is this mail, e.g. "PRE 2.7"
    reports: tuple[str, ...]  # the labels of the steps it reports
    attach: str  # what to attach, in Dutch
    intro: str  # the first sentence, in Dutch

    @property
    def env(self) -> str:
        """``pre`` or ``prod``."""
        return self.step.split()[0].lower()

    def subject(self, ticket: str | None) -> str:
        """The mail subject, from the step's ``mail_subject``."""
        return step(self.step).subject(ticket)


MAILS: tuple[Mail, ...] = (
    Mail("PRE 2.7", ("PRE 2.3", "PRE 2.4", "PRE 2.5", "PRE 2.6"),
         "Het bewijs van de ebMS Ping/Pong (CPAId, MessageId, RefToMessageId, tijdstip).",
         "Hierbij melden wij dat de ebMS ping-pong op de PRE-omgeving is geslaagd."),
    Mail("PRE 4.2", ("PRE 3.2", "PRE 3.3", "PRE 4.1", "PRE 4.2"),
         "Een schermafdruk van de melding of informatie zoals ingelezen in het VTH- of "
         "zaaksysteem.",
         "Hierbij melden wij dat het ophalen van de vergunningaanvraag op de PRE-omgeving is "
         "gelukt."),
    Mail("PROD 3", ("PROD 3",),
         "Een schermafdruk waarop te zien is dat de ping pong is geslaagd.",
         "Hierbij sturen wij het bewijs van de geslaagde ping pong test op de productieomgeving."),
    Mail("PROD 7", ("PROD 4", "PROD 5", "PROD 6", "PROD 7"),
         "Een schermafdruk van de ingelezen 'Melding' of 'Informatie' waarop duidelijk PROD en "
         "het bevoegd gezag of de behandelaar te zien is; het verzoeknummer staat in de mail.",
         "Hierbij melden wij dat het ophalen van het verzoek op de productieomgeving is gelukt."),
)


def process_of(env: str) -> str:
    """The aansluitproces a run of ``env`` gives evidence for: ``prod`` for PROD, else ``pre``
    (a local run rehearses PRE)."""
    return "prod" if env.lower() == "prod" else "pre"


def steps_for(env: str) -> tuple[Step, ...]:
    """The steps of ``env`` (``pre`` or ``prod``; ``local`` rehearses PRE)."""
    return STEPS[process_of(env)]


def parts_for(env: str) -> tuple[Part, ...]:
    """The parts of ``env`` (PRE 1–4, or the 7 PROD steps)."""
    return PARTS[process_of(env)]


def mails_for(env: str) -> tuple[Mail, ...]:
    """The evidence mails of ``env``'s aansluitproces."""
    process = process_of(env)
    return tuple(m for m in MAILS if m.env == process)


def steps_of(part: Part) -> tuple[Step, ...]:
    """The steps of ``part``."""
    return tuple(s for s in STEPS[part.env] if s.part_number == part.number)


def part_of(item: Step) -> Part:
    """The part ``item`` belongs to."""
    return next(p for p in PARTS[item.env] if p.number == item.part_number)


def epic(env: str) -> str:
    """The Allure epic of a run of ``env``: its aansluitproces."""
    return f"Aansluitproces STAM {process_of(env).upper()}"


def normalise(label: str) -> str | None:
    """``PRE 2.6`` for ``" pre  2.6 "``; ``None`` when ``label`` is no step label."""
    match = _LABEL_RE.match(label or "")
    return f"{match.group(1).upper()} {match.group(2)}" if match else None


def find(label: str) -> Step | None:
    """The step with ``label``, or ``None``."""
    wanted = normalise(label)
    return next((s for s in (*PRE_STEPS, *PROD_STEPS) if s.label == wanted), None)


def step(label: str) -> Step:
    """The step with ``label`` (``PRE 2.6``, ``PROD 7``); ``KeyError`` with the known labels."""
    found = find(label)
    if found is None:
        known = ", ".join(s.label for s in (*PRE_STEPS, *PROD_STEPS))
        raise KeyError(f"unknown aansluitproces step {label!r}; known: {known}")
    return found


def label_for(env: str, proof: str) -> str:
    """The step label of the first step in ``env`` proved by ``proof`` (e.g. ``trigger``)."""
    for item in steps_for(env):
        if item.proof == proof:
            return item.label
    raise KeyError(f"no step in {env} is proved by {proof!r}")


def allure_labels(env: str, labels: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """The Allure ``(name, value)`` labels for a test marked with step ``labels`` in a run of
    ``env``: epic, feature and story for each step of the run's aansluitproces (steps of the
    other environment get none: a PRE run proves no PROD step)."""
    process = process_of(env)
    out: list[tuple[str, str]] = []
    for label in labels:
        item = find(label)
        if item is None or item.env != process:
            continue
        for pair in (("epic", epic(env)), ("feature", part_of(item).feature),
                     ("story", item.story)):
            if pair not in out:
                out.append(pair)
    return out

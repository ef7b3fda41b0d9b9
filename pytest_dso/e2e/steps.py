"""The aansluitproces as data: PRE in 4 parts (14 steps) and PROD in 7 steps.

Source: *Procesbeschrijving aansluiten op STAM-koppelvlak van DSO* v2.1 (DSO-Beheer, 28 October
2024), as summarised in aansluitproces.md §3–§5. Each step says who acts, what they do, what
evidence DSO-beheer expects (mail subject and attachment), and whether a harness run can prove
it (``proof``: the kind of automated evidence) or it stays a manual step.

The ``label`` is what tests put in ``@pytest.mark.dso_step(...)`` (the Allure label and the
evidence bundle read it). How a run proves an automated step (``proof``) is in
:data:`pytest_dso.e2e.proofs.PROOFS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

MAIL_TO = "dso-beheer@rws.nl"


@dataclass(frozen=True)
class Step:
    """One step of the aansluitproces."""

    env: str  # "pre" | "prod"
    number: str  # "1.1" … "4.2" on PRE, "1" … "7" on PROD
    part: str  # PRE part title, or "technisch"/"functioneel" on PROD
    title: str
    actor: str
    action: str
    evidence: str
    mail_subject: str = ""
    proof: str = ""  # empty: manual; else which automated evidence proves it

    @property
    def label(self) -> str:
        """The ``dso_step`` label, e.g. ``PRE 2.6`` or ``PROD 7``."""
        return f"{self.env.upper()} {self.number}"

    @property
    def automated(self) -> bool:
        """True when a harness run can prove the step."""
        return bool(self.proof)

    def subject(self, ticket: str | None) -> str:
        """The mail subject with the ticket number filled in (placeholder when unknown)."""
        return self.mail_subject.replace("<ticketnummer>", ticket or "<ticketnummer>")


_PRE_PARTS = {
    "1": "Aanmelden voor aansluiten",
    "2": "Digikoppeling realiseren",
    "3": "Triggerbericht ontvangen",
    "4": "Vergunningaanvraag ophalen en gereedmelden",
}


def _pre(number: str, title: str, actor: str, action: str, evidence: str, subject: str = "",
         proof: str = "") -> Step:
    return Step("pre", number, _PRE_PARTS[number.split(".")[0]], title, actor, action, evidence,
                subject, proof)


PRE_STEPS: tuple[Step, ...] = (
    _pre("1.1", "Verzoek tot aansluiten", "leverancier of bevoegd gezag",
         f"Mail {MAIL_TO} at least 4 weeks before the aansluitdatum; you receive the "
         "ticketnummer used in every later mail.",
         "the ticketnummer (pass it with --dso-ticket)",
         "aanmelden voor aansluiten STAM PRE-omgeving"),
    _pre("1.2", "Gegevens aanleveren", "leverancier",
         "Send the filled-in Excel 'Aanvragen Mandateringen STAM' (OINs of bevoegd gezag, "
         "leverancier and Digikoppelaar, contacts; tick 'remove old mandates' on a change of "
         "leverancier).",
         "the mandate Excel", "<ticketnummer>: gegevens aansluiten DSO"),
    _pre("2.1", "Machtigen", "bevoegd gezag",
         "In the CPA-register (https://cparegister.nl/) click 'Providers toevoegen/verwijderen' "
         "and machtig the Digikoppelaar or leverancier, at least 1 week before.",
         "confirmation from the bevoegd gezag"),
    _pre("2.2", "Mandateren", "DSO-beheer",
         "DSO mandates the Digikoppelaar/leverancier for the APIs, based on the Excel.",
         "confirmation from DSO-beheer"),
    _pre("2.3", "CPA aanmaken", "Digikoppelaar",
         "Create the STAM CPA in the CPA-register (PRE spec 348 / server_participant 3870).",
         "the CPA file (checked by the CPA suite)", proof="cpa"),
    _pre("2.4", "CPA inladen", "Digikoppelaar",
         "Offer the CPA to DSO-LV through the REST API with the PKIoverheid certificate.",
         "the CPA aanbieden response", proof="cpa_aanbieden"),
    _pre("2.5", "IP whitelisten", "Digikoppelaar",
         "Allow the DSO egress addresses as sources on the adapter's inbound firewall and the "
         "ingress addresses as destinations.",
         "the whitelist check and a received Pong or trigger from a DSO egress address",
         proof="whitelist"),
    _pre("2.6", "Technisch testen (Ping/Pong)", "Digikoppelaar",
         "An ebMS Ping/Pong proves the connection works without firewall blocks.",
         "the ping exchange (CPAId, MessageId, RefToMessageId)", proof="pingpong"),
    _pre("2.7", "Gereedmelden", "Digikoppelaar of leverancier",
         "Report the successful Ping/Pong to DSO-beheer (may be combined with step 4.2 when the "
         "whole connection took a week or less).",
         "the ping evidence of step 2.6", "<ticketnummer>: pingpong geslaagd"),
    _pre("3.1", "Inloggen", "leverancier",
         "Log in at https://pre.omgevingswet.overheid.nl/ with eHerkenning or an Omgevingsloket "
         "ID.",
         "none (a login; in local mode the simulator's indienen API stands in)"),
    _pre("3.2", "Melding of informatie indienen", "leverancier",
         "Submit the aansluitactiviteit for the tenant's type as 'Definitief verzoek'.",
         "the verzoeknummer of the submission", proof="submission"),
    _pre("3.3", "Triggerbericht checken", "Digikoppelaar, then leverancier",
         "The verzoeknotificatie arrives in the adapter and is passed to the application.",
         "the received trigger with its verzoeknummer and time", proof="trigger"),
    _pre("4.1", "Ophalen testen", "leverancier of Digikoppelaar",
         "Fetch the verzoek by verzoeknummer through the REST API and deliver it to the VTH- "
         "or zaaksysteem of the bevoegd gezag or behandeldienst.",
         "the fetched referenties, STAM XML, bijlagen and PDF", proof="ophalen"),
    _pre("4.2", "Schermafdruk aanleveren", "leverancier, behandeldienst of bevoegd gezag",
         "Mail a screenshot of the melding or informatie as read into the VTH- or zaaksysteem.",
         "screenshot of the verzoek in the VTH system (the dso_vth_check outcome supports it)",
         "<ticketnummer>: ophalen vergunning gereed.", proof="vth"),
)


def _prod(number: str, part: str, title: str, actor: str, action: str, evidence: str,
          subject: str = "", proof: str = "") -> Step:
    return Step("prod", number, part, title, actor, action, evidence, subject, proof)


PROD_STEPS: tuple[Step, ...] = (
    _prod("1", "technisch", "Aanmelden", "leverancier of bevoegd gezag",
          "Ask DSO-beheer to copy the PRE mandates to PROD (for a behandeldienst also the "
          "routing of 'Informatie' to it). PRE must be fully done first.",
          "the new PROD ticketnummer", "aansluiten STAM-koppelvlak productie"),
    _prod("2", "technisch", "API-key aanvragen", "leverancier",
          "Request the PROD API key in the Ontwikkelaarsportaal; it works immediately.",
          "an API key in the environment variable named by [api] api_key_env"),
    _prod("3", "technisch", "Digikoppeling realiseren", "Digikoppelaar, leverancier of BG",
          "New PROD CPA (spec 357 / server_participant 4046), CPA inladen, IP whitelisten, "
          "Ping/Pong, then mail the ping evidence.",
          "a screenshot of the successful Ping/Pong", "<ticketnummer>: ping pong test",
          proof="pingpong"),
    _prod("4", "functioneel", "Verzoek aanmaken", "leverancier",
          "In the Omgevingsloket (beheerportaal, tab 'Aansluiten' or 'Aanvragen', eHerkenning "
          "for production) set testdatum 01-01-2030 and submit the aansluitactiviteit.",
          "the verzoeknummer of the submission", proof="submission"),
    _prod("5", "functioneel", "Triggerbericht ontvangen", "Digikoppelaar, then leverancier",
          "As PRE 3.3.", "the received trigger", proof="trigger"),
    _prod("6", "functioneel", "Verzoek ophalen", "leverancier of Digikoppelaar",
          "Fetch by verzoeknummer; the melding or informatie must be visible in the VTH- or "
          "zaaksysteem, and the bevoegd gezag checks it.",
          "the fetched verzoek", proof="ophalen"),
    _prod("7", "functioneel", "Bevestigen", "leverancier, behandelaar of bevoegd gezag",
          "Mail a screenshot of the verzoek as read in; it must clearly show PROD and which "
          "bevoegd gezag or behandelaar, and the mail states the verzoeknummer.",
          "screenshot showing PROD and the BG/BD, plus the verzoeknummer",
          "<ticketnummer>: verzoek ophalen gereed", proof="vth"),
)

STEPS: Mapping[str, tuple[Step, ...]] = MappingProxyType({"pre": PRE_STEPS, "prod": PROD_STEPS})


def steps_for(env: str) -> tuple[Step, ...]:
    """The steps of ``env`` (``pre`` or ``prod``; ``local`` rehearses PRE)."""
    return STEPS["prod" if env == "prod" else "pre"]


def step(label: str) -> Step:
    """The step with ``label`` (``PRE 2.6``, ``PROD 7``); ``KeyError`` with the known labels."""
    wanted = " ".join(label.split()).upper()
    for item in (*PRE_STEPS, *PROD_STEPS):
        if item.label == wanted:
            return item
    known = ", ".join(s.label for s in (*PRE_STEPS, *PROD_STEPS))
    raise KeyError(f"unknown aansluitproces step {label!r}; known: {known}")


def label_for(env: str, proof: str) -> str:
    """The step label of the first step in ``env`` proved by ``proof`` (e.g. ``trigger``)."""
    for item in steps_for(env):
        if item.proof == proof:
            return item.label
    raise KeyError(f"no step in {env} is proved by {proof!r}")

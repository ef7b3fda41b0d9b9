"""``manual``: the verzoeknummer a person read from the adapter or the VTH system.

``--dso-verzoeknummer`` takes one verzoeknummer (when the run covers one tenant) or a list of
``OIN=NUMMER`` pairs separated by commas (one per tenant), e.g.
``--dso-verzoeknummer 00000001001234567000=2025030100001,00000001009876543000=2025030100002``.
Nothing is observed: :meth:`ManualTriggerSource.wait_for` never blocks and never finds.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_dso.triggers.base import LoggingSource, Trigger, TriggerTimeout


class ManualInputError(ValueError):
    """``--dso-verzoeknummer`` cannot be read; the message shows the accepted forms."""


def parse_manual(text: str | None) -> dict[str | None, str]:
    """``"2024…"`` → ``{None: "2024…"}``; ``"OIN=NR,OIN=NR"`` → ``{OIN: NR, …}``."""
    if text is None or not text.strip():
        return {}
    items = [i.strip() for i in text.split(",") if i.strip()]
    if len(items) == 1 and "=" not in items[0]:
        return {None: items[0]}
    result: dict[str | None, str] = {}
    for item in items:
        oin, sep, nummer = item.partition("=")
        if not sep or not oin.strip() or not nummer.strip():
            raise ManualInputError(
                f"--dso-verzoeknummer item {item!r} is not OIN=NUMMER; give one verzoeknummer, "
                "or OIN=NUMMER pairs separated by commas"
            )
        result[oin.strip()] = nummer.strip()
    return result


class ManualTriggerSource(LoggingSource):
    """Verzoeknummers typed in by a person; see the module docstring.

    A verzoeknummer given by hand proves that a verzoek was **submitted**, never that its
    verzoeknotificatie was received: this source observes nothing (``observes`` is false), its
    log stays empty and :meth:`wait_for` raises at once. The flow then fetches the verzoek with
    the given number and leaves "Triggerbericht ontvangen" to the Digikoppelaar (manual).
    """

    name = "manual"
    #: This source sees no verzoeknotificatie itself.
    observes = False

    def __init__(self, verzoeknummers: Mapping[str | None, str] | None = None) -> None:
        super().__init__()
        self.given = dict(verzoeknummers or {})

    def for_tenant(self, oin: str, only_tenant: bool) -> str | None:
        """The verzoeknummer given for tenant ``oin`` (a bare number counts for the only one)."""
        if oin in self.given:
            return self.given[oin]
        if None in self.given and only_tenant:
            return self.given[None]
        return None

    def wait_for(
        self, verzoeknummer: str, timeout: float, *, recipient_oin: str | None = None
    ) -> Trigger:
        """Never waits and never finds: nothing is observed."""
        raise TriggerTimeout(
            verzoeknummer, 0.0, self.name, (),
            "the manual source observes no verzoeknotificatie; a verzoeknummer given with "
            "--dso-verzoeknummer proves the submission only",
        )

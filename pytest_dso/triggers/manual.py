"""``manual``: the verzoeknummer a person read from the adapter or the VTH system.

``--dso-verzoeknummer`` takes one verzoeknummer (when the run covers one tenant) or a list of
``OIN=NUMMER`` pairs separated by commas (one per tenant). Nothing is observed, so
:meth:`ManualTriggerSource.wait_for` never blocks: the verzoeknummer was given or it was not.
In local mode the automatic submission can hand its verzoeknummer over with
:meth:`ManualTriggerSource.provide`, standing in for the person.
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
    """Triggers typed in by a person; see the module docstring."""

    name = "manual"

    def __init__(self, verzoeknummers: Mapping[str | None, str] | None = None) -> None:
        super().__init__()
        self.given = dict(verzoeknummers or {})
        self._started = False

    def start(self) -> None:
        """Record the given verzoeknummers as triggers (once)."""
        if self._started:
            return
        self._started = True
        for oin, nummer in self.given.items():
            self.log.record(nummer.encode(), verzoeknummer=nummer, recipient_oin=oin,
                            location="--dso-verzoeknummer")

    def for_tenant(self, oin: str, only_tenant: bool) -> str | None:
        """The verzoeknummer given for tenant ``oin`` (a bare number counts for the only one)."""
        if oin in self.given:
            return self.given[oin]
        if None in self.given and only_tenant:
            return self.given[None]
        return None

    def provide(self, verzoeknummer: str, recipient_oin: str | None = None) -> Trigger:
        """Record ``verzoeknummer`` as entered (local mode: from the automatic submission)."""
        return self.log.record(verzoeknummer.encode(), verzoeknummer=verzoeknummer,
                               recipient_oin=recipient_oin, location="entered")

    def wait_for(
        self, verzoeknummer: str, timeout: float, *, recipient_oin: str | None = None
    ) -> Trigger:
        """The trigger for ``verzoeknummer`` if it was given; never waits."""
        try:
            return self.log.wait_for(verzoeknummer, 0.0, recipient_oin=recipient_oin)
        except TriggerTimeout as exc:
            raise TriggerTimeout(
                verzoeknummer, 0.0, self.name, exc.others,
                "the manual source only knows the verzoeknummer given with --dso-verzoeknummer",
            ) from None

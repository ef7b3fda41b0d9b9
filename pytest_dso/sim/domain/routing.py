"""Behandeldienstconfiguratie: routing a verzoek to exactly one behandeldienst.

Rules [C] (*Procesbeschrijving koppelen behandeldienst aan activiteit*): a bevoegd gezag
couples a behandeldienst to an activiteit; **activiteit + bevoegd gezag + toestemming +
locatie lead to exactly one behandeldienst**; toestemming and locatie are optional, and when
omitted the configuration covers every toestemming and the whole area. A verzoek that no
configuration covers stays with the bevoegd gezag itself. The simulator routes on this key
only, never on the content of the verzoek (aansluitproces §11, vraagstuk 1).

Two configurations of the same bevoegd gezag and activiteit **overlap** when some
(toestemming, locatie) matches both: their toestemmingen are equal or either is absent, and
their locatie sets intersect or either is empty. :class:`RoutingTable` refuses to create an
overlapping configuration, which keeps "exactly one" true; :func:`lint_configurations`
reports overlaps and gaps in a set read from somewhere else (e.g. PRE).

The value types live in :mod:`pytest_dso.dso.shapes` (shared with the REST clients) and are
re-exported here.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import combinations
from typing import Protocol

from pytest_dso.dso.shapes import ActiviteitRef, BehandeldienstConfiguratie, Toestemming
from pytest_dso.findings import Finding, error, warning

__all__ = [
    "ActiviteitRef",
    "BehandeldienstConfiguratie",
    "ConfiguratieNotFoundError",
    "ConfiguratieStore",
    "InvalidConfiguratieError",
    "RoutingConflictError",
    "RoutingTable",
    "Toestemming",
    "covers",
    "lint_configurations",
    "overlaps",
]


class InvalidConfiguratieError(ValueError):
    """A configuration is wrong on its own (e.g. a bevoegd gezag routing to itself)."""


class RoutingConflictError(ValueError):
    """Creating the configuration would break "exactly one behandeldienst"."""

    def __init__(
        self, new: BehandeldienstConfiguratie, existing: Sequence[BehandeldienstConfiguratie]
    ) -> None:
        self.new = new
        self.existing = tuple(existing)
        listed = "; ".join(c.describe() for c in existing)
        super().__init__(
            f"{new.describe()} overlaps existing configuration(s): {listed}. Activiteit + "
            "bevoegd gezag + toestemming + locatie must lead to exactly one behandeldienst; "
            "narrow the toestemming or locaties, or delete the existing configuration first"
        )


class ConfiguratieNotFoundError(KeyError):
    """No configuration with that id."""

    def __str__(self) -> str:
        return f"no behandeldienstconfiguratie with id {self.args[0]!r}"


class ConfiguratieStore(Protocol):
    """Persistence for configurations (implemented by :class:`pytest_dso.sim.store.Store`)."""

    def put_configuratie(self, configuratie: BehandeldienstConfiguratie) -> None:
        """Insert or replace ``configuratie`` (by id)."""
        ...

    def delete_configuratie(self, configuratie_id: str) -> bool:
        """Delete by id; True when it existed."""
        ...

    def configuraties(self) -> Sequence[BehandeldienstConfiguratie]:
        """All stored configurations."""
        ...


def _same_key(a: BehandeldienstConfiguratie, b: BehandeldienstConfiguratie) -> bool:
    return a.oin == b.oin and a.activiteit == b.activiteit


def overlaps(a: BehandeldienstConfiguratie, b: BehandeldienstConfiguratie) -> bool:
    """True when some (toestemming, locatie) for the same BG and activiteit matches both."""
    if not _same_key(a, b):
        return False
    toestemming = (
        a.toestemming is None or b.toestemming is None or a.toestemming.code == b.toestemming.code
    )
    locatie = (
        not a.locatie_oins or not b.locatie_oins or bool(set(a.locatie_oins) & set(b.locatie_oins))
    )
    return toestemming and locatie


def _code(toestemming: Toestemming | str | None) -> str | None:
    if toestemming is None:
        return None
    return toestemming.code if isinstance(toestemming, Toestemming) else toestemming


def covers(
    configuratie: BehandeldienstConfiguratie,
    activiteit: ActiviteitRef | str,
    bg_oin: str,
    toestemming: Toestemming | str | None = None,
    locatie_oin: str | None = None,
) -> bool:
    """True when ``configuratie`` applies to this verzoek key.

    ``activiteit`` as a plain name matches any owning OIN. A verzoek without toestemming or
    locatie only matches configurations that leave that part open.
    """
    c = configuratie
    if c.oin != bg_oin:
        return False
    if isinstance(activiteit, ActiviteitRef):
        if c.activiteit != activiteit:
            return False
    elif c.activiteit.naam != activiteit:
        return False
    code = _code(toestemming)
    if c.toestemming is not None and c.toestemming.code != code:
        return False
    return not c.locatie_oins or (locatie_oin is not None and locatie_oin in c.locatie_oins)


def check_configuratie(configuratie: BehandeldienstConfiguratie) -> None:
    """Raise :class:`InvalidConfiguratieError` for a configuration that is wrong on its own."""
    if configuratie.behandeldienst_oin == configuratie.oin:
        raise InvalidConfiguratieError(
            f"{configuratie.describe()}: the behandeldienst is the bevoegd gezag itself; a "
            "verzoek without configuration already goes to the bevoegd gezag"
        )


class RoutingTable:
    """Thread-safe set of configurations with create/list/get/delete and :meth:`route`.

    With a ``store`` every change is written through and :meth:`from_store` reloads them.
    Configurations given to the constructor or loaded from a store are taken as they are
    (run :func:`lint_configurations` on them); :meth:`create` refuses overlaps.
    """

    def __init__(
        self,
        configuraties: Iterable[BehandeldienstConfiguratie] = (),
        *,
        store: ConfiguratieStore | None = None,
        id_factory: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._lock = threading.RLock()
        self._store = store
        self._new_id = id_factory
        self._items: dict[str, BehandeldienstConfiguratie] = {}
        for c in configuraties:
            stored = c if c.id else replace(c, id=self._new_id())
            self._items[stored.id] = stored

    @classmethod
    def from_store(cls, store: ConfiguratieStore) -> RoutingTable:
        """A table holding what ``store`` holds, writing changes back to it."""
        table = cls(store=store)
        for c in store.configuraties():
            table._items[c.id] = c
        return table

    def create(self, configuratie: BehandeldienstConfiguratie) -> BehandeldienstConfiguratie:
        """Store a new configuration and return it with its id.

        Raises :class:`InvalidConfiguratieError` or :class:`RoutingConflictError` (listing
        the configurations it overlaps) without changing anything.
        """
        check_configuratie(configuratie)
        with self._lock:
            clashes = [c for c in self._items.values() if overlaps(c, configuratie)]
            if clashes:
                raise RoutingConflictError(configuratie, clashes)
            stored = replace(configuratie, id=self._new_id())
            if self._store is not None:
                self._store.put_configuratie(stored)
            self._items[stored.id] = stored
            return stored

    def list(self, oin: str | None = None) -> tuple[BehandeldienstConfiguratie, ...]:
        """All configurations, or those of bevoegd gezag ``oin`` (or naming it as BD)."""
        with self._lock:
            items = tuple(self._items.values())
        if oin is None:
            return items
        return tuple(c for c in items if oin in (c.oin, c.behandeldienst_oin))

    def get(self, configuratie_id: str) -> BehandeldienstConfiguratie:
        """The configuration with ``configuratie_id``; :class:`ConfiguratieNotFoundError`."""
        with self._lock:
            try:
                return self._items[configuratie_id]
            except KeyError:
                raise ConfiguratieNotFoundError(configuratie_id) from None

    def delete(self, configuratie_id: str) -> BehandeldienstConfiguratie:
        """Remove and return a configuration; :class:`ConfiguratieNotFoundError`."""
        with self._lock:
            found = self.get(configuratie_id)
            if self._store is not None:
                self._store.delete_configuratie(configuratie_id)
            del self._items[configuratie_id]
            return found

    def match(
        self,
        activiteit: ActiviteitRef | str,
        bg_oin: str,
        toestemming: Toestemming | str | None = None,
        locatie_oin: str | None = None,
    ) -> BehandeldienstConfiguratie | None:
        """The configuration that applies, or ``None`` (the BG handles it itself)."""
        with self._lock:
            found = [
                c
                for c in self._items.values()
                if covers(c, activiteit, bg_oin, toestemming, locatie_oin)
            ]
        if len(found) > 1 and len({c.behandeldienst_oin for c in found}) > 1:
            # Only possible with configurations loaded from outside (create refuses overlaps).
            raise RoutingConflictError(found[0], found[1:])
        return found[0] if found else None

    def route(
        self,
        activiteit: ActiviteitRef | str,
        bg_oin: str,
        toestemming: Toestemming | str | None = None,
        locatie_oin: str | None = None,
    ) -> str | None:
        """The behandeldienst OIN for this key, or ``None`` when the BG handles it itself."""
        found = self.match(activiteit, bg_oin, toestemming, locatie_oin)
        return found.behandeldienst_oin if found else None


_ANY = "*"


def lint_configurations(
    configuraties: Sequence[BehandeldienstConfiguratie],
    *,
    locatie_oins: Sequence[str] = (),
    toestemmingen: Sequence[str] = (),
    expected_behandeldiensten: Mapping[str, Sequence[str]] | None = None,
) -> list[Finding]:
    """Findings about a set of configurations.

    - ``routing.self`` (ERROR): a configuration routes a BG to itself;
    - ``routing.overlap`` (ERROR): two configurations with different behandeldiensten match
      the same key, so "exactly one" is broken;
    - ``routing.duplicate`` (WARNING): overlapping configurations to the same behandeldienst;
    - ``routing.gap`` (WARNING): for a BG and activiteit, a (toestemming, locatie) combination
      that some configuration names, or that is given in ``toestemmingen`` (codes) /
      ``locatie_oins``, is covered by none; such verzoeken stay with the bevoegd gezag;
    - ``routing.behandeldienst_unconfigured`` / ``routing.behandeldienst_unexpected``
      (WARNING): compared with ``expected_behandeldiensten`` (BG OIN → BD OINs, e.g. from
      ``[[bevoegd_gezag]] behandeldiensten`` in dso.toml).
    """
    findings: list[Finding] = []
    for c in configuraties:
        try:
            check_configuratie(c)
        except InvalidConfiguratieError as exc:
            findings.append(
                error("routing.self", str(exc), "delete this configuration", c.id or c.oin)
            )
    for a, b in combinations(configuraties, 2):
        if not overlaps(a, b):
            continue
        if a.behandeldienst_oin != b.behandeldienst_oin:
            findings.append(
                error(
                    "routing.overlap",
                    f"{a.describe()} and {b.describe()} both match some verzoeken, so the "
                    "behandeldienst is not unique",
                    "give each a distinct toestemming or disjoint locatieOins, or delete one",
                    f"bevoegd gezag {a.oin}, activiteit {a.activiteit.naam!r}",
                )
            )
        else:
            findings.append(
                warning(
                    "routing.duplicate",
                    f"{a.describe()} and {b.describe()} overlap (same behandeldienst)",
                    "delete the redundant configuration",
                    f"bevoegd gezag {a.oin}, activiteit {a.activiteit.naam!r}",
                )
            )
    groups: dict[tuple[str, ActiviteitRef], list[BehandeldienstConfiguratie]] = {}
    for c in configuraties:
        groups.setdefault((c.oin, c.activiteit), []).append(c)
    for (bg, act), group in groups.items():
        codes = sorted({*toestemmingen, *(c.toestemming.code for c in group if c.toestemming)})
        places = sorted({*locatie_oins, *(oin for c in group for oin in c.locatie_oins)})
        missing = [
            (code, place)
            for code in codes or [_ANY]
            for place in places or [_ANY]
            if not any(
                covers(c, act, bg, None if code == _ANY else code, None if place == _ANY else place)
                for c in group
            )
        ]
        if missing:
            shown = ", ".join(
                f"(toestemming {'any' if t == _ANY else t}, locatie {'any' if p == _ANY else p})"
                for t, p in missing[:10]
            )
            findings.append(
                warning(
                    "routing.gap",
                    f"no behandeldienst for activiteit {act.naam!r} of {bg} at {shown}"
                    + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""),
                    "such verzoeken go to the bevoegd gezag itself; add a configuration if a "
                    "behandeldienst should handle them",
                    f"bevoegd gezag {bg}",
                )
            )
    for bg, wanted in (expected_behandeldiensten or {}).items():
        used = {c.behandeldienst_oin for c in configuraties if c.oin == bg}
        for bd in wanted:
            if bd not in used:
                findings.append(
                    warning(
                        "routing.behandeldienst_unconfigured",
                        f"behandeldienst {bd} is configured for {bg} in dso.toml but no "
                        "behandeldienstconfiguratie routes an activiteit to it",
                        "create a configuration (POST behandeldienstconfiguraties) or ask "
                        "DSO-beheer to move the aansluitactiviteit",
                        f"bevoegd gezag {bg}",
                    )
                )
        for bd in sorted(used - set(wanted)):
            findings.append(
                warning(
                    "routing.behandeldienst_unexpected",
                    f"activiteiten of {bg} are routed to {bd}, which dso.toml does not list as "
                    "its behandeldienst",
                    "add it to [[bevoegd_gezag]] behandeldiensten or delete the configuration",
                    f"bevoegd gezag {bg}",
                )
            )
    return findings

"""Options of one simulator run (ports, timing, API key, faults, tenants)."""

from __future__ import annotations

import dataclasses
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from pytest_dso.dsofile import DsoFile
from pytest_dso.sim.faults import Fault, parse_faults
from pytest_dso.tenants import Tenant, local_bevoegde_gezagen
from pytest_dso.transport.server import Limits


@dataclass(frozen=True)
class Quotas:
    """What one client can make the simulator's REST APIs hold: open concepts (in all, per
    client: its certificate OIN, else its address) and their lifetime (seconds), one uploaded
    document, the uploads per concept and in all (bytes), and a request body (bytes)."""

    max_concepts: int = 10_000
    max_concepts_per_client: int = 1_000
    concept_lifetime: float = 24 * 3600.0
    max_document: int = 20 * 1024 * 1024
    max_uploads_per_concept: int = 20
    max_concept_bytes: int = 100 * 1024 * 1024
    max_uploaded_bytes: int = 256 * 1024 * 1024
    max_body: int = 32 * 1024 * 1024


class LimitError(ValueError):
    """A ``[simulator.limits]`` entry or ``--limit`` that cannot be used; says which and why."""


#: Every name ``[simulator.limits]`` and ``dso-sim serve --limit`` take, and where it goes.
LIMIT_NAMES: Mapping[str, str] = MappingProxyType({
    **{f.name: "quotas" for f in dataclasses.fields(Quotas)},
    **{f.name: "limits" for f in dataclasses.fields(Limits)},
})


def parse_limits(values: Mapping[str, object], base_limits: Limits | None = None,
                 base_quotas: Quotas | None = None) -> tuple[Limits, Quotas]:
    """``[simulator.limits]`` (or ``--limit name=value``) as connection :class:`Limits` and
    REST :class:`Quotas`; :class:`LimitError` for an unknown name or a value that is not a
    positive finite number (whole where the default is)."""
    limits, quotas = base_limits or Limits(), base_quotas or Quotas()
    changes: dict[str, dict[str, object]] = {"limits": {}, "quotas": {}}
    for name, raw in values.items():
        target = LIMIT_NAMES.get(name)
        if target is None:
            raise LimitError(f"[simulator.limits] {name!r} is not a limit; known: "
                             + ", ".join(sorted(LIMIT_NAMES)))
        default = getattr(limits if target == "limits" else quotas, name)
        try:
            number = float(raw) if isinstance(raw, str) else raw
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise TypeError
            if not math.isfinite(number) or number <= 0 or number > 1e12:
                raise ValueError
            if isinstance(default, int) and float(number) != int(number):
                raise ValueError
        except (TypeError, ValueError):
            kind = "a whole number" if isinstance(default, int) else "a number of seconds"
            raise LimitError(f"[simulator.limits] {name} = {raw!r}: give {kind} above 0 "
                             f"(default {default})") from None
        changes[target][name] = int(number) if isinstance(default, int) else float(number)
    return (replace(limits, **changes["limits"]),  # type: ignore[arg-type]
            replace(quotas, **changes["quotas"]))  # type: ignore[arg-type]


#: Default scale for the CPA's RetryInterval: 1.0 means real time (a PT5M interval waits five
#: minutes). Tests use e.g. 0.001 so a PT5M interval becomes 0.3 s.
REAL_TIME = 1.0


@dataclass(frozen=True)
class SimOptions:
    """How one simulator runs. Frozen; derive variants with :meth:`with_changes`.

    ``retry_interval``/``retries``/``time_to_live`` override the CPA's reliable-messaging values
    (seconds); without them the CPA's values are used, multiplied by ``time_scale``.
    ``api_key`` protects the public APIs (``x-api-key``); when ``None`` a random key is made per
    run. ``control_key`` protects the simulator's own control API ``/_sim`` (header
    ``x-dso-sim-control-key``); it is never the public API key and, when ``None``, random per
    run. ``cpa`` is a CPA file to use instead of building one; ``dka_endpoint`` is the DKA's
    ebMS URL for a CPA the simulator builds. ``paths`` overrides REST path templates (same keys
    as ``[api.paths]``); ``acting_oin_header`` names the header that carries the OIN a mandated
    caller acts for (unknown in DSO-LV [?], off by default). ``indienen_version`` is the
    Verzoek indienen major version served (``"v5"``; ``"v4"`` is deprecated but selectable).
    ``verzoeknummer_share`` ``(index, count)``: this simulator's share of each day's sequence
    (see :class:`~pytest_dso.stam.verzoeknummer.VerzoeknummerAllocator`), so the simulators of
    one run (one per pytest-xdist worker) never hand out the same verzoeknummer.
    """

    host: str = "127.0.0.1"
    ebms_port: int = 0
    api_port: int = 0
    time_scale: float = REAL_TIME
    retry_interval: float | None = None
    retries: int | None = None
    time_to_live: float | None = None
    api_key: str | None = field(default=None, repr=False)
    control_key: str | None = field(default=None, repr=False)
    faults: tuple[Fault, ...] = ()
    cpa: Path | None = None
    dka_endpoint: str | None = None
    sync_reply: str = "none"
    bevoegde_gezagen: tuple[Tenant, ...] = field(
        default_factory=local_bevoegde_gezagen
    )
    paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    acting_oin_header: str | None = None
    send_timeout: float = 10.0
    workers: int = 16
    pong_delay: float = 0.0
    limits: Limits = field(default_factory=Limits)
    indienen_version: str = "v5"
    quotas: Quotas = field(default_factory=Quotas)
    verzoeknummer_share: tuple[int, int] = (0, 1)

    def with_changes(self, **changes: object) -> SimOptions:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def effective_api_key(self) -> str:
        """The configured API key, or a fresh random one (call once per run and keep it)."""
        return self.api_key or secrets.token_urlsafe(24)

    def effective_control_key(self, api_key: str) -> str:
        """The configured control key, or a fresh random one; never equal to ``api_key``."""
        key = self.control_key or secrets.token_urlsafe(24)
        return key if key != api_key else secrets.token_urlsafe(24)

    @classmethod
    def from_dso_file(cls, file: DsoFile, **changes: object) -> SimOptions:
        """Options from ``[simulator]``, ``[api]`` and ``[[bevoegd_gezag]]`` of a dso.toml."""
        sim = file.simulator
        limits, quotas = parse_limits(sim.limits)
        options = cls(
            limits=limits,
            quotas=quotas,
            host=sim.host,
            ebms_port=sim.ebms_port,
            api_port=sim.api_port,
            faults=parse_faults(dict(sim.faults)) if sim.faults else (),
            bevoegde_gezagen=file.bevoegde_gezagen or local_bevoegde_gezagen(),
            paths=MappingProxyType(dict(file.api.paths)),
            acting_oin_header=file.api.acting_oin_header,
            indienen_version=file.api.indienen_version,
        )
        return options.with_changes(**changes) if changes else options

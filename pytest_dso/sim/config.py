"""Options of one simulator run (ports, timing, API key, faults, tenants)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from pytest_dso.dsofile import DsoFile
from pytest_dso.sim.faults import Fault, parse_faults
from pytest_dso.tenants import Tenant, local_bevoegde_gezagen
from pytest_dso.transport.server import Limits

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
        options = cls(
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

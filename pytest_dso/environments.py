"""Environment profiles as data: PRE, PROD and the local simulator.

Sources: DSO's *Procesbeschrijving aansluiten op STAM-koppelvlak* v2.1 (IP lists, CPA register,
lokets, aansluitactiviteiten) and the developer portal (the URL domain rule; see
``docs/unknowns.md``). Base URLs the public documentation does not state
literally (PROD of Verzoek afhandelen, CPA aanbieden) follow the documented domain rule and can
be overridden per API in ``dso.toml`` (``[api.base_urls]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

#: The API names used throughout the harness and in ``[api.base_urls]``.
API_NAMES = (
    "afhandelen",
    "behandeldienstconfiguratie",
    "verzoeksroutering",
    "indienen",
    "cpa_aanbieden",
)

#: DSO egress (from DSO-LV: triggers, Pongs, Acks come from here). Same list on PRE and PROD.
DSO_EGRESS_IPS = ("147.181.12.102", "147.181.36.66")
#: DSO ingress (the DSO-LV endpoints the adapter connects to). Same list on PRE and PROD.
DSO_INGRESS_IPS = ("147.181.37.183", "147.181.37.239", "147.181.15.191", "147.181.13.125")

#: Aansluitactiviteiten on PRE per type of bevoegd gezag, as written in the process document
#: (v2.1). For a gemeente it names "Gemeentes – Informatie", although its text says bevoegde
#: gezagen test with a 'Melding'; any existing activiteit of the BG may be used on PRE.
PRE_AANSLUITACTIVITEITEN = MappingProxyType(
    {
        "gemeente": "Gemeentes – Informatie",
        "waterschap": "Waterschappen – Melding",
        "provincie": "Provincies – Melding",
        "omgevingsdienst": "Gemeentes – Informatie",
        "samenwerkingsverband": "Gemeentes – Informatie",
        "rijk": "Rijk – Melding",
    }
)
#: Aansluitactiviteiten on PROD (filter "Aansluitactiviteit", testdatum on or after 2030-01-01).
PROD_AANSLUITACTIVITEITEN = MappingProxyType(
    {
        "gemeente": "Aansluitactiviteit Gemeentes – Melding",
        "waterschap": "Aansluitactiviteit Waterschappen – Melding",
        "provincie": "Aansluitactiviteit Provincies – Melding",
        "omgevingsdienst": "Aansluitactiviteit Gemeentes – Informatie",
        "samenwerkingsverband": "Aansluitactiviteit Gemeentes – Informatie",
        "rijk": "Aansluitactiviteit Gemeentes – Melding",
    }
)


@dataclass(frozen=True)
class EnvironmentProfile:
    """Everything the harness knows about one DSO-LV environment."""

    name: str
    label: str
    api_base_urls: Mapping[str, str]
    ingress_ips: tuple[str, ...]
    egress_ips: tuple[str, ...]
    dso_hosts: tuple[str, ...]
    cpa_register_url: str
    omgevingsloket_url: str
    aansluitactiviteiten: Mapping[str, str]
    testdatum: dt.date | None = None
    require_pkio_root: bool = True
    tls_port: int = 443
    read_only: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def is_remote(self) -> bool:
        """True for PRE and PROD: real DSO-LV, where only well-formed messages may be sent."""
        return self.name in ("pre", "prod")

    def with_base_urls(self, overrides: Mapping[str, str]) -> EnvironmentProfile:
        """A copy whose API base URLs are updated with ``overrides``."""
        merged = {**self.api_base_urls, **overrides}
        return replace(self, api_base_urls=MappingProxyType(merged))

    def api_url(self, api: str) -> str:
        """The base URL of ``api`` (one of :data:`API_NAMES`), without a trailing slash."""
        try:
            return self.api_base_urls[api].rstrip("/")
        except KeyError:
            raise KeyError(
                f"no base URL for API {api!r} in environment {self.name!r}; "
                f"set [api.base_urls] {api} in dso.toml"
            ) from None


def _bases(pkio: str, public: str) -> Mapping[str, str]:
    return MappingProxyType(
        {
            "afhandelen": f"{pkio}/overheid/verzoeken/api/afhandelen/v2",
            "behandeldienstconfiguratie": (
                f"{pkio}/overheid/toepasbare-regels/api/behandeldienstconfiguraties/v1"
            ),
            "verzoeksroutering": f"{public}/publiek/toepasbare-regels/api/verzoeksroutering/v2",
            # v5 is current; v4 is deprecated [C] ([api] indienen_version = "v4" selects it).
            "indienen": f"{public}/publiek/verzoeken/api/indienen/v5",
            # Endpoint not published [?]: follows the domain rule; override in dso.toml.
            "cpa_aanbieden": f"{pkio}/overheid/digikoppeling/api/cpa-aanbieden/v1",
        }
    )


PRE = EnvironmentProfile(
    name="pre",
    label="DSO-LV PRE (oefenomgeving)",
    api_base_urls=_bases(
        "https://pkio.service.pre.omgevingswet.overheid.nl",
        "https://service.pre.omgevingswet.overheid.nl",
    ),
    ingress_ips=DSO_INGRESS_IPS,
    egress_ips=DSO_EGRESS_IPS,
    dso_hosts=("pkio.service.pre.omgevingswet.overheid.nl", "service.pre.omgevingswet.overheid.nl"),
    cpa_register_url="https://cparegister.nl/cpa/aanvraag/specification/348/server_participant/3870",
    omgevingsloket_url="https://pre.omgevingswet.overheid.nl/",
    aansluitactiviteiten=PRE_AANSLUITACTIVITEITEN,
    read_only=False,
)

#: The testdatum every PROD aansluitactiviteit needs (on or after) [C].
PROD_TESTDATUM = dt.date(2030, 1, 1)

PROD = EnvironmentProfile(
    name="prod",
    label="DSO-LV PROD (productie)",
    api_base_urls=_bases(
        "https://pkio.service.omgevingswet.overheid.nl",
        "https://service.omgevingswet.overheid.nl",
    ),
    ingress_ips=DSO_INGRESS_IPS,
    egress_ips=DSO_EGRESS_IPS,
    dso_hosts=("pkio.service.omgevingswet.overheid.nl", "service.omgevingswet.overheid.nl"),
    cpa_register_url="https://cparegister.nl/cpa/aanvraag/specification/357/server_participant/4046",
    omgevingsloket_url="https://BEHEERPORTAAL.omgevingswet.overheid.nl",
    aansluitactiviteiten=PROD_AANSLUITACTIVITEITEN,
    testdatum=PROD_TESTDATUM,
    read_only=True,
)

#: The embedded simulator. Its URLs are placeholders until the simulator has started and
#: reported its ports (see :meth:`EnvironmentProfile.with_base_urls`).
LOCAL = EnvironmentProfile(
    name="local",
    label="Embedded DSO-LV simulator (dso-sim)",
    api_base_urls=MappingProxyType({}),
    ingress_ips=("127.0.0.1",),
    egress_ips=("127.0.0.1",),
    dso_hosts=("localhost",),
    cpa_register_url="dso-sim cpa",
    omgevingsloket_url="https://127.0.0.1/ (dso-sim indienen API)",
    aansluitactiviteiten=PRE_AANSLUITACTIVITEITEN,
    require_pkio_root=False,
    read_only=False,
)

PROFILES: Mapping[str, EnvironmentProfile] = MappingProxyType(
    {"local": LOCAL, "pre": PRE, "prod": PROD}
)


def profile(name: str) -> EnvironmentProfile:
    """The profile called ``name`` (``local``, ``pre`` or ``prod``)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown DSO environment {name!r}; choose one of: {', '.join(PROFILES)}"
        ) from None

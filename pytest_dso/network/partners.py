"""The TLS partners of a run: the endpoints whose TLS set-up the TLS suite checks.

In local mode that is the simulator's ebMS endpoint. Otherwise it is, in this order: the
``[ebms] endpoint`` override, the DSO-LV endpoint(s) of the configured CPA, or the hosts of the
environment's API base URLs. Ingress endpoints are the published ingress addresses on the TLS
port (443), or in local mode the simulator's loopback endpoint(s), whose ports are dynamic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pytest_dso.ebms.cpa import Cpa, CpaError
from pytest_dso.network.endpoint import Endpoint, EndpointError


@dataclass(frozen=True)
class TlsPartner:
    """An endpoint to probe, the host name to send as SNI and verify, where it came from, and
    the URL path (for the request sent without a client certificate)."""

    endpoint: Endpoint
    server_hostname: str | None
    source: str
    path: str = "/"

    def __str__(self) -> str:
        name = self.server_hostname
        shown = f"{self.endpoint} ({name})" if name and name != self.endpoint.host else str(
            self.endpoint
        )
        return f"{shown} [{self.source}]"


def partner_from_url(url: str, source: str) -> TlsPartner:
    """A partner for an ``https://`` URL; raises :class:`EndpointError` for anything else."""
    if urlsplit(url).scheme != "https":
        raise EndpointError(f"{source}: {url!r} is not an https URL; Digikoppeling uses TLS")
    endpoint = Endpoint.from_url(url)
    return TlsPartner(endpoint, endpoint.host, source, urlsplit(url).path or "/")


def partners_from_urls(urls: Iterable[tuple[str, str]]) -> tuple[TlsPartner, ...]:
    """Partners for ``(source, url)`` pairs, one per host and port (first source wins)."""
    seen: dict[tuple[str, int], TlsPartner] = {}
    for source, url in urls:
        partner = partner_from_url(url, source)
        seen.setdefault((partner.endpoint.host.lower(), partner.endpoint.port), partner)
    return tuple(seen.values())


def ingress_endpoints(addresses: Sequence[str], port: int) -> tuple[Endpoint, ...]:
    """The published ingress addresses on ``port``."""
    return tuple(Endpoint(a, port) for a in addresses)


def cpa_partner_urls(cpa: Cpa, own_oins: Sequence[str], source: str) -> list[tuple[str, str]]:
    """The endpoint URLs of the other party of ``cpa`` (DSO-LV): its MSH endpoint first, then
    the endpoints of its other transports. Our party is the one whose OIN is in ``own_oins``.
    Raises :class:`~pytest_dso.ebms.cpa.CpaError` when the CPA does not name us."""
    ours = next((p for oin in own_oins if (p := cpa.party_by_oin(oin)) is not None), None)
    if ours is None:
        names = ", ".join(f"{p.name} ({p.oin})" for p in cpa.parties)
        raise CpaError(
            f"CPA {cpa.cpa_id!r} has no party with OIN {' or '.join(own_oins) or '(none known)'}; "
            f"its parties are {names}"
        )
    dso = cpa.other_party(ours)
    urls: list[str] = []
    if dso.default_msh_channel_id:
        urls.append(cpa.endpoint_for(dso))
    urls += [u for t in dso.transports.values() for u in t.endpoints if u not in urls]
    if not urls:
        raise CpaError(f"party {dso.name!r} of CPA {cpa.cpa_id!r} has no Transport Endpoint")
    return [(f"{source}, {dso.name}", u) for u in urls]

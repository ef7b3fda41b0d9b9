"""Default path templates of the DSO-LV REST operations, each tagged with its confidence.

Tags (explained in ``docs/unknowns.md``): **[C]** confirmed by DSO documentation, **[V]** seen in a
vendor's production client, **[I]** inferred, **[?]** unknown: a placeholder this project
chose, which the embedded simulator implements and which PRE/PROD users must check and
override in ``dso.toml``::

    [api.paths]
    "afhandelen.referenties" = "verzoeken/{verzoeknummer}/referenties"

Templates are relative to the API base URL (``[api.base_urls]`` or the environment profile)
and use ``{name}`` placeholders, filled URL-quoted. Prefer following HAL links from a
response over building URLs where a response offers them (the afhandelen client does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import quote


@dataclass(frozen=True)
class PathDefault:
    """One operation: API name, method, path template, confidence tag and a note."""

    api: str
    method: str
    template: str
    tag: str
    note: str = ""


#: Every operation the clients call, with its default. The simulator serves these.
DEFAULT_PATHS: Mapping[str, PathDefault] = MappingProxyType(
    {
        "afhandelen.referenties": PathDefault(
            "afhandelen",
            "GET",
            "verzoeken/{verzoeknummer}",
            "[I]",
            "Verzoekreferenties ophalen: HAL links to the STAM XML, the PDF and the documenten",
        ),
        "afhandelen.samenvatting": PathDefault(
            "afhandelen",
            "GET",
            "verzoeken/{verzoeknummer}/samenvatting",
            "[V]",
            "returns the original STAM message for an authorised OIN",
        ),
        "afhandelen.verzoek": PathDefault(
            "afhandelen",
            "GET",
            "verzoeken/{verzoeknummer}/verzoek",
            "[?]",
            "the STAM XML; normally taken from the referenties' 'verzoek' link",
        ),
        "afhandelen.pdf": PathDefault(
            "afhandelen",
            "GET",
            "verzoeken/{verzoeknummer}/pdf",
            "[?]",
            "the publishable PDF; normally taken from the referenties' 'pdf' link",
        ),
        "afhandelen.document": PathDefault(
            "afhandelen",
            "GET",
            "verzoeken/{verzoeknummer}/documenten/{documentId}",
            "[?]",
            "one document; normally taken from the referenties' 'documenten' links",
        ),
        "afhandelen.zoek": PathDefault(
            "afhandelen",
            "POST",
            "verzoeken/_zoek",
            "[V]",
            "search by verzoeknummer or RD polygon plus a date range, paged",
        ),
        "afhandelen.wijzig_bevoegd_gezag": PathDefault(
            "afhandelen",
            "POST",
            "verzoeken/{verzoeknummer}/_wijzigBevoegdGezag",
            "[?]",
            "rerouting to another bevoegd gezag exists [C]; path and body are unknown. Called on "
            "afhandelen v1 by default ([api] rerouting_version), as a vendor does [V]",
        ),
        "behandeldienstconfiguratie.create": PathDefault(
            "behandeldienstconfiguratie",
            "POST",
            "",
            "[C]",
            "POST to the base URL with Content-Type application/json; expect 200",
        ),
        "behandeldienstconfiguratie.list": PathDefault(
            "behandeldienstconfiguratie", "GET", "", "[?]", "list the caller's configurations"
        ),
        "behandeldienstconfiguratie.get": PathDefault(
            "behandeldienstconfiguratie", "GET", "{id}", "[I]", "one configuration by id"
        ),
        "behandeldienstconfiguratie.delete": PathDefault(
            "behandeldienstconfiguratie", "DELETE", "{id}", "[I]", "delete by id"
        ),
        "verzoeksroutering.bevoegd_gezag": PathDefault(
            "verzoeksroutering",
            "POST",
            "bevoegdGezag/_bepaal",
            "[I]",
            "service 'Bevoegd gezag bepalen' [C]: functioneleStructuurRefs + locatie -> the "
            "selectable bevoegde gezagen (naam, OIN, afgeleid); path in DSO-LV's _bepaal style",
        ),
        "verzoeksroutering.conceptverzoek": PathDefault(
            "verzoeksroutering",
            "POST",
            "conceptverzoek/_bepaal",
            "[I]",
            "service 'Conceptverzoek bepalen' [C]: whether a conceptverzoek is allowed",
        ),
        "verzoeksroutering.behandeldienst": PathDefault(
            "verzoeksroutering",
            "POST",
            "behandeldienst/_bepaal",
            "[I]",
            "service 'Behandeldienst bepalen' [C]: the behandeldienst for a bevoegd gezag",
        ),
        "indienen.start": PathDefault(
            "indienen",
            "POST",
            "verzoeken",
            "[C]",
            "start with the indienbericht; returns a temporary verzoekId and links",
        ),
        "indienen.document": PathDefault(
            "indienen",
            "POST",
            "verzoeken/{verzoekId}/documenten",
            "[?]",
            "upload a document; normally the link from the start response",
        ),
        "indienen.finaliseren": PathDefault(
            "indienen",
            "POST",
            "verzoeken/{verzoekId}",
            "[C]",
            "finalise; returns the verzoeknummer (unfinished flows expire after 24 h)",
        ),
        "indienen.idee_start": PathDefault(
            "indienen",
            "POST",
            "ideeverkenningen",
            "[C]",
            "v5: type 'Idee' uses paths under /ideeverkenningen (path listed in the v4.3.2 OAS)",
        ),
        "indienen.idee_document": PathDefault(
            "indienen",
            "POST",
            "ideeverkenningen/{verzoekId}/documenten",
            "[?]",
            "v5: upload a document to an ideeverkenning",
        ),
        "indienen.idee_finaliseren": PathDefault(
            "indienen",
            "POST",
            "ideeverkenningen/{verzoekId}",
            "[I]",
            "v5: finalise an ideeverkenning, like verzoeken/{verzoekId}",
        ),
        "cpa_aanbieden.aanbieden": PathDefault(
            "cpa_aanbieden",
            "POST",
            "cpa",
            "[?]",
            "offer a CPA to DSO-LV; endpoint, method and payload are not published",
        ),
        "afhandelen.openapi": PathDefault("afhandelen", "GET", "openapi.json", "[C]"),
        "behandeldienstconfiguratie.openapi": PathDefault(
            "behandeldienstconfiguratie", "GET", "openapi.json", "[C]"
        ),
        "verzoeksroutering.openapi": PathDefault("verzoeksroutering", "GET", "openapi.json", "[C]"),
        "indienen.openapi": PathDefault("indienen", "GET", "openapi.json", "[C]"),
    }
)


class UnknownOperationError(KeyError):
    """An operation name that is not in :data:`DEFAULT_PATHS`."""

    def __str__(self) -> str:
        return (
            f"unknown DSO API operation {self.args[0]!r}; known: {', '.join(sorted(DEFAULT_PATHS))}"
        )


def operation(name: str) -> PathDefault:
    """The default of operation ``name``."""
    try:
        return DEFAULT_PATHS[name]
    except KeyError:
        raise UnknownOperationError(name) from None


def render_path(name: str, overrides: Mapping[str, str] | None = None, **params: str) -> str:
    """The path of operation ``name`` (override from ``[api.paths]`` first) with ``params``
    filled in URL-quoted. Raises ``KeyError`` naming a missing placeholder."""
    template = (overrides or {}).get(name, operation(name).template)
    try:
        return template.format(**{k: quote(str(v), safe="") for k, v in params.items()})
    except KeyError as exc:
        raise KeyError(
            f"path template {template!r} of {name} needs {{{exc.args[0]}}}; it was not given"
        ) from None


_MAJOR = re.compile(r"/v(\d+)/?$")


def api_major(base_url: str) -> int | None:
    """The major version at the end of an API base URL (``…/indienen/v5`` → 5), if any."""
    found = _MAJOR.search(base_url)
    return int(found.group(1)) if found else None


def with_major(base_url: str, version: str | int) -> str:
    """``base_url`` with its trailing ``/v<major>`` replaced by ``version`` (``"v1"`` or 1);
    unchanged when it ends in no version."""
    major = str(version).lower().removeprefix("v")
    if not major.isdigit():
        raise ValueError(f"API version {version!r} is not of the form v<major> (e.g. v1)")
    if _MAJOR.search(base_url) is None:
        return base_url
    return _MAJOR.sub(f"/v{major}", base_url.rstrip("/"))


def join_url(base_url: str, path: str) -> str:
    """``base_url`` and a relative ``path`` joined with exactly one slash (no trailing slash
    when ``path`` is empty)."""
    base = base_url.rstrip("/")
    return f"{base}/{path.lstrip('/')}" if path else base

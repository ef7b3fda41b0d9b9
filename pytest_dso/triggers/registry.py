"""Building the trigger source named by ``[triggers] source`` from the settings.

Other packages add sources through the ``pytest_dso_trigger_source(name, settings)`` hook; the
pytest layer asks the hook first and falls back to :func:`build_source` for the built-in names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509

from pytest_dso.dsofile import TriggersConfig
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.client import HttpClient
from pytest_dso.triggers.base import TriggerSource
from pytest_dso.triggers.ebms_core import EbmsCoreTriggerSource
from pytest_dso.triggers.extract import VerzoeknummerExtractor
from pytest_dso.triggers.folder import FolderTriggerSource
from pytest_dso.triggers.http_forward import HttpForwardTriggerSource
from pytest_dso.triggers.manual import ManualTriggerSource, parse_manual
from pytest_dso.triggers.receiver import ReceiverTriggerSource

BUILTIN_SOURCES = ("receiver", "folder", "http-forward", "ebms-core", "manual")


class TriggerSourceError(ValueError):
    """The source cannot be built from the settings; the message says what to configure."""


@dataclass(frozen=True)
class SourceContext:
    """What building a source may need besides ``[triggers]``.

    ``identity``/``trust``: the harness's certificate and trust anchors (the http-forward
    server certificate, the ebms-core client certificate). ``folder`` and ``ebms_core_url``
    override the settings (local mode points them at its own folder and stand-in).
    ``verzoeknummer`` is ``--dso-verzoeknummer``. ``cpa_id`` filters ebms-core messages.
    """

    triggers: TriggersConfig
    identity: Identity | None = None
    trust: tuple[x509.Certificate, ...] = ()
    folder: Path | None = None
    ebms_core_url: str | None = None
    verzoeknummer: str | None = None
    cpa_id: str | None = None
    http_headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def extractor_for(triggers: TriggersConfig) -> VerzoeknummerExtractor:
    """The extractor ``[triggers]`` asks for (STAM parser by default)."""
    try:
        return VerzoeknummerExtractor(
            xpath=triggers.verzoeknummer_xpath,
            regex=triggers.verzoeknummer_regex,
            namespaces=MappingProxyType(dict(triggers.namespaces)),
        )
    except ValueError as exc:
        raise TriggerSourceError(f"[triggers]: {exc}") from None


def _folder(ctx: SourceContext) -> TriggerSource:
    folder = ctx.folder or ctx.triggers.folder
    if folder is None:
        raise TriggerSourceError(
            "[triggers] source = \"folder\" needs [triggers] folder: the folder the adapter "
            "writes each received verzoeknotificatie to"
        )
    return FolderTriggerSource(folder, poll_interval=ctx.triggers.poll_interval,
                               extractor=extractor_for(ctx.triggers))


def _http_forward(ctx: SourceContext) -> TriggerSource:
    if ctx.identity is None:
        raise TriggerSourceError(
            "[triggers] source = \"http-forward\" needs a server certificate: configure "
            "[certificate] in dso.toml"
        )
    try:
        return HttpForwardTriggerSource(
            ctx.identity, ctx.trust, listen=ctx.triggers.http_forward_listen,
            require_client_certificate=bool(ctx.trust), extractor=extractor_for(ctx.triggers),
        )
    except ValueError as exc:
        raise TriggerSourceError(f"[triggers] http_forward_listen: {exc}") from None


def _ebms_core(ctx: SourceContext) -> TriggerSource:
    triggers = ctx.triggers
    url = ctx.ebms_core_url or triggers.ebms_core_url
    if not url:
        raise TriggerSourceError(
            "[triggers] source = \"ebms-core\" needs [triggers] ebms_core_url, the REST base of "
            "ebms-core/ebms-admin, e.g. https://dka.example.nl:8443/service/rest/v19"
        )
    password: str | None = None
    if triggers.ebms_core_password_env:
        if not triggers.ebms_core_username:
            raise TriggerSourceError(
                "[triggers] ebms_core_password_env is set but ebms_core_username is not: "
                "BASIC auth needs both"
            )
        password = os.environ.get(triggers.ebms_core_password_env)
        if password is None:
            raise TriggerSourceError(
                f"[triggers] ebms_core_password_env names {triggers.ebms_core_password_env!r}, "
                "but that environment variable is not set: export it with the ebms-admin "
                "password before the run"
            )
    elif triggers.ebms_core_username:
        raise TriggerSourceError(
            "[triggers] ebms_core_username is set but ebms_core_password_env is not: name the "
            "environment variable that holds the password (it is never read from dso.toml)"
        )
    identity = ctx.identity if triggers.ebms_core_client_certificate else None
    client = HttpClient.for_identity(identity, ctx.trust or None)
    try:
        return EbmsCoreTriggerSource(
            url, client, cpa_id=ctx.cpa_id, mark_processed=triggers.mark_processed,
            poll_interval=triggers.poll_interval,
            headers={**triggers.ebms_core_headers, **ctx.http_headers},
            paths=triggers.ebms_core_paths,
            username=triggers.ebms_core_username, password=password,
            extractor=extractor_for(triggers),
        )
    except ValueError as exc:
        client.close()
        raise TriggerSourceError(str(exc)) from None


def _manual(ctx: SourceContext) -> TriggerSource:
    try:
        return ManualTriggerSource(parse_manual(ctx.verzoeknummer))
    except ValueError as exc:
        raise TriggerSourceError(str(exc)) from None


def _receiver(ctx: SourceContext) -> TriggerSource:
    return ReceiverTriggerSource(extractor=extractor_for(ctx.triggers))


_BUILDERS: Mapping[str, Callable[[SourceContext], TriggerSource]] = MappingProxyType({
    "receiver": _receiver,
    "folder": _folder,
    "http-forward": _http_forward,
    "ebms-core": _ebms_core,
    "manual": _manual,
})


def build_source(name: str, ctx: SourceContext) -> TriggerSource:
    """The built-in source ``name``; :class:`TriggerSourceError` for an unknown name or a
    missing setting."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise TriggerSourceError(
            f"unknown trigger source {name!r}; built in: {', '.join(BUILTIN_SOURCES)} (another "
            "plugin can add one with the pytest_dso_trigger_source hook)"
        )
    return builder(ctx)

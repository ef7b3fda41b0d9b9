"""Building the trigger source named by ``[triggers] source`` from the settings: the one place
sources are built.

:func:`build_source` builds a built-in source; :func:`build_local` also wires it to the local
reference DKA (a drop folder, an HTTPS forward, an ebms-core stand-in, or the receiver itself).
Other packages add sources through the ``pytest_dso_trigger_source(name, settings)`` hook; the
pytest layer asks the hook first and falls back to these for the built-in names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509

from pytest_dso.dsofile import TriggersConfig
from pytest_dso.e2e.forwarders import (
    EbmsCoreForwarder,
    FolderForwarder,
    Forwarder,
    HttpsForwarder,
)
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.client import HttpClient
from pytest_dso.triggers.base import TriggerSource
from pytest_dso.triggers.ebms_core import EbmsCoreTriggerSource
from pytest_dso.triggers.ebms_core_standin import EbmsCoreStandIn
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


def _http_forward(ctx: SourceContext) -> HttpForwardTriggerSource:
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
            extractor=extractor_for(triggers), use_events=triggers.ebms_core_events,
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


# -- local mode: the reference DKA hands each verzoeknotificatie to the source ----------------


@dataclass(frozen=True)
class LocalContext:
    """What local mode wires a source with: the test PKI's Digikoppelaar (the reference DKA's
    side of a hand-over) and leverancier (the VTH side), their trust, a scratch folder (the
    drop folder when ``[triggers] folder`` is not set), ``--dso-verzoeknummer``, and a source
    another plugin provided through ``pytest_dso_trigger_source`` (used as it is)."""

    triggers: TriggersConfig
    dka_identity: Identity
    vth_identity: Identity
    trust: tuple[x509.Certificate, ...]
    scratch: Path
    verzoeknummer: str | None = None
    plugin_source: TriggerSource | None = None


@dataclass
class LocalSource:
    """A source wired to the reference DKA: the ``receiver`` it feeds directly (the receiver
    source), or the ``forwarders`` that hand each message on as a real adapter would; what to
    stop afterwards."""

    source: TriggerSource
    receiver: ReceiverTriggerSource | None = None
    forwarders: list[Forwarder] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)


def _local_receiver(ctx: LocalContext) -> LocalSource:
    source = ReceiverTriggerSource(extractor=extractor_for(ctx.triggers))
    return LocalSource(source, receiver=source)


def _local_folder(ctx: LocalContext) -> LocalSource:
    folder = ctx.triggers.folder or ctx.scratch / "drop"
    folder.mkdir(parents=True, exist_ok=True)
    return LocalSource(_folder(SourceContext(ctx.triggers, folder=folder)),
                       forwarders=[FolderForwarder(folder)])


def _local_http_forward(ctx: LocalContext) -> LocalSource:
    source = _http_forward(SourceContext(ctx.triggers, identity=ctx.vth_identity,
                                         trust=ctx.trust))
    source.start()  # its URL is known once it listens
    client = HttpClient.for_identity(ctx.dka_identity, ctx.trust)
    return LocalSource(source, forwarders=[HttpsForwarder(source.url, client)],
                       closers=[source.stop, client.close])


def _local_ebms_core(ctx: LocalContext) -> LocalSource:
    standin = EbmsCoreStandIn(ctx.dka_identity.server_context(ctx.trust)).start()
    try:
        source = _ebms_core(SourceContext(ctx.triggers, identity=ctx.vth_identity,
                                          trust=ctx.trust, ebms_core_url=standin.base_url))
    except BaseException:
        standin.stop()
        raise
    return LocalSource(source, forwarders=[EbmsCoreForwarder(standin)], closers=[standin.stop])


_LOCAL_BUILDERS: Mapping[str, Callable[[LocalContext], LocalSource]] = MappingProxyType({
    "receiver": _local_receiver,
    "folder": _local_folder,
    "http-forward": _local_http_forward,
    "ebms-core": _local_ebms_core,
})


def build_local(name: str, ctx: LocalContext) -> LocalSource:
    """The source ``name`` wired to the local reference DKA (a plugin's source, or ``manual``,
    as it is: nothing is handed to it). :class:`TriggerSourceError` as :func:`build_source`."""
    if ctx.plugin_source is not None:
        return LocalSource(ctx.plugin_source)
    builder = _LOCAL_BUILDERS.get(name)
    if builder is None:
        return LocalSource(build_source(name, SourceContext(ctx.triggers,
                                                            verzoeknummer=ctx.verzoeknummer)))
    return builder(ctx)

"""Settings resolved once per run: command line, then environment, then dso.toml, then ini,
then default. Each value remembers where it came from, for the report header."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol

from pytest_dso.dsofile import DsoFile, LeverancierConfig, load_dso_toml, local_leverancier
from pytest_dso.tenants import Tenant, local_bevoegde_gezagen, select

ENVIRONMENTS = ("local", "pre", "prod")
DEFAULT_CONFIG = Path("dso.toml")


class SettingError(ValueError):
    """A setting has a value that is not allowed."""


#: How a setting is given: one of a few words, free text, a list, a yes/no flag or a path.
SettingKind = Literal["choice", "text", "list", "flag", "path"]
#: The type of a setting's value once resolved.
SettingValue = str | bool | Path | tuple[str, ...] | None


@dataclass(frozen=True, kw_only=True)
class SettingSpec:
    """One setting and every place it can come from (keyword arguments only).

    ``option`` is the command-line option, ``env`` the environment variable, ``ini`` the ini
    key and ``toml`` the top-level dso.toml key (``None``: not settable there). ``kind``
    decides how a raw value is read; ``choices`` lists the allowed words of a ``"choice"``.
    """

    name: str
    option: str
    env: str
    ini: str
    toml: str | None
    kind: SettingKind
    default: SettingValue
    help: str
    choices: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        """The argparse destination for the command-line option."""
        return "dso_" + self.name


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        name="env",
        option="--dso-env",
        env="DSO_ENV",
        ini="dso_env",
        toml="env",
        kind="choice",
        default="local",
        help="DSO-LV environment to test: local (the embedded simulator), pre or prod. "
        "Default: local.",
        choices=ENVIRONMENTS,
    ),
    SettingSpec(
        name="config",
        option="--dso-config",
        env="DSO_CONFIG",
        ini="dso_config",
        toml=None,
        kind="path",
        default=None,
        help="Path of the dso.toml to use. Default: ./dso.toml when it exists.",
    ),
    SettingSpec(
        name="ticket",
        option="--dso-ticket",
        env="DSO_TICKET",
        ini="dso_ticket",
        toml="ticket",
        kind="text",
        default=None,
        help="DSO-Beheer ticket number, used in the evidence and mail subjects. Default: none.",
    ),
    SettingSpec(
        name="tenants",
        option="--dso-tenant",
        env="DSO_TENANT",
        ini="dso_tenants",
        toml="tenants",
        kind="list",
        default=(),
        help="Limit the run to this bevoegd gezag (OIN or name); repeat for more. "
        "DSO_TENANT takes a comma-separated list. Default: every configured one.",
    ),
    SettingSpec(
        name="allow_writes",
        option="--dso-allow-writes",
        env="DSO_ALLOW_WRITES",
        ini="dso_allow_writes",
        toml="allow_writes",
        kind="flag",
        default=False,
        help="Allow checks that change state on PRE (e.g. a test behandeldienstconfiguratie). "
        "Default: off.",
    ),
    SettingSpec(
        name="allow_prod_writes",
        option="--dso-allow-prod-writes",
        env="DSO_ALLOW_PROD_WRITES",
        ini="dso_allow_prod_writes",
        toml="allow_prod_writes",
        kind="flag",
        default=False,
        help="Also allow state changes on PROD. Separate from --dso-allow-writes on purpose. "
        "Default: off.",
    ),
    SettingSpec(
        name="verzoeknummer",
        option="--dso-verzoeknummer",
        env="DSO_VERZOEKNUMMER",
        ini="dso_verzoeknummer",
        toml=None,
        kind="text",
        default=None,
        help="Verzoeken submitted by hand: one verzoeknummer, or OIN=NUMMER pairs separated "
        "by commas for several tenants (proves the submission, not a received trigger). "
        "Default: none.",
    ),
    SettingSpec(
        name="output",
        option="--dso-output",
        env="DSO_OUTPUT",
        ini="dso_output",
        toml="output",
        kind="path",
        default=Path("reports"),
        help="Folder for results, evidence and the simulator store (relative to pytest's rootdir "
        "when it comes from the ini or the default). Default: reports.",
    ),
    SettingSpec(
        name="suites",
        option="--dso-suites",
        env="DSO_SUITES",
        ini="dso_suites",
        toml="suites",
        kind="list",
        default=(),
        help="Packaged conformance suites to run when you name no test paths: 'all', 'none' or "
        "a comma-separated list such as pkio,cpa. Default: all.",
    ),
    SettingSpec(
        name="fail_on",
        option="--dso-fail-on",
        env="DSO_FAIL_ON",
        ini="dso_fail_on",
        toml="fail_on",
        kind="choice",
        default="error",
        help="Fail a check on an error only, or also on a warning (e.g. a certificate that expires "
        "within expiry_warning_days), for a nightly health job. Default: error.",
        choices=("error", "warning"),
    ),
)
SPEC_BY_NAME: Mapping[str, SettingSpec] = MappingProxyType({s.name: s for s in SPECS})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Resolved:
    """A resolved value and its source: ``option``, ``env DSO_X``, ``dso.toml``, ``ini`` or
    ``default``."""

    value: Any
    source: str


@dataclass(frozen=True)
class DsoSettings:
    """The settings of one run. Frozen; built once in ``pytest_configure``."""

    env: str = "local"
    ticket: str | None = None
    tenant_filter: tuple[str, ...] = ()
    allow_writes: bool = False
    allow_prod_writes: bool = False
    verzoeknummer: str | None = None
    output_dir: Path = Path("reports")
    suites: tuple[str, ...] = ()
    fail_on: str = "error"
    config_path: Path | None = None
    file: DsoFile = field(default_factory=DsoFile)
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def writes_allowed(self) -> bool:
        """Whether checks may change state in this environment."""
        if self.env == "local":
            return True
        if self.env == "prod":
            return self.allow_prod_writes
        return self.allow_writes

    def bevoegde_gezagen(self) -> tuple[Tenant, ...]:
        """The configured bevoegde gezagen; in local mode without any, the built-in set-up."""
        configured = self.file.bevoegde_gezagen
        if not configured and self.env == "local":
            return local_bevoegde_gezagen()
        return configured

    def tenants(self) -> tuple[Tenant, ...]:
        """The bevoegde gezagen this run covers, after ``--dso-tenant``."""
        return select(self.bevoegde_gezagen(), self.tenant_filter)

    def leverancier(self) -> LeverancierConfig | None:
        """The configured leverancier; in local mode without one, the built-in one."""
        if self.file.leverancier is None and self.env == "local":
            return local_leverancier()
        return self.file.leverancier

    def header_lines(self) -> list[str]:
        """Lines for the pytest report header: each value with its source, never a secret."""
        shown = {
            "env": self.env,
            "config": str(self.config_path) if self.config_path else "none (built-in local set-up)",
            "ticket": self.ticket or "-",
            "tenants": ", ".join(self.tenant_filter) or "all",
            "allow_writes": "yes" if self.allow_writes else "no",
            "allow_prod_writes": "yes" if self.allow_prod_writes else "no",
            "output": str(self.output_dir),
            "suites": ",".join(self.suites) or "all",
            "fail_on": self.fail_on,
        }
        if self.verzoeknummer:
            shown["verzoeknummer"] = self.verzoeknummer
        lines = [f"dso {k}: {v} (from {self.sources.get(k, 'default')})" for k, v in shown.items()]
        if self.env == "local":
            lines.append(f"dso ping partner: {self.local_partner_note()}")
        return lines

    def local_partner_note(self) -> str:
        """Local mode: who is pinged and probed, with which certificate, and why."""
        cert = self.file.certificate
        note = "the embedded simulator (local mode), under a CPA it makes for "
        if cert is None:
            note += "the test PKI's digikoppelaar certificate"
        elif cert.ca_bundle is not None:
            note += ("your [certificate]; it trusts your ca_bundle as well as its test CA, "
                     "and the harness trusts both")
        else:
            note += ("your [certificate]; without a ca_bundle it trusts the CA at the top of "
                     "the chain you present (set [certificate] ca_bundle to your CA's root to "
                     "have the whole chain checked)")
        ebms = self.file.ebms
        if ebms.cpa is not None or ebms.endpoint:
            note += ("; [ebms] cpa/endpoint name DSO-LV and are only linted here: run with "
                     "--dso-env=pre to ping that partner")
        return note


class _Config(Protocol):
    def getoption(self, name: str) -> Any: ...
    def getini(self, name: str) -> Any: ...

    @property
    def rootpath(self) -> Path: ...

    @property
    def invocation_params(self) -> Any: ...


def _convert(spec: SettingSpec, raw: Any, where: str) -> Any:
    """Convert a raw string/list/bool from any source to the setting's type."""
    if spec.kind == "flag":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingError(
            f"{spec.name} from {where}: {raw!r} is not a yes/no value; use one of: "
            "1, true, yes, on, 0, false, no, off"
        )
    if spec.kind == "list":
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        if spec.name == "suites":  # --dso-suites=pkio,cpa as well as repeated options
            items = [part for item in items for part in str(item).split(",")]
        return tuple(str(i).strip() for i in items if str(i).strip())
    if spec.kind == "path":
        return Path(str(raw))
    text = str(raw).strip()
    if spec.kind == "choice" and text not in spec.choices:
        raise SettingError(
            f"{spec.name} from {where}: {text!r} is not allowed; choose one of: "
            + ", ".join(spec.choices)
        )
    return text or None


def read_ini(config: _Config, spec: SettingSpec) -> Any:
    """The ini value of ``spec``; a flag that is not a boolean is a :class:`SettingError`."""
    try:
        return config.getini(spec.ini)
    except Exception as exc:  # pytest raises ValueError (8.x) or UsageError (9.x) for a bad bool
        raise SettingError(
            f"{spec.name} from ini key {spec.ini} in {getattr(config, 'inipath', 'the ini file')}:"
            f" {exc}; use true or false"
        ) from None


def _from_sources(
    spec: SettingSpec,
    config: _Config,
    environ: Mapping[str, str],
    toml_value: Callable[[str], Any],
) -> Resolved:
    cli = config.getoption(spec.dest)
    if cli not in (None, [], ()):
        return Resolved(_convert(spec, cli, f"option {spec.option}"), "option")
    if spec.env in environ:
        where = f"env {spec.env}"
        return Resolved(
            _convert(spec, environ[spec.env], f"environment variable {spec.env}"), where
        )
    if spec.toml is not None:
        value = toml_value(spec.toml)
        if value is not None:
            return Resolved(value, "dso.toml")
    ini = read_ini(config, spec)
    if ini not in (None, "", [], ()):
        value = _convert(spec, ini, f"ini key {spec.ini}")
        if spec.kind == "path":  # the ini's paths are relative to pytest's rootdir
            value = Path(config.rootpath) / value
        return Resolved(value, "ini")
    if spec.kind == "path" and isinstance(spec.default, Path):
        return Resolved(Path(config.rootpath) / spec.default, "default")
    return Resolved(spec.default, "default")


def default_config_path(config: _Config) -> Path | None:
    """The ``dso.toml`` used without ``--dso-config``: the one in the folder pytest runs in,
    else the one in pytest's rootdir (so ``pytest`` from a subfolder finds it)."""
    for folder in (Path(config.invocation_params.dir), Path(config.rootpath)):
        candidate = folder / DEFAULT_CONFIG
        if candidate.is_file():
            return candidate
    return None


def resolve_settings(config: _Config, environ: Mapping[str, str] | None = None) -> DsoSettings:
    """Resolve every setting. Raises :class:`SettingError` or ``ConfigError`` with a clear
    message; the plugin turns those into ``pytest.UsageError``."""
    environ = os.environ if environ is None else environ
    no_toml: Callable[[str], Any] = lambda _key: None  # noqa: E731
    config_res = _from_sources(SPEC_BY_NAME["config"], config, environ, no_toml)
    path: Path | None = config_res.value
    source = config_res.source
    if path is None:
        found = default_config_path(config)
        if found is not None:
            here = found.parent == Path(config.invocation_params.dir)
            path = found
            source = "default: ./dso.toml exists" if here else "default: dso.toml in the rootdir"
    file = load_dso_toml(path) if path is not None else DsoFile()
    resolved: dict[str, Resolved] = {"config": Resolved(path, source)}
    for spec in SPECS:
        if spec.name != "config":
            resolved[spec.name] = _from_sources(
                spec, config, environ, lambda key: getattr(file, key, None)
            )
    return DsoSettings(
        env=resolved["env"].value,
        ticket=resolved["ticket"].value,
        tenant_filter=tuple(resolved["tenants"].value),
        allow_writes=bool(resolved["allow_writes"].value),
        allow_prod_writes=bool(resolved["allow_prod_writes"].value),
        verzoeknummer=resolved["verzoeknummer"].value,
        output_dir=Path(resolved["output"].value).absolute(),
        suites=tuple(resolved["suites"].value),
        fail_on=str(resolved["fail_on"].value),
        config_path=path.resolve() if path is not None else None,
        file=file,
        sources=MappingProxyType({k: r.source for k, r in resolved.items()}),
    )

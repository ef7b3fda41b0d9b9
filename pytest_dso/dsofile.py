"""Reading and validating ``dso.toml`` (standard library ``tomllib``).

Every problem is reported with the file, the key and what was expected; unknown keys are
errors too, because a typo silently ignored is a check silently skipped.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pytest_dso.environments import API_NAMES
from pytest_dso.pkio.config import CertificateConfig as CertificateConfig
from pytest_dso.pkio.parties import STANDARD_PARTIES
from pytest_dso.tenants import BG_TYPES, Tenant

TRIGGER_SOURCES = ("receiver", "folder", "http-forward", "ebms-core", "manual")
_OIN_RE = re.compile(r"^[0-9A-Za-z]{20}$")


class ConfigError(ValueError):
    """``dso.toml`` is unreadable or invalid; ``problems`` lists every issue found."""

    def __init__(self, path: Path | None, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        where = str(path) if path else "dso.toml"
        super().__init__(f"{where} is not valid:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class LeverancierConfig:
    """``[leverancier]``: the party that connects (it may also be the Digikoppelaar)."""

    oin: str
    name: str


def local_leverancier() -> LeverancierConfig:
    """The built-in local leverancier (the test PKI's)."""
    party = next(p for p in STANDARD_PARTIES if p.slug == "leverancier")
    return LeverancierConfig(oin=party.oin, name=party.name)


@dataclass(frozen=True)
class EbmsConfig:
    """``[ebms]``: the CPA that decides the ping partner, and the harness's own listener."""

    cpa: Path | None = None
    listen: str = "127.0.0.1:0"
    timeout: float = 30.0
    endpoint: str | None = None
    concurrency: int = 16


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the adapter's allow list and host, the NCSC TLS guidelines edition the TLS
    suite judges by (``2025-05`` or ``2.1``), and whether it scans every suite (``tls_scan``)."""

    allow_from: tuple[str, ...] = ()
    allow_from_file: Path | None = None
    adapter_host: str | None = None
    tls_guidelines: str = "2025-05"
    tls_scan: bool = True


@dataclass(frozen=True)
class TriggersConfig:
    """``[triggers]``: where verzoeknotificaties are observed."""

    source: str = "receiver"
    timeout: float = 60.0
    folder: Path | None = None
    http_forward_listen: str = "127.0.0.1:0"
    ebms_core_url: str | None = None
    ebms_core_username: str | None = None
    ebms_core_password_env: str | None = None
    ebms_core_headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ebms_core_paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ebms_core_client_certificate: bool = True
    ebms_core_events: bool = False
    mark_processed: bool = False
    poll_interval: float = 0.5
    lookback: float = 3600.0
    verzoeknummer_xpath: str | None = None
    verzoeknummer_regex: str | None = None
    namespaces: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ApiConfig:
    """``[api]``: base URLs and paths where the public specification is incomplete."""

    base_urls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    acting_oin_header: str | None = None
    api_key_env: str | None = None
    openapi_dir: Path | None = None
    indienen_version: str = "v5"
    rerouting_version: str = "v1"


@dataclass(frozen=True)
class HealthConfig:
    """``[health]``: the scheduled read-only checks."""

    missed_days: int = 7


@dataclass(frozen=True)
class BehandeldienstConfig:
    """``[behandeldienst]``: the behandeldienstconfiguratie suite."""

    configuraties: Path | None = None
    test_activiteit: str = "pytest-dso testactiviteit"


@dataclass(frozen=True)
class StamConfig:
    """``[stam]``: STAM XML validation."""

    xsd_dir: Path | None = None
    verzoeknummer_pattern: str = r"^\d{13}$"


@dataclass(frozen=True)
class EvidenceConfig:
    """``[evidence]``: where results go and what is redacted."""

    allure_dir: Path | None = None
    redact_elements: tuple[str, ...] = ("bsn", "burgerservicenummer")
    redact_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SimulatorConfig:
    """``[simulator]``: the embedded DSO-LV."""

    host: str = "127.0.0.1"
    ebms_port: int = 0
    api_port: int = 0
    faults: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[simulator.limits]``: bounds by name (``pytest_dso.sim.config.parse_limits``).
    limits: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class DsoFile:
    """The parsed ``dso.toml``; every section present, with defaults where absent."""

    path: Path | None = None
    env: str | None = None
    ticket: str | None = None
    tenants: tuple[str, ...] | None = None
    allow_writes: bool | None = None
    allow_prod_writes: bool | None = None
    output: Path | None = None
    suites: tuple[str, ...] | None = None
    fail_on: str | None = None
    leverancier: LeverancierConfig | None = None
    certificate: CertificateConfig | None = None
    bevoegde_gezagen: tuple[Tenant, ...] = ()
    ebms: EbmsConfig = EbmsConfig()
    network: NetworkConfig = NetworkConfig()
    triggers: TriggersConfig = TriggersConfig()
    api: ApiConfig = ApiConfig()
    behandeldienst: BehandeldienstConfig = BehandeldienstConfig()
    health: HealthConfig = HealthConfig()
    stam: StamConfig = StamConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)


# --- the schema -----------------------------------------------------------------------------

_Conv = Callable[[Any], Any]


class _Bad(Exception):
    def __init__(self, expected: str) -> None:
        self.expected = expected


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("a string")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad("an integer")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad("a number")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("true or false")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("a list of strings")
    return tuple(value)


def _str_table(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Bad("a table of strings")
    return MappingProxyType(dict(value))


def _table(value: Any) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise _Bad("a table")
    return MappingProxyType(dict(value))


def _oin(value: Any) -> str:
    text = _str(value)
    if not _OIN_RE.match(text):
        raise _Bad("a 20-character OIN (e.g. 00000001002220647000)")
    return text


def _oins(value: Any) -> tuple[str, ...]:
    return tuple(_oin(v) for v in _strs(value))


def _fingerprints(value: Any) -> tuple[str, ...]:
    cleaned = tuple(v.replace(":", "").strip().lower() for v in _strs(value))
    if not all(re.fullmatch(r"[0-9a-f]{64}", v) for v in cleaned):
        raise _Bad("a list of SHA-256 fingerprints (64 hex digits, colons allowed)")
    return cleaned


def _days(value: Any) -> int:
    days = _int(value)
    if not 1 <= days <= 366:
        raise _Bad("a number of days from 1 to 366")
    return days


def _choice(*allowed: str) -> _Conv:
    def convert(value: Any) -> str:
        text = _str(value)
        if text not in allowed:
            raise _Bad("one of " + ", ".join(repr(a) for a in allowed))
        return text

    return convert


_PATH = "path"  # marker: a string resolved relative to the file's folder

_SECTIONS: dict[str, dict[str, _Conv | str]] = {
    "dso": {
        "env": _choice("local", "pre", "prod"),
        "ticket": _str,
        "tenants": _strs,
        "allow_writes": _bool,
        "allow_prod_writes": _bool,
        "output": _PATH,
        "suites": _strs,
        "fail_on": _choice("error", "warning"),
    },
    "leverancier": {"oin": _oin, "name": _str},
    "certificate": {
        "cert": _PATH,
        "key": _PATH,
        "pkcs12": _PATH,
        "chain": _PATH,
        "ca_bundle": _PATH,
        "passphrase_env": _str,
        "passphrase_file": _PATH,
        "expiry_warning_days": _int,
        "host": _str,
        "oin": _oin,
        "accepted_root_fingerprints": _fingerprints,
    },
    "ebms": {
        "cpa": _PATH,
        "listen": _str,
        "timeout": _float,
        "endpoint": _str,
        "concurrency": _int,
    },
    "network": {
        "allow_from": _strs,
        "allow_from_file": _PATH,
        "adapter_host": _str,
        "tls_guidelines": _choice("2025-05", "2.1"),
        "tls_scan": _bool,
    },
    "triggers": {
        "source": _choice(*TRIGGER_SOURCES),
        "timeout": _float,
        "folder": _PATH,
        "http_forward_listen": _str,
        "ebms_core_url": _str,
        "ebms_core_username": _str,
        "ebms_core_password_env": _str,
        "ebms_core_headers": _str_table,
        "ebms_core_paths": _str_table,
        "ebms_core_client_certificate": _bool,
        "ebms_core_events": _bool,
        "mark_processed": _bool,
        "poll_interval": _float,
        "lookback": _float,
        "verzoeknummer_xpath": _str,
        "verzoeknummer_regex": _str,
        "namespaces": _str_table,
    },
    "api": {
        "base_urls": _str_table,
        "paths": _str_table,
        "acting_oin_header": _str,
        "api_key_env": _str,
        "openapi_dir": _PATH,
        "indienen_version": _choice("v4", "v5"),
        "rerouting_version": _choice("v1", "v2"),
    },
    "health": {"missed_days": _days},
    "behandeldienst": {"configuraties": _PATH, "test_activiteit": _str},
    "stam": {"xsd_dir": _PATH, "verzoeknummer_pattern": _str},
    "evidence": {"allure_dir": _PATH, "redact_elements": _strs, "redact_headers": _strs},
    "simulator": {"host": _str, "ebms_port": _int, "api_port": _int, "faults": _table,
                  "limits": _table},
}
_BG_KEYS: dict[str, _Conv | str] = {
    "oin": _oin,
    "name": _str,
    "type": _choice(*BG_TYPES),
    "behandeldiensten": _oins,
    "behandeldienst": _oins,
}
_REQUIRED = {"leverancier": ("oin", "name")}
_BG_REQUIRED = ("oin", "name", "type")
_FORBIDDEN = {
    "passphrase": "inline passphrases are not allowed; use passphrase_env (the name of an "
    "environment variable) or passphrase_file (a file readable only by you)",
    "password": "inline passwords are not allowed; use passphrase_env or passphrase_file",
}


class _Reader:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.base = path.parent if path else Path.cwd()
        self.problems: list[str] = []

    def section(
        self,
        name: str,
        data: Any,
        schema: Mapping[str, _Conv | str],
        required: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.problems.append(f"[{name}]: expected a table, got {type(data).__name__}")
            return None
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in _FORBIDDEN:
                self.problems.append(f"[{name}] {key}: {_FORBIDDEN[key]}")
                continue
            conv = schema.get(key)
            if conv is None:
                self.problems.append(
                    f"[{name}] {key}: unknown key; known keys are {', '.join(sorted(schema))}"
                )
                continue
            try:
                out[key] = self.base / _str(value) if conv == _PATH else conv(value)  # type: ignore[operator]
            except _Bad as bad:
                self.problems.append(
                    f"[{name}] {key}: expected {bad.expected}, got {value!r}"
                    if not isinstance(value, dict | list)
                    else f"[{name}] {key}: expected {bad.expected}"
                )
        for key in required:
            if key not in data:
                self.problems.append(f"[{name}] {key}: required key is missing")
        return out


def _certificate(reader: _Reader, where: str, values: dict[str, Any]) -> CertificateConfig:
    has_pem = "cert" in values or "key" in values
    if has_pem and "pkcs12" in values:
        reader.problems.append(f"[{where}]: give either cert + key (PEM) or pkcs12, not both")
    elif has_pem and not ("cert" in values and "key" in values):
        missing = "key" if "cert" in values else "cert"
        reader.problems.append(f"[{where}] {missing}: required together with the other PEM file")
    elif not has_pem and "pkcs12" not in values:
        reader.problems.append(f"[{where}]: give cert + key (PEM paths) or pkcs12")
    if "passphrase_env" in values and "passphrase_file" in values:
        reader.problems.append(f"[{where}]: give passphrase_env or passphrase_file, not both")
    return CertificateConfig(**values)


def parse_dso_toml(text: str, path: Path | None = None) -> DsoFile:
    """Parse and validate the text of a ``dso.toml``. Raises :class:`ConfigError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    reader = _Reader(path)
    kwargs: dict[str, Any] = {"path": path, "raw": MappingProxyType(data)}
    for name, value in data.items():
        if name == "bevoegd_gezag":
            kwargs["bevoegde_gezagen"] = _bevoegde_gezagen(reader, value)
            continue
        schema = _SECTIONS.get(name)
        if schema is None:
            reader.problems.append(
                f"[{name}]: unknown section; known sections are "
                + ", ".join(sorted([*_SECTIONS, "bevoegd_gezag"]))
            )
            continue
        values = reader.section(name, value, schema, _REQUIRED.get(name, ()))
        if values is None:
            continue
        if name == "dso":
            kwargs.update(values)
        elif name == "leverancier":
            if {"oin", "name"} <= values.keys():
                kwargs["leverancier"] = LeverancierConfig(**values)
        elif name == "certificate":
            kwargs["certificate"] = _certificate(reader, "certificate", values)
        else:
            if name == "api":
                unknown = set(values.get("base_urls", {})) - set(API_NAMES)
                if unknown:
                    reader.problems.append(
                        f"[api.base_urls] {', '.join(sorted(unknown))}: unknown API; known APIs "
                        f"are {', '.join(API_NAMES)}"
                    )
            kwargs[name] = _SECTION_TYPES[name](**values)
    if reader.problems:
        raise ConfigError(path, reader.problems)
    return DsoFile(**kwargs)


_SECTION_TYPES: dict[str, type] = {
    "ebms": EbmsConfig,
    "network": NetworkConfig,
    "triggers": TriggersConfig,
    "api": ApiConfig,
    "behandeldienst": BehandeldienstConfig,
    "health": HealthConfig,
    "stam": StamConfig,
    "evidence": EvidenceConfig,
    "simulator": SimulatorConfig,
}


def _bevoegde_gezagen(reader: _Reader, value: Any) -> tuple[Tenant, ...]:
    if not isinstance(value, list):
        reader.problems.append("[[bevoegd_gezag]]: expected an array of tables ([[bevoegd_gezag]])")
        return ()
    result = []
    for index, item in enumerate(value, start=1):
        where = f"bevoegd_gezag #{index}"
        if not isinstance(item, dict):
            reader.problems.append(f"[{where}]: expected a table")
            continue
        cert_data = item.get("certificate")
        plain = {k: v for k, v in item.items() if k != "certificate"}
        values = reader.section(where, plain, _BG_KEYS, _BG_REQUIRED)
        if values is None or not set(_BG_REQUIRED) <= values.keys():
            continue
        bds = values.pop("behandeldiensten", ()) + values.pop("behandeldienst", ())
        certificate = None
        if cert_data is not None:
            cert_values = reader.section(
                f"{where}.certificate", cert_data, _SECTIONS["certificate"]
            )
            if cert_values is not None:
                certificate = _certificate(reader, f"{where}.certificate", cert_values)
        result.append(Tenant(**values, behandeldiensten=bds, certificate=certificate))
    oins = [bg.oin for bg in result]
    for oin in sorted({o for o in oins if oins.count(o) > 1}):
        reader.problems.append(f"[[bevoegd_gezag]] oin: {oin} is listed more than once")
    return tuple(result)


def load_dso_toml(path: Path) -> DsoFile:
    """Read and validate ``path``. Raises :class:`ConfigError` with every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read the file: {exc}"]) from None
    return parse_dso_toml(text, path.resolve())

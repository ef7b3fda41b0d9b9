"""The Allure results folder: a redacting writer, run metadata and reading results back.

Allure reads three optional files from the results folder, which allure-pytest does not
write: ``environment.properties`` (shown as the environment / metadata panel),
``executor.json`` and ``categories.json`` (honoured by the ``allure2`` report type). Under
pytest-xdist only the controller writes them.

The category patterns are our own grouping of failure messages; they are not an Allure or
DSO convention. They avoid inline regex flags so both the Java and the JavaScript
generators accept them.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import allure_commons
import attr
from allure_commons.model2 import TEST_GROUP_PATTERN

from pytest_dso.evidence.allure import (
    LABEL_ENV,
    LABEL_PROOF,
    LABEL_STEP,
    LABEL_TENANT,
    LABEL_TENANT_NAME,
    LABEL_VERZOEKNUMMER,
)
from pytest_dso.evidence.redaction import Redactor

if TYPE_CHECKING:
    from pytest_dso.settings import DsoSettings

ENVIRONMENT_FILE = "environment.properties"
EXECUTOR_FILE = "executor.json"
CATEGORIES_FILE = "categories.json"

_ANY = r"[\s\S]*"
CATEGORIES: tuple[Mapping[str, Any], ...] = (
    {
        "name": "Timeout",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": _ANY + r"(?:[Tt]imed? ?[Oo]ut|TIMEOUT|niet binnen)" + _ANY,
    },
    {
        "name": "Connectivity / TLS",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": _ANY
        + r"(?:SSL|TLS|[Hh]andshake|CERTIFICATE_VERIFY_FAILED|certificate verify failed|"
        r"[Cc]onnection (?:refused|reset|aborted)|ConnectionError|ECONNREFUSED|"
        r"No route to host|Name or service not known|network\.|tls\.)" + _ANY,
    },
    {
        "name": "Certificate",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": _ANY + r"(?:pkio\.|[Cc]ertificate|[Cc]ertificaat|PKIoverheid)" + _ANY,
    },
    {
        "name": "Configuration",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": _ANY
        + r"(?:dso\.toml|UsageError|not configured|niet geconfigureerd|passphrase_env|"
        r"passphrase_file|\[api|\[ebms|\[certificate)" + _ANY,
    },
    {
        "name": "Conformance",
        "matchedStatuses": ["failed"],
        "messageRegex": _ANY + r"(?:stam\.|ebms\.|cpa\.|dso\.|[Ss]chema|XSD|conform)" + _ANY,
    },
)


# --- the writer -------------------------------------------------------------------------------


class RedactingResultsWriter:
    """Writes Allure results like allure-pytest's file writer, but passes every result,
    container and text attachment through the run's :class:`Redactor` first.

    Files are written to a temporary name and renamed, so readers (and other xdist workers)
    never see half a file.

    Fixture containers: allure-pytest reports one container per fixture per test. A
    container without children (a parametrisation's pseudo-fixture) belongs to no test, so
    Allure shows it nowhere: it is not written. The containers that belong to exactly one
    test (its function-scoped fixtures) are written as one container with all their set-ups
    and tear-downs (by start time), when that test's result is written
    (Allure shows a test's set-up as the union of its containers, so the report is the
    same). Call :meth:`flush` at the end of the run: it writes any container still held.
    """

    #: Containers held for their test at most: beyond it the oldest are written as they are.
    MAX_HELD = 10_000

    def __init__(self, report_dir: Path, redactor: Redactor) -> None:
        self.report_dir = report_dir.absolute()
        self.redactor = redactor
        self.report_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # name -> (redactor generation when redacted, size, mtime in ns) of each file written
        self._written: dict[str, tuple[int, int, int]] = {}
        # test uuid -> the (asdict) containers of that test alone, not yet written
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._held_count = 0
        self._reported: set[str] = set()
        self._serial = itertools.count()

    def _write(self, name: str, data: bytes, generation: int) -> None:
        # unique among this process's threads (the counter) and xdist's workers (the pid)
        tmp = os.path.join(self.report_dir, f"{name}.{os.getpid()}-{next(self._serial)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            stat = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(self.report_dir, name))
        with self._lock:
            self._written[name] = (generation, stat.st_size, stat.st_mtime_ns)

    def is_current(self, path: Path) -> bool:
        """Whether ``path`` is a file this writer wrote, redacted at the redactor's current
        generation and unchanged since (so a second redaction would change nothing)."""
        if path.parent != self.report_dir:
            return False
        with self._lock:
            known = self._written.get(path.name)
        if known is None or known[0] != self.redactor.generation:
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == known[1:]

    def redact_stale(self) -> list[Path]:
        """Redact again every file this writer wrote at an older generation of the redactor
        (a secret registered after it was written); the files that changed."""
        generation = self.redactor.generation
        with self._lock:
            stale = [name for name, known in self._written.items() if known[0] != generation]
        changed: list[Path] = []
        for name in stale:
            path = self.report_dir / name
            if self.redactor.redact_file(path):
                changed.append(path)
            try:
                stat = path.stat()
            except OSError:
                continue
            with self._lock:
                self._written[name] = (generation, stat.st_size, stat.st_mtime_ns)
        return changed

    def current_files(self) -> dict[str, tuple[int, int]]:
        """Name → (size, mtime in ns) of every file this writer wrote that is redacted at the
        redactor's current generation and unchanged since."""
        with self._lock:
            written = list(self._written.items())
        return {name: (size, mtime) for name, (_, size, mtime) in written
                if self.is_current(self.report_dir / name)}

    def _dump(self, data: dict[str, Any], file_pattern: str, generation: int) -> None:
        # the item's own uuid names its file (unique, and no second uuid to draw)
        prefix = data.get("uuid") or uuid.uuid4()
        self._write(file_pattern.format(prefix=prefix),
                    self.redactor.redact_json_text(data).encode("utf-8"), generation)

    def _item(self, item: Any) -> None:
        generation = self.redactor.generation
        data = _as_dict(item)
        _readable_parameters(data)
        self._dump(data, item.file_pattern, generation)

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        """A finished test result; then the containers of that test alone."""
        self._item(result)
        test = str(result.uuid)
        with self._lock:
            self._reported.add(test)
            held = self._held.pop(test, None)
            self._held_count -= len(held) if held else 0
        if held:
            self._write_containers(held)

    @allure_commons.hookimpl
    def report_container(self, container: Any) -> None:
        """A fixture container: dropped without children, held for its test when it has
        one (see the class docstring), else written."""
        children = list(container.children or ())
        if not children:
            return
        data = _as_dict(container)
        spill: list[dict[str, Any]] | None = None
        if len(children) == 1:
            test = str(children[0])
            with self._lock:
                if test not in self._reported:
                    self._held.setdefault(test, []).append(data)
                    self._held_count += 1
                    if self._held_count <= self.MAX_HELD:
                        return
                    spill = self._held.pop(next(iter(self._held)))
                    self._held_count -= len(spill)
        if spill is not None:
            self._write_containers(spill)
        else:
            self._dump(data, TEST_GROUP_PATTERN, self.redactor.generation)

    def _write_containers(self, containers: list[dict[str, Any]]) -> None:
        """The containers of one test as one container file."""
        generation = self.redactor.generation
        if len(containers) == 1:
            self._dump(containers[0], TEST_GROUP_PATTERN, generation)
            return
        merged: dict[str, Any] = {"uuid": containers[0]["uuid"],
                                  "children": containers[0]["children"]}
        for key in ("befores", "afters"):
            steps = sorted((step for c in containers for step in c.get(key) or ()),
                           key=lambda step: step.get("start") or 0)
            if steps:
                merged[key] = steps
        starts = [c["start"] for c in containers if c.get("start")]
        stops = [c["stop"] for c in containers if c.get("stop")]
        if starts:
            merged["start"] = min(starts)
        if stops:
            merged["stop"] = max(stops)
        self._dump(merged, TEST_GROUP_PATTERN, generation)

    def flush(self) -> None:
        """Write every container still held for a test (the end of the run)."""
        with self._lock:
            held, self._held, self._held_count = self._held, {}, 0
        for containers in held.values():
            self._write_containers(containers)

    @allure_commons.hookimpl
    def report_globals(self, globals_item: Any) -> None:
        """Global attachments and errors."""
        self._item(globals_item)

    @allure_commons.hookimpl
    def report_attached_data(self, body: bytes | str, file_name: str) -> None:
        """An attachment given as data."""
        generation = self.redactor.generation
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self._write(file_name, self.redactor.redact_content(file_name, data), generation)

    @allure_commons.hookimpl
    def report_attached_file(self, source: str | os.PathLike[str], file_name: str) -> None:
        """An attachment given as a file."""
        generation = self.redactor.generation
        data = Path(source).read_bytes()
        self._write(file_name, self.redactor.redact_content(file_name, data), generation)


#: Values ``_plain`` passes through as they are.
_SCALARS = frozenset({str, int, float, bool})
#: The attribute names of each attrs class met so far; ``None`` for any other class.
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _plain(value: Any) -> Any:
    """``value`` as ``attr.asdict(value, filter=…)`` turns it into plain data: attrs objects
    become dicts without their empty values (``False`` is kept), collections become lists and
    dicts. The attribute names are looked up once per class: a run writes one result and
    several containers per test."""
    cls = value.__class__
    try:
        names = _FIELDS[cls]
    except KeyError:
        names = _FIELDS[cls] = (tuple(a.name for a in attr.fields(cls)) if attr.has(cls)
                                else None)
    if names is not None:
        out: dict[str, Any] = {}
        for name in names:
            item = getattr(value, name)
            if item or item is False:
                out[name] = item if item.__class__ in _SCALARS else _plain(item)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _as_dict(item: Any) -> dict[str, Any]:
    """An Allure model object as allure-pytest writes it (empty values left out)."""
    data: dict[str, Any] = _plain(item)
    return data


def _readable_parameters(data: Any) -> None:
    """Show string parameters without the quotes of their ``repr`` (``PRE 2.6``, not
    ``'PRE 2.6'``), in the result and every step."""
    if isinstance(data, dict):
        for param in data.get("parameters") or ():
            value = param.get("value") if isinstance(param, dict) else None
            if (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1]
                    and value[0] in "'\"" and value[0] not in value[1:-1]):
                param["value"] = value[1:-1]
        for child in data.get("steps") or ():
            _readable_parameters(child)


def clean_results_dir(folder: Path) -> list[str]:
    """Empty the results folder (create it when missing). Returns the names it could not
    remove (for example while another run writes into the same folder); never raises for
    those."""
    left: list[str] = []
    if folder.is_dir():
        for entry in list(folder.iterdir()):
            try:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                left.append(entry.name)
    folder.mkdir(parents=True, exist_ok=True)
    return left


# --- run metadata -----------------------------------------------------------------------------


def _escape_properties(text: str, key: bool = False) -> str:
    out = io.StringIO()
    for index, char in enumerate(text):
        if char == "\\":
            out.write("\\\\")
        elif char == "\n":
            out.write("\\n")
        elif char == "\r":
            out.write("\\r")
        elif char == "\t":
            out.write("\\t")
        elif char in "=:#!" or (char == " " and (key or index == 0)):
            out.write("\\" + char)
        else:
            out.write(char)
    return out.getvalue()


def write_environment(folder: Path, properties: Mapping[str, str], redactor: Redactor) -> Path:
    """Write ``environment.properties`` (UTF-8, redacted; never put secrets in anyway)."""
    lines = [
        f"{_escape_properties(k, key=True)}={_escape_properties(redactor.redact_text(v))}"
        for k, v in properties.items()
    ]
    path = folder / ENVIRONMENT_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_environment(folder: Path) -> dict[str, str]:
    """Read back ``environment.properties`` (empty when absent)."""
    path = folder / ENVIRONMENT_FILE
    if not path.is_file():
        return {}
    props: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key_chars: list[str] = []
        index = 0
        while index < len(line):
            char = line[index]
            if char == "\\" and index + 1 < len(line):
                key_chars.append(line[index + 1])
                index += 2
                continue
            if char in "=:":
                break
            key_chars.append(char)
            index += 1
        props["".join(key_chars).strip()] = _unescape(line[index + 1 :])
    return props


def _unescape(value: str) -> str:
    table = {"n": "\n", "r": "\r", "t": "\t"}
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            nxt = value[index + 1]
            out.append(table.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def write_executor(folder: Path, executor: Mapping[str, Any]) -> Path:
    """Write ``executor.json``."""
    path = folder / EXECUTOR_FILE
    path.write_text(json.dumps(dict(executor), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_categories(folder: Path, categories: Iterable[Mapping[str, Any]] = CATEGORIES) -> Path:
    """Write ``categories.json``."""
    path = folder / CATEGORIES_FILE
    path.write_text(
        json.dumps([dict(c) for c in categories], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return path


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def _certificate_facts(settings: DsoSettings) -> dict[str, str]:
    cert = settings.file.certificate
    if cert is None:
        if settings.env == "local":
            return {"certificaat": "test-PKI van deze run (lokaal, elke run nieuw)"}
        return {"certificaat": "niet geconfigureerd ([certificate] in dso.toml)"}
    from pytest_dso.pkio.identity import fingerprint_sha256
    from pytest_dso.pkio.load import describe_source, load_certificates, load_configured_identity

    leaf = None
    if cert.cert is not None:
        certificates, _ = load_certificates(cert.cert)
        leaf = certificates[0] if certificates else None
    else:
        identity, _ = load_configured_identity(cert)
        leaf = identity.certificate if identity is not None else None
    facts = {"certificaat.bron": describe_source(cert)}
    if leaf is None:
        facts["certificaat"] = "kon niet worden geladen (zie de testuitkomsten)"
    else:
        facts["certificaat.subject"] = leaf.subject.rfc4514_string()
        facts["certificaat.sha256"] = fingerprint_sha256(leaf)
        facts["certificaat.geldig_tot"] = leaf.not_valid_after_utc.date().isoformat()
    return facts


@dataclass(frozen=True)
class RunInfo:
    """Identifies one run in the evidence."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )


def environment_properties(settings: DsoSettings, run: RunInfo) -> Mapping[str, str]:
    """What ``environment.properties`` holds: environment, ticket, leverancier, tenants,
    versions, base URLs and the client certificate's subject and fingerprint. No secrets."""
    from pytest_dso.environments import profile

    props: dict[str, str] = {
        "omgeving": settings.env.upper(),
        "ticketnummer": settings.ticket or "-",
        "run.id": run.run_id,
        "run.start": run.started,
    }
    leverancier = settings.leverancier()
    if leverancier is not None:
        props["leverancier"] = f"{leverancier.name} ({leverancier.oin})"
    try:
        tenants = settings.tenants()
    except ValueError:
        tenants = ()
    props["tenants"] = "; ".join(f"{t.oin} {t.name}" for t in tenants) or "-"
    for index, tenant in enumerate(tenants, 1):
        props[f"tenant.{index}"] = f"{tenant.oin}|{tenant.name}|{tenant.type}"
    if settings.verzoeknummer:
        props["verzoeknummer"] = settings.verzoeknummer
    env = profile(settings.env).with_base_urls(settings.file.api.base_urls)
    if settings.env == "local" and not env.api_base_urls:
        props["basis-url"] = "ingebouwde simulator op 127.0.0.1 (poorten per run)"
    for api, url in sorted(env.api_base_urls.items()):
        props[f"basis-url.{api}"] = url
    if settings.file.ebms.cpa is not None:
        props["cpa"] = settings.file.ebms.cpa.name
    if settings.file.ebms.endpoint:
        props["ebms.endpoint"] = settings.file.ebms.endpoint
    certificate = settings.file.certificate
    roots = certificate.accepted_root_fingerprints if certificate is not None else ()
    if roots:
        props["certificaat.geaccepteerde_roots"] = ", ".join(roots)
    props.update(_certificate_facts(settings))
    for dist in ("pytest-dso", "pytest", "allure-pytest", "cryptography", "lxml"):
        props[f"versie.{dist}"] = _version(dist)
    return MappingProxyType(props)


def _int_or(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def executor_info(
    settings: DsoSettings, run: RunInfo, environ: Mapping[str, str]
) -> dict[str, Any]:
    """``executor.json``: the CI job when one is detected (GitHub Actions, GitLab CI)."""
    info: dict[str, Any] = {
        "name": "pytest-dso",
        "type": "pytest",
        "buildName": f"pytest-dso {settings.env.upper()} {settings.ticket or ''}".strip(),
        "buildOrder": int(dt.datetime.fromisoformat(run.started).timestamp()),
        "reportName": f"pytest-dso {settings.env.upper()} {settings.ticket or ''}".strip(),
    }
    if environ.get("GITHUB_ACTIONS"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repo = environ.get("GITHUB_REPOSITORY", "")
        run_id = environ.get("GITHUB_RUN_ID", "")
        info.update(
            name="GitHub Actions",
            type="github",
            buildOrder=_int_or(environ.get("GITHUB_RUN_NUMBER"), info["buildOrder"]),
            buildUrl=f"{server}/{repo}/actions/runs/{run_id}",
        )
    elif environ.get("GITLAB_CI"):
        info.update(
            name="GitLab CI",
            type="gitlab",
            buildOrder=_int_or(environ.get("CI_PIPELINE_IID"), info["buildOrder"]),
            buildUrl=environ.get("CI_JOB_URL", ""),
        )
    return info


# --- reading results back ---------------------------------------------------------------------


@dataclass(frozen=True)
class TestOutcome:
    """One test as the Allure results record it."""

    __test__ = False  # not a pytest test class

    name: str
    full_name: str
    status: str
    start: int | None
    stop: int | None
    labels: Mapping[str, tuple[str, ...]]
    message: str = ""
    history_id: str = ""

    def label(self, name: str) -> str | None:
        """The first value of label ``name``."""
        values = self.labels.get(name, ())
        return values[0] if values else None

    @property
    def step(self) -> str | None:
        """The aansluitproces step (``PRE 2.6``), if labelled; the first in sort order when a
        test proves several."""
        return self.label(LABEL_STEP)

    @property
    def steps(self) -> tuple[str, ...]:
        """Every aansluitproces step the test is labelled with."""
        return self.labels.get(LABEL_STEP, ())

    @property
    def tenant(self) -> str | None:
        """The tenant's OIN, if labelled."""
        return self.label(LABEL_TENANT)

    @property
    def tenant_name(self) -> str | None:
        """The tenant's name, if labelled."""
        return self.label(LABEL_TENANT_NAME)

    @property
    def env(self) -> str | None:
        """The environment label."""
        return self.label(LABEL_ENV)

    @property
    def proofs(self) -> tuple[str, ...]:
        """What the test recorded as proof of its step (``CPAId …``, a sha256), in order."""
        return self.labels.get(LABEL_PROOF, ())

    @property
    def verzoeknummer(self) -> str | None:
        """The verzoeknummer, if recorded."""
        return self.label(LABEL_VERZOEKNUMMER)


def load_results(folder: Path) -> list[TestOutcome]:
    """Every test in ``*-result.json`` under ``folder``: one per test (the latest attempt when
    a test was retried), sorted by full name and tenant, so the same run gives the same list
    with or without xdist."""
    latest: dict[str, TestOutcome] = {}
    for path in sorted(folder.glob("*-result.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        labels: dict[str, list[str]] = {}
        for item in data.get("labels", []):
            if isinstance(item, dict) and "name" in item and "value" in item:
                labels.setdefault(str(item["name"]), []).append(str(item["value"]))
        details = data.get("statusDetails") or {}
        outcome = TestOutcome(
            name=str(data.get("name", "")),
            full_name=str(data.get("fullName", data.get("name", ""))),
            status=str(data.get("status", "unknown")),
            start=data.get("start"),
            stop=data.get("stop"),
            # allure-pytest writes marker labels in no fixed order: sort for a stable result.
            labels=MappingProxyType({k: tuple(sorted(set(v))) for k, v in labels.items()}),
            message=str(details.get("message", "")) if isinstance(details, dict) else "",
            history_id=str(data.get("historyId", "")),
        )
        key = outcome.history_id or f"{outcome.full_name}|{outcome.name}|{path.name}"
        previous = latest.get(key)
        if previous is None or (outcome.stop or 0) >= (previous.stop or 0):
            latest[key] = outcome
    return sorted(latest.values(), key=lambda o: (o.full_name, o.name, o.tenant or ""))

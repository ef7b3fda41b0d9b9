"""Self-tests of pytest-dso."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

#: The plugin module every pytester run loads (a quick EC ``dso_test_pki``). The outer session
#: loads it too, so a self-test that uses ``dso_test_pki`` itself gets the same EC test PKI as
#: its in-process runs (made once per process).
SELFTEST_PLUGIN = "dso_selftest_plugin"
pytest_plugins = ["pytester", SELFTEST_PLUGIN]
HERE = Path(__file__).resolve().parent
KEY_TYPE_ENV: str = importlib.import_module(SELFTEST_PLUGIN).KEY_TYPE_ENV
#: Where a refused contact beyond loopback is noted (see dso_selftest_plugin).
NETLOG_ENV: str = importlib.import_module(SELFTEST_PLUGIN).LOG_ENV
#: Plugins no pytester run uses: the dev-extra schemathesis and anyio cost about a second of
#: imports per process, and hypothesis' terminal summary imports all of hypothesis (half a
#: second) at the end of every run.
UNUSED_PLUGINS = ("-p", "no:schemathesis", "-p", "no:anyio", "-p", "no:hypothesispytest")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: an inherently slow end-to-end test; `tasks.py test` runs it first"
    )
    config.addinivalue_line(
        "markers", "pki(key_type): the key type of the pytester runs' test PKI, e.g. 'rsa2048' "
        "for a test about RSA (default: ec256, quick)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` tests first: with ``--dist worksteal`` (``tasks.py test``) one worker
    starts on them while the other takes the rest, and neither ends on a long tail."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class _ReadOnceDistribution(importlib.metadata.Distribution):
    """An installed distribution whose entry points, file list and metadata are read from
    disk once per process instead of in every pytester run."""

    def __init__(self, dist: importlib.metadata.Distribution) -> None:
        self._dist = dist
        self._cache: dict[str, Any] = {}

    def read_text(self, filename: str) -> str | None:
        return self._dist.read_text(filename)

    def locate_file(self, path: str | os.PathLike[str]) -> Any:
        return self._dist.locate_file(path)

    def _once(self, name: str, read: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = read()
        return self._cache[name]

    @property
    def entry_points(self) -> importlib.metadata.EntryPoints:
        return cast(importlib.metadata.EntryPoints,
                    self._once("entry_points", lambda: self._dist.entry_points))

    @property
    def files(self) -> list[importlib.metadata.PackagePath] | None:
        return cast(list[importlib.metadata.PackagePath] | None,
                    self._once("files", lambda: self._dist.files))

    @property
    def metadata(self) -> Any:
        return self._once("metadata", lambda: self._dist.metadata)


_all_distributions = importlib.metadata.distributions


@functools.cache
def _installed() -> tuple[importlib.metadata.Distribution, ...]:
    return tuple(_ReadOnceDistribution(d) for d in _all_distributions())


def _distributions(**kwargs: Any) -> Iterable[importlib.metadata.Distribution]:
    """``importlib.metadata.distributions`` for the in-process runs: every pytest run scans
    the installed distributions for plugin entry points and the files to rewrite asserts in
    (a tenth of a second a run); the installed set does not change during the session."""
    return _all_distributions(**kwargs) if kwargs else _installed()


@pytest.fixture
def pytester(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> pytest.Pytester:
    """The one pytester of the self-tests: runs not influenced by the caller's DSO_*,
    PYTEST_ADDOPTS or the pytest-xdist worker variables of the outer run, and quick.

    Its runs have pytest-dso switched on with ``DSO_SUITES=none``: active, as with any
    ``DSO_*`` setting, and collecting only the test files the test writes, not the packaged
    suites. A test about activation or the packaged suites removes the variable itself.

    Speed: every run (in-process or subprocess) loads :mod:`dso_selftest_plugin`, whose
    ``dso_test_pki`` is an EC test PKI made once per process (a test about RSA marks itself
    ``@pytest.mark.pki("rsa2048")``); and ``DSO_CHROMIUM=off`` keeps the ticket bundle from
    starting Chromium (a test about Chromium removes the variable); ``PYTEST_ADDOPTS`` keeps
    the plugins of :data:`UNUSED_PLUGINS` out of the runs; in-process runs read the installed
    distributions' metadata once (:func:`_distributions`).
    """
    for name in list(os.environ):
        if name.startswith(("DSO_", "PYTEST_XDIST_")) or name in ("PYTEST_ADDOPTS",
                                                                  "PYTEST_PLUGINS"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DSO_SUITES", "none")
    marker = request.node.get_closest_marker("pki")
    monkeypatch.setenv(KEY_TYPE_ENV, marker.args[0] if marker else "ec256")
    monkeypatch.setenv("PYTEST_PLUGINS", SELFTEST_PLUGIN)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("DSO_CHROMIUM", "off")
    monkeypatch.setenv("PYTEST_ADDOPTS", " ".join(UNUSED_PLUGINS))
    monkeypatch.setattr(importlib.metadata, "distributions", _distributions)
    return pytester


@pytest.fixture(scope="session", autouse=True)
def _no_chromium() -> Iterator[None]:
    """``DSO_CHROMIUM=off`` for every self-test: a ticket bundle built outside pytester
    (``dso-report bundle`` or ``add-screenshot`` called in-process) would start Chromium for
    every build. A test about Chromium removes the variable (``monkeypatch.delenv``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DSO_CHROMIUM", "off")
        yield


@pytest.fixture(scope="session")
def _refused_contacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The file where every process of this session (the outer one, pytester runs, the
    rehearsal's runs) notes a contact beyond loopback that dso_selftest_plugin refused."""
    log = tmp_path_factory.mktemp("loopback-only") / "refused.txt"
    log.touch()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(NETLOG_ENV, str(log))
        yield log


@pytest.fixture(autouse=True)
def _loopback_only(_refused_contacts: Path) -> Iterator[None]:
    """A self-test that made anything try to reach a non-loopback host errors, naming it."""
    seen = _refused_contacts.stat().st_size
    yield
    if _refused_contacts.stat().st_size > seen:
        with _refused_contacts.open("rb") as log:
            log.seek(seen)
            refused = log.read().decode("utf-8", "replace")
        pytest.fail(f"the self-tests reach only loopback addresses; refused:\n{refused}",
                    pytrace=False)


def _hostile_certificates() -> dict[str, object]:
    """Certificates that load but whose fields do not decode, made by patching the DER of
    freshly issued ones: a 0xFF byte in the subject, a 0xFF byte in a SAN dNSName, and a
    duplicated extension. Keyed by kind; values are ``x509.Certificate``."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)

    def issue(extensions: list[x509.ExtensionType]) -> bytes:
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "HOSTILEXCN"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "00000099000000999000"),
        ])
        builder = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    san = x509.SubjectAlternativeName([x509.DNSName("hostilexsan.test")])
    plain = issue([san])
    one = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    two = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.2"), b"\x05\x00")
    doubled = issue([san, one, two])
    one_oid = bytes.fromhex("2b0601040186 8d1f01".replace(" ", ""))
    two_oid = one_oid[:-1] + b"\x02"
    assert two_oid in doubled, "the OID encoding changed"
    load = x509.load_der_x509_certificate
    return {
        "ff-subject": load(plain.replace(b"HOSTILEXCN", b"HOSTILE\xffCN")),
        "ff-san": load(plain.replace(b"hostilexsan", b"hostile\xffsan")),
        "duplicate-extension": load(doubled.replace(two_oid, one_oid)),
    }


@pytest.fixture(scope="session")
def hostile_certificates() -> dict[str, object]:
    """Certificates whose fields fail to decode (see :func:`_hostile_certificates`)."""
    return _hostile_certificates()

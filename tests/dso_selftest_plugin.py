"""Loaded into every pytester run of the self-tests (``PYTEST_PLUGINS``, see conftest.py).

It overrides the ``dso_test_pki`` override point with a quick EC test PKI: an RSA-3072 one
takes seconds to make in every run, an EC P-256 one a tenth of a second. Inside one process
(the outer session and its in-process ``pytester.runpytest`` runs) it is made once and reused.
A test about RSA sets the key type with ``@pytest.mark.pki("rsa2048")`` (the pytester fixture
passes it as ``DSO_SELFTEST_KEY_TYPE``); a test's own conftest.py that defines ``dso_test_pki``
still wins (conftest fixtures override plugin ones).

It also keeps the process on loopback: :func:`install_loopback_only` adds an audit hook
(PEP 578) that refuses a connect to, a datagram to, or a name lookup of a host that is not
loopback, as an unreachable network refuses it (``OSError`` ``ENETUNREACH``, or
``socket.gaierror`` for a lookup), so the code under test takes its offline path and nothing
leaves the machine. Each refusal is also written to the file named by :data:`LOG_ENV`, which the
outer session (conftest.py) turns into an error of the test that caused it. Names under the
reserved top-level domains ``.invalid``, ``.test`` and ``.example`` (RFC 2606/6761) are refused
without being reported: a test may use them to mean "a host that does not resolve".

PYTEST_DONT_REWRITE: the outer session imports this module before the runs load it, and it
holds no assertions to rewrite.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import os
import socket
import sys
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from pytest_dso.pkio.testpki import KeyType, TestPki

KEY_TYPE_ENV = "DSO_SELFTEST_KEY_TYPE"
#: The file every refused contact is appended to (one line each), when set.
LOG_ENV = "PYTEST_DSO_SELFTEST_NETLOG"
_LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost",
                          "ip6-loopback"})
_UNRESOLVABLE = (".invalid", ".test", ".example")
_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                      "socket.gethostbyaddr", "socket.getnameinfo"})
_installed = False
_HOSTNAME = socket.gethostname().lower()


def is_local(host: object) -> bool:
    """Is ``host`` (a name or an address) this machine: loopback, unspecified or its own name?"""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if isinstance(host, tuple):  # getnameinfo's sockaddr
        host = host[0] if host else ""
    name = str(host).strip().rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost") or name == _HOSTNAME:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _host(event: str, args: tuple[Any, ...]) -> tuple[bool, object]:
    """(whether ``event`` is a contact or lookup at all, the host it is about)."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return False, None
        return isinstance(address, tuple) and bool(address), address[0] if address else None
    if event in _LOOKUPS:
        return True, args[0]
    return False, None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith("socket."):
        return
    relevant, host = _host(event, args)
    if not relevant or is_local(host):
        return
    name = str(host).rstrip(".").lower()
    if not name.endswith(_UNRESOLVABLE):
        log = os.environ.get(LOG_ENV)
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"{event} {host!r} (pid {os.getpid()})\n")
    message = f"the self-tests reach only loopback addresses, not {host!r}"
    if event in _LOOKUPS:
        raise socket.gaierror(socket.EAI_NONAME, message)
    raise OSError(errno.ENETUNREACH, message)


def install_loopback_only() -> None:
    """Add the audit hook to this process (once; audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


install_loopback_only()


@functools.cache
def shared_pki(key_type: KeyType) -> TestPki:
    """The test PKI of this process for ``key_type``, made on first use (imported then: a run
    that needs none, like an unrelated project's, loads no cryptography for it)."""
    from pytest_dso.pkio.testpki import build_test_pki

    return build_test_pki(key_type=key_type)


@pytest.fixture(scope="session")
def dso_test_pki() -> TestPki:
    """The self-tests' quick test PKI (EC unless the test asked for RSA; shared in-process).
    With the key type ``none``, a run that must not need one fails the test that asks."""
    key_type = os.environ.get(KEY_TYPE_ENV, "ec256")
    if key_type == "none":
        pytest.fail(f"this run needs no test PKI ({KEY_TYPE_ENV}=none), yet a fixture asked "
                    "for dso_test_pki", pytrace=False)
    return shared_pki(cast("KeyType", key_type))

"""The self-tests' loopback guard (tests/dso_selftest_plugin.py) refuses and reports what leaves
the machine, and lets loopback through."""

from __future__ import annotations

import importlib
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]
guard = importlib.import_module("dso_selftest_plugin")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "0.0.0.0", "127.8.9.10",  # noqa: S104
                                  "api.localhost", socket.gethostname()])
def test_loopback_and_this_machine_are_local(host: str) -> None:
    assert guard.is_local(host)


@pytest.mark.parametrize("host", ["192.0.2.1", "147.181.0.1", "2001:db8::1",
                                  "service.pre.omgevingswet.overheid.nl"])
def test_other_hosts_are_not_local(host: str) -> None:
    assert not guard.is_local(host)


def test_a_connect_and_a_lookup_beyond_loopback_are_refused_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "refused.txt"
    monkeypatch.setenv(guard.LOG_ENV, str(log))  # its own log, not the session's
    with pytest.raises(OSError, match=re.escape("only loopback addresses, not '192.0.2.1'")):
        socket.create_connection(("192.0.2.1", 443), timeout=5)  # refused at its lookup
    with socket.socket() as sock, pytest.raises(OSError, match="only loopback"):
        sock.connect(("192.0.2.2", 443))
    with pytest.raises(socket.gaierror, match="only loopback"):
        socket.getaddrinfo("service.pre.omgevingswet.overheid.nl", 443)
    with pytest.raises(socket.gaierror):  # a reserved name: refused, not reported
        socket.getaddrinfo("no-such-host.invalid", 443)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("socket.getaddrinfo '192.0.2.1'")
    assert lines[1].startswith("socket.connect '192.0.2.2'")
    assert lines[2].startswith("socket.getaddrinfo 'service.pre.omgevingswet.overheid.nl'")


def test_loopback_is_let_through() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        assert socket.getaddrinfo("localhost", port)


def test_a_pytester_subprocess_is_guarded_too(tmp_path: Path) -> None:
    log = tmp_path / "refused.txt"
    script = ("import socket, dso_selftest_plugin\n"
              "try:\n socket.create_connection(('192.0.2.7', 443), timeout=5)\n"
              "except OSError as exc:\n print(exc)\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{HERE}", guard.LOG_ENV: str(log)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert "only loopback addresses, not '192.0.2.7'" in done.stdout
    assert "192.0.2.7" in log.read_text(encoding="utf-8")

"""A network endpoint: a host (name or IP address) and a TCP port."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit


class EndpointError(ValueError):
    """A host:port or URL that cannot be turned into an :class:`Endpoint`."""


@dataclass(frozen=True, order=True)
class Endpoint:
    """``host`` (DNS name, IPv4 or IPv6 address without brackets) and ``port``.

    Checks take endpoints rather than bare addresses, because in local mode the simulator
    listens on a port the operating system picks (port 0), while PRE and PROD use 443.
    """

    host: str
    port: int

    def __post_init__(self) -> None:
        if not self.host:
            raise EndpointError("empty host")
        if not 0 < self.port < 65536:
            raise EndpointError(f"port {self.port} of {self.host} is outside 1..65535")

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_ip(self) -> bool:
        """True when ``host`` is a literal IP address rather than a DNS name."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @classmethod
    def parse(cls, text: str, default_port: int | None = None) -> Endpoint:
        """Parse ``host:port``, ``[v6]:port``, a bare host (with ``default_port``) or a URL."""
        value = text.strip()
        if "://" in value:
            return cls.from_url(value)
        host, port_text = value, ""
        if value.startswith("["):
            close = value.find("]")
            if close < 0:
                raise EndpointError(f"{text!r}: missing ']' after an IPv6 address")
            host, rest = value[1:close], value[close + 1 :]
            if rest and not rest.startswith(":"):
                raise EndpointError(f"{text!r}: expected ':port' after ']'")
            port_text = rest[1:]
        elif value.count(":") == 1:
            host, port_text = value.split(":")
        if not port_text:
            if default_port is None:
                raise EndpointError(f"{text!r} has no port; write it as host:port")
            return cls(host, default_port)
        try:
            return cls(host, int(port_text))
        except ValueError:
            raise EndpointError(f"{text!r}: port {port_text!r} is not a number") from None

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """The endpoint of an ``http(s)://`` URL (default ports 443 and 80)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EndpointError(f"{url!r} is not an http(s) URL with a host")
        try:
            port = parts.port
        except ValueError:
            raise EndpointError(f"{url!r} has an invalid port") from None
        return cls(parts.hostname, port or (443 if parts.scheme == "https" else 80))

"""The reference adapter's hand-over in local mode: where a received verzoeknotificatie goes.

In local mode the harness's own ebMS receiver plays the Digikoppeling-adapter (DKA) that the
simulator delivers to. A real DKA hands each message on to the application; these forwarders do
the same, so every trigger source can be exercised end to end without a real adapter:

- :class:`FolderForwarder` writes the payload into the drop folder (write to ``.part``, then
  rename, as careful adapters do);
- :class:`HttpsForwarder` POSTs it to the http-forward endpoint over mutual TLS;
- :class:`EbmsCoreForwarder` stores it in the ebms-core REST stand-in, as ebms-core would.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pytest_dso.transport.client import HttpClient
from pytest_dso.triggers.ebms_core_standin import EbmsCoreStandIn


@dataclass(frozen=True)
class Received:
    """One message the reference adapter received."""

    payload: bytes
    message_id: str = ""
    from_oin: str = ""
    to_oin: str = ""
    cpa_id: str = ""
    content_type: str = "application/xml"


class Forwarder(Protocol):
    """Hands a received message on; raises ``OSError``/``RuntimeError`` when it cannot."""

    def forward(self, message: Received) -> None: ...


class FolderForwarder:
    """Write each payload as ``<n>-<verzoek>.xml`` into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._count = 0

    def forward(self, message: Received) -> None:
        """Write ``message`` atomically (``.part`` then rename)."""
        with self._lock:
            self._count += 1
            number = self._count
        safe = "".join(c for c in message.message_id if c.isalnum())[:40] or "bericht"
        final = self.folder / f"{number:05d}-{safe}.xml"
        temporary = final.with_name(final.name + ".part")
        temporary.write_bytes(message.payload)
        os.replace(temporary, final)


class HttpsForwarder:
    """POST each payload to ``url`` with ``client`` (mutual TLS)."""

    def __init__(self, url: str, client: HttpClient) -> None:
        self.url = url
        self.client = client

    def forward(self, message: Received) -> None:
        """POST ``message``; ``RuntimeError`` when the endpoint does not accept it."""
        headers = {"Content-Type": message.content_type or "application/xml"}
        if message.message_id:
            headers["X-Ebms-MessageId"] = message.message_id
        exchange = self.client.post(self.url, message.payload, headers=headers)
        if not exchange.ok or exchange.status not in (200, 201, 202, 204):
            raise RuntimeError(
                f"forwarding to {self.url} failed: {exchange.error or exchange.status}"
            )


class EbmsCoreForwarder:
    """Store each message in the ebms-core stand-in."""

    def __init__(self, standin: EbmsCoreStandIn) -> None:
        self.standin = standin

    def forward(self, message: Received) -> None:
        """Add ``message`` as RECEIVED."""
        self.standin.add_message(
            message.payload,
            cpa_id=message.cpa_id or "cpa-stam",
            from_oin=message.from_oin,
            to_oin=message.to_oin,
            message_id=message.message_id or None,
            content_type=message.content_type or "application/xml",
        )

"""A text stream that redacts what passes through it, for output nobody captures.

With capture off (``pytest -s``) a test's ``print`` goes straight to the terminal, around
every report hook. :class:`RedactingStream` wraps such a stream: it keeps an unfinished line
back until its newline (or an explicit ``flush``) so a secret written in pieces by one
``print`` call is redacted whole, and hands everything else (``isatty``, ``fileno``,
``encoding``) to the wrapped stream. Output written to the file descriptor directly (a child
process, C code) does not pass through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TextIO

#: An unfinished line longer than this is redacted and written without waiting for its end.
MAX_PENDING = 64 * 1024


class RedactingStream:
    """Wraps ``stream``; every text written is passed through ``redact`` first."""

    def __init__(self, stream: TextIO, redact: Callable[[str], str]) -> None:
        self._stream = stream
        self._redact = redact
        self._pending = ""
        self._lock = threading.RLock()

    @property
    def wrapped(self) -> TextIO:
        """The stream written to."""
        return self._stream

    def write(self, text: str) -> int:
        """Redact complete lines and write them; keep an unfinished line back."""
        with self._lock:
            data = self._pending + text
            cut = data.rfind("\n") + 1
            if cut == 0 and len(data) <= MAX_PENDING:
                self._pending = data
                return len(text)
            if cut == 0:
                cut = len(data)
            self._pending = data[cut:]
            self._stream.write(self._redact(data[:cut]))
            return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Write the unfinished line too (redacted), then flush the wrapped stream."""
        with self._lock:
            if self._pending:
                pending, self._pending = self._pending, ""
                self._stream.write(self._redact(pending))
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

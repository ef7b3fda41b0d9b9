"""``folder``: a drop folder where the adapter (often an ESB) writes each verzoeknotificatie.

A background thread polls the folder every ``poll_interval`` seconds (bounded to 0.05–5 s). A
file is read once its size and modification time are the same on two polls in a row, so a file
still being written is not read half-way; names starting with ``.`` or ending in ``.tmp``,
``.part`` or ``.partial`` are skipped (write-then-rename adapters use those). Files are never
moved or deleted: the folder belongs to the adapter. A file that is rewritten later is read
again and, when it repeats an earlier payload, flagged as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import threading
from pathlib import Path

from pytest_dso.triggers.base import LoggingSource
from pytest_dso.triggers.extract import STAM_EXTRACTOR, TriggerParseError, VerzoeknummerExtractor

MIN_POLL = 0.05
MAX_POLL = 5.0
#: Upper bound of files looked at per poll (a huge folder must not stall the run).
MAX_FILES_PER_POLL = 10_000
#: Upper bound of the size of one trigger file that is read.
MAX_FILE_SIZE = 16 * 1024 * 1024
_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".swp")


def clamp_poll_interval(value: float) -> float:
    """``value`` bounded to :data:`MIN_POLL` .. :data:`MAX_POLL` seconds."""
    return min(MAX_POLL, max(MIN_POLL, float(value)))


class FolderTriggerSource(LoggingSource):
    """Observe a folder; see the module docstring."""

    name = "folder"

    def __init__(
        self,
        folder: Path,
        *,
        poll_interval: float = 0.5,
        pattern: str = "*",
        extractor: VerzoeknummerExtractor = STAM_EXTRACTOR,
    ) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.poll_interval = clamp_poll_interval(poll_interval)
        self.pattern = pattern
        self.extractor = extractor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: dict[str, tuple[int, int]] = {}
        self._done: dict[str, tuple[int, int]] = {}
        self._errors: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Check the folder and start polling it."""
        if self._thread is not None:
            return
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"trigger folder {self.folder} does not exist or is not a folder; create it or "
                "set [triggers] folder in dso.toml to where the adapter writes verzoeknotificaties"
            )
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"dso-trigger-folder:{self.folder.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (after one last scan, so nothing written before stop is missed)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(max(5.0, 2 * self.poll_interval))
        self.scan(final=True)

    def errors(self) -> list[str]:
        """Problems met while polling (unreadable folder or file), for the report."""
        with self._lock:
            return list(self._errors)

    def _run(self) -> None:
        while True:
            self.scan()
            if self._stop.wait(self.poll_interval):
                return

    def scan(self, *, final: bool = False) -> int:
        """Look at the folder once; returns the number of files read. ``final`` reads files
        seen for the first time right away (no stability check)."""
        with self._lock:
            try:
                entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
            except OSError as exc:
                self._note(f"cannot list {self.folder}: {exc.strerror or exc}")
                return 0
            read = 0
            for entry in entries[:MAX_FILES_PER_POLL]:
                name = entry.name
                if name.startswith(".") or name.lower().endswith(_SKIP_SUFFIXES):
                    continue
                if not fnmatch.fnmatch(name, self.pattern):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    stat = entry.stat()
                except OSError:
                    continue
                key = (stat.st_size, stat.st_mtime_ns)
                if self._done.get(name) == key:
                    continue
                if self._pending.get(name) != key and not final:
                    self._pending[name] = key
                    continue
                self._pending.pop(name, None)
                self._done[name] = key
                self._read(Path(entry.path), stat.st_size, stat.st_mtime)
                read += 1
            return read

    def _note(self, text: str) -> None:
        if len(self._errors) < 100:
            self._errors.append(text)

    def _read(self, path: Path, size: int, mtime: float) -> None:
        location = f"file {path.name}"
        if size > MAX_FILE_SIZE:
            self.log.record(
                b"",
                verzoeknummer="",
                problem=f"{size} bytes is larger than the {MAX_FILE_SIZE} bytes read as a trigger",
                location=location,
            )
            return
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self._note(f"cannot read {path}: {exc.strerror or exc}")
            return
        written = dt.datetime.fromtimestamp(mtime, dt.UTC)
        try:
            found = self.extractor.extract(raw)
        except TriggerParseError as exc:
            self.log.record(raw, verzoeknummer="", problem=str(exc), location=location)
            return
        self.log.record(
            raw,
            verzoeknummer=found.verzoeknummer,
            kind=found.kind,
            recipient_oin=found.recipient_oin,
            location=location,
            # The adapter's write time measures the chain better than our polling moment.
            received_at=min(written, dt.datetime.now(dt.UTC)),
        )

"""The simulator's store: one SQLite file (WAL mode) in the run's output folder.

Holds verzoeken (every version, with the rendered STAM XML), their documents (as a
regeneration spec, a blob or a file path), behandeldienstconfiguraties, every ebMS message with
its raw bytes, deliveries of verzoeknotificaties with their attempts and acknowledgements, and
named counters (verzoeknummer sequences). Nothing is lost, so a late trigger, a duplicate or a
failed ack can be explained afterwards, and :meth:`Store.pending_deliveries` resumes delivery
after a restart.

Thread-safe: one connection guarded by a lock. Each call commits on its own; wrap a batch in
:meth:`Store.transaction` to commit once (WAL + ``synchronous=NORMAL`` keeps single commits
cheap as well). A submission is one transaction: its verzoeken, documents, outgoing
verzoeknotificaties, deliveries and the idempotency record (``submissions``) commit together,
and work that must wait for the commit (starting the delivery) is registered with
:meth:`Store.after_commit`.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_dso.dso.shapes import BehandeldienstConfiguratie
from pytest_dso.sim.delivery import Attempt, Delivery, DeliveryStatus
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.model import Bijlage, Verzoek, verzoek_from_dict, verzoek_to_dict

#: File name of the store inside the output folder.
DEFAULT_FILENAME = "dso-sim.sqlite"
SCHEMA_VERSION = 3
_READ_CHUNK = 64 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS verzoeken (
    verzoeknummer TEXT NOT NULL,
    volgnummer INTEGER NOT NULL,
    bg_oin TEXT NOT NULL,
    ui_oin TEXT NOT NULL,
    type TEXT NOT NULL,
    doel TEXT NOT NULL,
    indiendatum TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    model TEXT NOT NULL,
    xml BLOB NOT NULL,
    pdf BLOB,
    PRIMARY KEY (verzoeknummer, volgnummer)
);
CREATE INDEX IF NOT EXISTS verzoeken_bg ON verzoeken (bg_oin, indiendatum);
CREATE INDEX IF NOT EXISTS verzoeken_ui ON verzoeken (ui_oin, indiendatum);
CREATE TABLE IF NOT EXISTS documenten (
    document_id TEXT PRIMARY KEY,
    verzoeknummer TEXT NOT NULL,
    bestandsnaam TEXT NOT NULL,
    mediatype TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    seed INTEGER,
    data BLOB,
    path TEXT
);
CREATE INDEX IF NOT EXISTS documenten_verzoek ON documenten (verzoeknummer);
CREATE TABLE IF NOT EXISTS configuraties (
    id TEXT PRIMARY KEY,
    bg_oin TEXT NOT NULL,
    body TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    ebms_message_id TEXT,
    conversation_id TEXT,
    ref_to_message_id TEXT,
    cpa_id TEXT,
    from_oin TEXT,
    to_oin TEXT,
    verzoeknummer TEXT,
    content_type TEXT,
    headers TEXT NOT NULL,
    raw BLOB NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_ebms ON messages (ebms_message_id);
CREATE INDEX IF NOT EXISTS messages_verzoek ON messages (verzoeknummer);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    recipient_oin TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    verzoeknummer TEXT NOT NULL,
    volgnummer INTEGER NOT NULL,
    kopie INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_http_status INTEGER,
    next_attempt_at TEXT,
    expires_at TEXT,
    ack_message_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acked_at TEXT,
    reliable INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_verzoek ON deliveries (verzoeknummer);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    error TEXT NOT NULL,
    duration_ms REAL
);
CREATE INDEX IF NOT EXISTS attempts_delivery ON delivery_attempts (delivery_id);
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


class StoreError(RuntimeError):
    """The store file cannot be opened or has an unknown layout."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@dataclass(frozen=True)
class StoredVerzoek:
    """A stored verzoek version and its rendered XML."""

    verzoek: Verzoek
    xml: bytes = field(repr=False)
    stored_at: dt.datetime
    pdf: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StoredDocument:
    """A stored document: its metadata and where the bytes come from."""

    verzoeknummer: str
    bijlage: Bijlage
    spec: BijlageSpec | None = None
    data: bytes | None = field(default=None, repr=False)
    path: Path | None = None

    def chunks(self) -> Iterator[bytes]:
        """The document's bytes, streamed."""
        if self.spec is not None:
            yield from self.spec.chunks()
        elif self.data is not None:
            yield self.data
        elif self.path is not None:
            with self.path.open("rb") as handle:
                while block := handle.read(_READ_CHUNK):
                    yield block

    def read(self) -> bytes:
        """All bytes in memory."""
        return b"".join(self.chunks())


@dataclass(frozen=True)
class MessageRecord:
    """An ebMS (or other) message as sent or received, with its raw bytes."""

    id: int
    direction: str
    kind: str
    raw: bytes = field(repr=False)
    headers: Mapping[str, str]
    stored_at: dt.datetime
    ebms_message_id: str = ""
    conversation_id: str = ""
    ref_to_message_id: str = ""
    cpa_id: str = ""
    from_oin: str = ""
    to_oin: str = ""
    verzoeknummer: str = ""
    content_type: str = ""


class Store:
    """The simulator's SQLite store. Use :meth:`in_folder` for the run's output folder."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(
                    f"{path} has store layout version {version}; this pytest-dso expects "
                    f"{SCHEMA_VERSION}. Use a fresh output folder"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the simulator store {path}: {exc}") from None
        self._lock = threading.RLock()
        self._depth = 0
        self._after: list[Callable[[], None]] = []

    @classmethod
    def in_folder(cls, output_dir: Path, filename: str = DEFAULT_FILENAME) -> Store:
        """The store file ``output_dir/filename`` (created with its folder when missing)."""
        return cls(Path(output_dir) / filename)

    def __repr__(self) -> str:
        return f"Store({str(self.path) if self.path else ':memory:'})"

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock, suppress(sqlite3.ProgrammingError):
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a batch of calls in one transaction (nested calls join the outer one). The
        :meth:`after_commit` callbacks of the batch run after the commit, outside the lock;
        a rollback drops them."""
        callbacks: list[Callable[[], None]] = []
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                    self._after.clear()
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")
                callbacks, self._after = self._after, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the current transaction has committed (at once outside a
        transaction)."""
        with self._lock:
            if self._depth:
                self._after.append(callback)
                return
        callback()

    # -- submissions (idempotency) ----------------------------------------------------------

    def get_submission(self, key: str) -> tuple[str, Any] | None:
        """``(fingerprint, result)`` stored for idempotency ``key``, if any."""
        rows = self._all("SELECT fingerprint, result FROM submissions WHERE key = ?", (key,))
        return (str(rows[0][0]), json.loads(rows[0][1])) if rows else None

    def put_submission(self, key: str, fingerprint: str, result: Any) -> None:
        """Remember the result of the submission under ``key`` (call it in the submission's
        transaction)."""
        self._execute(
            "INSERT OR REPLACE INTO submissions (key, fingerprint, result, created_at) "
            "VALUES (?,?,?,?)",
            (key, fingerprint, json.dumps(result), _ts(_now())),
        )

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- counters (implements verzoeknummer.CounterStore) -----------------------------------

    def next_value(self, name: str) -> int:
        """Increment counter ``name`` atomically and return the new value (first: 1)."""
        row = self._all(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        )
        return int(row[0][0])

    def counter(self, name: str) -> int:
        """The current value of counter ``name`` (0 when never used)."""
        rows = self._all("SELECT value FROM counters WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    # -- verzoeken ---------------------------------------------------------------------------

    def put_verzoek(self, verzoek: Verzoek, xml: bytes, *, pdf: bytes | None = None) -> None:
        """Store a verzoek version (replaces the same verzoeknummer + volgnummer)."""
        v = verzoek
        self._execute(
            "INSERT OR REPLACE INTO verzoeken (verzoeknummer, volgnummer, bg_oin, ui_oin, type, "
            "doel, indiendatum, stored_at, model, xml, pdf) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                v.verzoeknummer,
                v.volgnummer,
                v.bevoegd_gezag.oin,
                v.uitvoerende_instantie.oin,
                v.type.value,
                v.doel.value,
                _ts(v.indiendatum),
                _ts(_now()),
                json.dumps(verzoek_to_dict(v), ensure_ascii=False),
                xml,
                pdf,
            ),
        )

    @staticmethod
    def _verzoek_row(row: tuple[Any, ...]) -> StoredVerzoek:
        model, xml, stored_at, pdf = row
        return StoredVerzoek(
            verzoek_from_dict(json.loads(model)),
            bytes(xml),
            _dt(stored_at) or _now(),
            None if pdf is None else bytes(pdf),
        )

    def get_verzoek(
        self, verzoeknummer: str, volgnummer: int | None = None
    ) -> StoredVerzoek | None:
        """A version of a verzoek; the latest (highest volgnummer) when none is given."""
        if volgnummer is None:
            rows = self._all(
                "SELECT model, xml, stored_at, pdf FROM verzoeken WHERE verzoeknummer = ? "
                "ORDER BY volgnummer DESC LIMIT 1",
                (verzoeknummer,),
            )
        else:
            rows = self._all(
                "SELECT model, xml, stored_at, pdf FROM verzoeken WHERE verzoeknummer = ? "
                "AND volgnummer = ?",
                (verzoeknummer, volgnummer),
            )
        return self._verzoek_row(rows[0]) if rows else None

    def verzoek_versions(self, verzoeknummer: str) -> tuple[StoredVerzoek, ...]:
        """Every stored version of a verzoek, oldest first."""
        rows = self._all(
            "SELECT model, xml, stored_at, pdf FROM verzoeken WHERE verzoeknummer = ? "
            "ORDER BY volgnummer",
            (verzoeknummer,),
        )
        return tuple(self._verzoek_row(r) for r in rows)

    def verzoeken(
        self,
        *,
        oin: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Verzoek, ...]:
        """Latest versions, newest first, optionally for a BG/uitvoerende instantie ``oin``
        and an indiendatum range [since, until)."""
        where = [
            "volgnummer = (SELECT MAX(volgnummer) FROM verzoeken v2 "
            "WHERE v2.verzoeknummer = verzoeken.verzoeknummer)"
        ]
        params: list[Any] = []
        if oin is not None:
            where.append("(bg_oin = ? OR ui_oin = ?)")
            params += [oin, oin]
        if since is not None:
            where.append("indiendatum >= ?")
            params.append(_ts(since))
        if until is not None:
            where.append("indiendatum < ?")
            params.append(_ts(until))
        rows = self._all(
            f"SELECT model FROM verzoeken WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
            "ORDER BY indiendatum DESC, verzoeknummer DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return tuple(verzoek_from_dict(json.loads(r[0])) for r in rows)

    def count_verzoeken(self) -> int:
        """Number of distinct verzoeknummers."""
        return int(self._all("SELECT COUNT(DISTINCT verzoeknummer) FROM verzoeken")[0][0])

    # -- documents ---------------------------------------------------------------------------

    def put_document(
        self,
        verzoeknummer: str,
        bijlage: Bijlage,
        *,
        spec: BijlageSpec | None = None,
        data: bytes | None = None,
        path: Path | None = None,
    ) -> None:
        """Store a document's metadata and exactly one source of its bytes."""
        if sum(x is not None for x in (spec, data, path)) != 1:
            raise ValueError("give exactly one of spec, data or path for a document")
        self._execute(
            "INSERT OR REPLACE INTO documenten (document_id, verzoeknummer, bestandsnaam, "
            "mediatype, size, sha256, seed, data, path) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                bijlage.document_id,
                verzoeknummer,
                bijlage.bestandsnaam,
                bijlage.mediatype,
                bijlage.size,
                bijlage.sha256,
                None if spec is None else spec.seed,
                data,
                None if path is None else str(path),
            ),
        )

    def get_document(self, document_id: str) -> StoredDocument | None:
        """A stored document, or ``None``."""
        rows = self._all(
            "SELECT verzoeknummer, bestandsnaam, mediatype, size, sha256, seed, data, path "
            "FROM documenten WHERE document_id = ?",
            (document_id,),
        )
        if not rows:
            return None
        nummer, naam, mediatype, size, sha, seed, data, path = rows[0]
        bijlage = Bijlage(document_id, naam, mediatype, int(size), sha)
        return StoredDocument(
            verzoeknummer=nummer,
            bijlage=bijlage,
            spec=None if seed is None else BijlageSpec(int(seed), int(size), naam, mediatype),
            data=None if data is None else bytes(data),
            path=None if path is None else Path(path),
        )

    def document_paths(self) -> frozenset[Path]:
        """The files stored documents point at (uploaded ones)."""
        rows = self._all("SELECT DISTINCT path FROM documenten WHERE path IS NOT NULL", ())
        return frozenset(Path(r[0]) for r in rows)

    def documents(self, verzoeknummer: str) -> tuple[Bijlage, ...]:
        """Metadata of the documents stored for a verzoek."""
        rows = self._all(
            "SELECT document_id, bestandsnaam, mediatype, size, sha256 FROM documenten "
            "WHERE verzoeknummer = ? ORDER BY document_id",
            (verzoeknummer,),
        )
        return tuple(Bijlage(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows)

    # -- behandeldienstconfiguraties (implements routing.ConfiguratieStore) -----------------

    def put_configuratie(self, configuratie: BehandeldienstConfiguratie) -> None:
        """Insert or replace a configuration (it must have an id)."""
        if not configuratie.id:
            raise ValueError("a stored behandeldienstconfiguratie needs an id")
        self._execute(
            "INSERT OR REPLACE INTO configuraties (id, bg_oin, body, stored_at) VALUES (?,?,?,?)",
            (configuratie.id, configuratie.oin, json.dumps(configuratie.to_json()), _ts(_now())),
        )

    def delete_configuratie(self, configuratie_id: str) -> bool:
        """Delete by id; True when it existed."""
        return (
            self._execute("DELETE FROM configuraties WHERE id = ?", (configuratie_id,)).rowcount > 0
        )

    def configuraties(self) -> tuple[BehandeldienstConfiguratie, ...]:
        """All stored configurations, oldest first."""
        rows = self._all("SELECT body FROM configuraties ORDER BY stored_at, id")
        return tuple(BehandeldienstConfiguratie.from_json(json.loads(r[0])) for r in rows)

    # -- messages ----------------------------------------------------------------------------

    def add_message(
        self,
        *,
        direction: str,
        kind: str,
        raw: bytes,
        headers: Mapping[str, str] | None = None,
        ebms_message_id: str = "",
        conversation_id: str = "",
        ref_to_message_id: str = "",
        cpa_id: str = "",
        from_oin: str = "",
        to_oin: str = "",
        verzoeknummer: str = "",
        content_type: str = "",
    ) -> int:
        """Keep a message with its raw bytes; returns its id. ``direction``: ``in``/``out``;
        ``kind``: e.g. ``verzoeknotificatie``, ``ping``, ``pong``, ``ack``, ``error``."""
        cursor = self._execute(
            "INSERT INTO messages (direction, kind, ebms_message_id, conversation_id, "
            "ref_to_message_id, cpa_id, from_oin, to_oin, verzoeknummer, content_type, headers, "
            "raw, stored_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                direction,
                kind,
                ebms_message_id,
                conversation_id,
                ref_to_message_id,
                cpa_id,
                from_oin,
                to_oin,
                verzoeknummer,
                content_type,
                json.dumps(dict(headers or {})),
                raw,
                _ts(_now()),
            ),
        )
        return int(cursor.lastrowid or 0)

    _MESSAGE_COLUMNS = (
        "id, direction, kind, raw, headers, stored_at, ebms_message_id, conversation_id, "
        "ref_to_message_id, cpa_id, from_oin, to_oin, verzoeknummer, content_type"
    )

    @staticmethod
    def _message_row(r: tuple[Any, ...]) -> MessageRecord:
        return MessageRecord(
            id=int(r[0]),
            direction=r[1],
            kind=r[2],
            raw=bytes(r[3]),
            headers=json.loads(r[4]),
            stored_at=_dt(r[5]) or _now(),
            ebms_message_id=r[6] or "",
            conversation_id=r[7] or "",
            ref_to_message_id=r[8] or "",
            cpa_id=r[9] or "",
            from_oin=r[10] or "",
            to_oin=r[11] or "",
            verzoeknummer=r[12] or "",
            content_type=r[13] or "",
        )

    def messages(
        self,
        *,
        kind: str | None = None,
        verzoeknummer: str | None = None,
        ebms_message_id: str | None = None,
        ref_to_message_id: str | None = None,
    ) -> tuple[MessageRecord, ...]:
        """Messages matching every given filter, oldest first."""
        where, params = [], []
        for column, value in (
            ("kind", kind),
            ("verzoeknummer", verzoeknummer),
            ("ebms_message_id", ebms_message_id),
            ("ref_to_message_id", ref_to_message_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {self._MESSAGE_COLUMNS} FROM messages {clause} ORDER BY id"  # noqa: S608
        rows = self._all(sql, params)
        return tuple(self._message_row(r) for r in rows)

    # -- deliveries --------------------------------------------------------------------------

    def add_delivery(
        self,
        *,
        message_id: int,
        recipient_oin: str,
        endpoint: str,
        verzoeknummer: str,
        volgnummer: int,
        kopie: bool = False,
        next_attempt_at: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
        reliable: bool = True,
    ) -> int:
        """Register a pending delivery of stored message ``message_id``; returns its id.
        ``reliable`` is false on a best-effort binding (sent once, see ``sim.delivery``)."""
        now = _ts(_now())
        cursor = self._execute(
            "INSERT INTO deliveries (message_id, recipient_oin, endpoint, verzoeknummer, "
            "volgnummer, kopie, status, next_attempt_at, expires_at, created_at, updated_at, "
            "reliable) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                message_id,
                recipient_oin,
                endpoint,
                verzoeknummer,
                volgnummer,
                int(kopie),
                DeliveryStatus.PENDING.value,
                _ts(next_attempt_at or _now()),
                _ts(expires_at),
                now,
                now,
                int(reliable),
            ),
        )
        return int(cursor.lastrowid or 0)

    def record_attempt(
        self,
        delivery_id: int,
        attempt: Attempt,
        *,
        next_attempt_at: dt.datetime | None = None,
        give_up: bool = False,
    ) -> Delivery:
        """Record one attempt. Taken (:attr:`Attempt.ok`) → SENT (awaiting the ack); not taken
        → PENDING with ``next_attempt_at``, or FAILED when ``give_up``. An ACKED delivery
        stays ACKED."""
        with self.transaction():
            self.write_attempt(delivery_id, attempt, next_attempt_at=next_attempt_at,
                               give_up=give_up)
            return self._require_delivery(delivery_id)

    def write_attempt(
        self,
        delivery_id: int,
        attempt: Attempt,
        *,
        next_attempt_at: dt.datetime | None = None,
        give_up: bool = False,
    ) -> None:
        """:meth:`record_attempt` without reading the delivery back (the journal's path);
        :class:`KeyError` for an unknown delivery."""
        now = _now()
        with self.transaction():
            self._execute(
                "INSERT INTO delivery_attempts (delivery_id, at, ok, outcome, http_status, "
                "error, duration_ms) VALUES (?,?,?,?,?,?,?)",
                (delivery_id, _ts(_utc(attempt.started)), int(attempt.ok), attempt.outcome,
                 attempt.http_status, attempt.detail, attempt.duration * 1000.0),
            )
            if attempt.ok:
                status = DeliveryStatus.SENT
            else:
                status = DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING
            updated = self._execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_http_status = ?, "
                "last_error = ?, next_attempt_at = ?, updated_at = ?, "
                "status = CASE WHEN status = 'acked' THEN status ELSE ? END WHERE id = ?",
                (attempt.http_status, attempt.detail, _ts(next_attempt_at), _ts(now),
                 status.value, delivery_id),
            ).rowcount
            if not updated:
                raise KeyError(f"no delivery with id {delivery_id}")

    def mark_acked(self, delivery_id: int, ack_message_id: int | None = None) -> Delivery:
        """The recipient acknowledged the message (final)."""
        self.write_acked(delivery_id, ack_message_id)
        return self._require_delivery(delivery_id)

    def write_acked(self, delivery_id: int, ack_message_id: int | None = None) -> None:
        """:meth:`mark_acked` without reading the delivery back (the journal's path);
        :class:`KeyError` for an unknown delivery."""
        now = _ts(_now())
        updated = self._execute(
            "UPDATE deliveries SET status = 'acked', acked_at = COALESCE(acked_at, ?), "
            "ack_message_id = COALESCE(?, ack_message_id), next_attempt_at = NULL, "
            "updated_at = ? WHERE id = ?",
            (now, ack_message_id, now, delivery_id),
        ).rowcount
        if not updated:
            raise KeyError(f"no delivery with id {delivery_id}")

    def mark_failed(
        self, delivery_id: int, error: str, status: DeliveryStatus = DeliveryStatus.FAILED
    ) -> Delivery:
        """Give up on a delivery (final: FAILED, or EXPIRED) with the reason."""
        self._execute(
            "UPDATE deliveries SET status = ?, last_error = ?, next_attempt_at = NULL, "
            "updated_at = ? WHERE id = ? AND status != 'acked'",
            (status.value, error, _ts(_now()), delivery_id),
        )
        return self._require_delivery(delivery_id)

    _DELIVERY_SELECT = (
        "SELECT d.id, m.ebms_message_id, m.conversation_id, d.verzoeknummer, d.recipient_oin, "
        "m.raw, d.created_at, d.expires_at, d.endpoint, m.content_type, d.status, d.attempts, "
        "d.next_attempt_at, d.acked_at, d.last_error, d.last_http_status, d.volgnummer, "
        "d.kopie, d.ack_message_id, d.reliable "
        "FROM deliveries d JOIN messages m ON m.id = d.message_id"
    )

    @staticmethod
    def _delivery_row(r: tuple[Any, ...]) -> Delivery:
        created = (_dt(r[6]) or _now()).timestamp()
        expires = _dt(r[7])
        next_attempt = _dt(r[12])
        acked = _dt(r[13])
        return Delivery(
            message_id=r[1] or "",
            conversation_id=r[2] or "",
            verzoeknummer=r[3],
            recipient_oin=r[4],
            payload=bytes(r[5]),
            created=created,
            expires=expires.timestamp() if expires else float("inf"),
            endpoint=r[8],
            content_type=r[9] or "",
            status=DeliveryStatus(r[10]),
            attempts=int(r[11]),
            next_attempt=next_attempt.timestamp() if next_attempt else created,
            acked_at=acked.timestamp() if acked else None,
            last_error=r[14],
            last_http_status=r[15],
            volgnummer=int(r[16]),
            kopie=bool(r[17]),
            id=int(r[0]),
            ack_message_id=r[18],
            reliable=bool(r[19]),
        )

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        """A delivery by id."""
        rows = self._all(f"{self._DELIVERY_SELECT} WHERE d.id = ?", (delivery_id,))
        return self._delivery_row(rows[0]) if rows else None

    def _require_delivery(self, delivery_id: int) -> Delivery:
        found = self.get_delivery(delivery_id)
        if found is None:
            raise KeyError(f"no delivery with id {delivery_id}")
        return found

    def delivery_for_message(self, ebms_message_id: str) -> Delivery | None:
        """The delivery of the message with this ebMS MessageId (to match an Acknowledgment)."""
        rows = self._all(
            f"{self._DELIVERY_SELECT} WHERE m.ebms_message_id = ? ORDER BY d.id DESC LIMIT 1",
            (ebms_message_id,),
        )
        return self._delivery_row(rows[0]) if rows else None

    def deliveries(
        self, *, verzoeknummer: str | None = None, recipient_oin: str | None = None
    ) -> tuple[Delivery, ...]:
        """Deliveries matching the filters, oldest first."""
        where, params = [], []
        if verzoeknummer is not None:
            where.append("d.verzoeknummer = ?")
            params.append(verzoeknummer)
        if recipient_oin is not None:
            where.append("d.recipient_oin = ?")
            params.append(recipient_oin)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._all(f"{self._DELIVERY_SELECT}{clause} ORDER BY d.id", params)
        return tuple(self._delivery_row(r) for r in rows)

    def attempts(self, delivery_id: int) -> tuple[Attempt, ...]:
        """The attempts of a delivery, oldest first."""
        rows = self._all(
            "SELECT m.ebms_message_id, a.at, a.outcome, a.http_status, a.error, a.duration_ms "
            "FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id "
            "JOIN messages m ON m.id = d.message_id WHERE a.delivery_id = ? ORDER BY a.id",
            (delivery_id,),
        )
        return tuple(
            Attempt(r[0] or "", number, (_dt(r[1]) or _now()).timestamp(),
                    (r[5] or 0.0) / 1000.0, r[2], r[3], r[4])
            for number, r in enumerate(rows, start=1)
        )

    def pending_deliveries(
        self, *, due_before: dt.datetime | None = None, include_sent: bool = True
    ) -> tuple[Delivery, ...]:
        """Deliveries not yet final (PENDING, and SENT-but-unacknowledged unless
        ``include_sent`` is false), optionally only those due before ``due_before``; oldest
        first. Call this after a restart to resume delivery."""
        statuses = ["pending", "sent"] if include_sent else ["pending"]
        sql = f"{self._DELIVERY_SELECT} WHERE d.status IN ({','.join('?' * len(statuses))})"
        params: list[Any] = list(statuses)
        if due_before is not None:
            sql += " AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)"
            params.append(_ts(due_before))
        rows = self._all(sql + " ORDER BY d.next_attempt_at, d.id", params)
        return tuple(self._delivery_row(r) for r in rows)

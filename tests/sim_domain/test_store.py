"""The simulator store: persistence across reopen, deliveries, counters, concurrency, speed."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from pytest_dso.dso.shapes import ActiviteitRef, BehandeldienstConfiguratie, Toestemming
from pytest_dso.sim.delivery import Attempt, DeliveryStatus
from pytest_dso.sim.store import Store, StoreError
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.model import Organisatie, Verzoek, VerzoekType
from pytest_dso.stam.verzoeknummer import VerzoeknummerAllocator
from pytest_dso.stam.xml import render_verzoek

BG = "00000099000000101000"
BD = "00000099000000201000"
DAY = dt.date(2026, 6, 2)


def verzoek(nummer: str, volgnummer: int = 0, minute: int = 0) -> Verzoek:
    return Verzoek(
        verzoeknummer=nummer,
        volgnummer=volgnummer,
        type=VerzoekType.MELDING,
        bevoegd_gezag=Organisatie(BG, "TEST Gemeente"),
        uitvoerende_instantie=Organisatie(BD, "TEST OD"),
        indiendatum=dt.datetime(2026, 6, 2, 10, minute, tzinfo=dt.UTC),
    )


def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "run" / "dso-sim.sqlite"
    spec = BijlageSpec(4, 5_000, "a.pdf")
    config = BehandeldienstConfiguratie(
        BG, ActiviteitRef("X", BG), BD, Toestemming("V", "Vergunning"), (BG,), id="c1"
    )
    v0, v1 = verzoek("2026060200001"), verzoek("2026060200001", 1)
    with Store.in_folder(tmp_path / "run") as store:
        assert store.path == path
        allocator = VerzoeknummerAllocator(store, clock=lambda: DAY)
        assert allocator.allocate() == "2026060200001"
        store.put_verzoek(v0, render_verzoek(v0))
        store.put_verzoek(v1, render_verzoek(v1), pdf=b"%PDF-1.4 x")
        store.put_document(v1.verzoeknummer, spec.bijlage("d1"), spec=spec)
        store.put_document(v1.verzoeknummer, spec.bijlage("d2"), data=spec.read())
        store.put_configuratie(config)
        msg = store.add_message(
            direction="out",
            kind="verzoeknotificatie",
            raw=b"<x/>",
            headers={"SOAPAction": "ebXML"},
            ebms_message_id="m1@test",
            verzoeknummer=v1.verzoeknummer,
            to_oin=BD,
        )
        store.add_delivery(
            message_id=msg,
            recipient_oin=BD,
            endpoint="https://127.0.0.1:1/",
            verzoeknummer=v1.verzoeknummer,
            volgnummer=1,
        )
    with Store(path) as store:
        assert VerzoeknummerAllocator(store, clock=lambda: DAY).allocate() == "2026060200002"
        latest = store.get_verzoek("2026060200001")
        assert latest is not None
        assert latest.verzoek == v1
        assert latest.xml == render_verzoek(v1)
        assert latest.pdf == b"%PDF-1.4 x"
        assert [s.verzoek.volgnummer for s in store.verzoek_versions("2026060200001")] == [0, 1]
        assert store.get_verzoek("2026060200001", 0).verzoek == v0  # type: ignore[union-attr]
        doc = store.get_document("d1")
        assert doc is not None
        assert doc.read() == spec.read()
        assert store.get_document("d2").read() == spec.read()  # type: ignore[union-attr]
        assert [d.document_id for d in store.documents(v1.verzoeknummer)] == ["d1", "d2"]
        assert store.configuraties() == (config,)
        (pending,) = store.pending_deliveries()
        assert pending.status is DeliveryStatus.PENDING
        assert pending.payload == b"<x/>"
        (message,) = store.messages(ebms_message_id=pending.message_id)
        assert message.raw == b"<x/>"
        assert message.headers == {"SOAPAction": "ebXML"}
        assert store.count_verzoeken() == 1
        assert store.get_verzoek("2026060299999") is None


def test_store_uses_wal(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite"):
        db = sqlite3.connect(tmp_path / "s.sqlite")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()


def test_delivery_lifecycle(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        msg = store.add_message(
            direction="out", kind="verzoeknotificatie", raw=b"a", ebms_message_id="m2@test"
        )
        d = store.add_delivery(
            message_id=msg,
            recipient_oin=BG,
            endpoint="e",
            verzoeknummer="2026060200001",
            volgnummer=0,
            kopie=True,
        )
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        failed = store.record_attempt(
            d, Attempt("m2@test", 1, time.time(), 0.01, "retry", 503, "busy"),
            next_attempt_at=retry_at,
        )
        assert (failed.status, failed.attempts, failed.kopie) == (DeliveryStatus.PENDING, 1, True)
        assert store.pending_deliveries(due_before=dt.datetime.now(dt.UTC)) == ()
        assert len(store.pending_deliveries()) == 1
        sent = store.record_attempt(d, Attempt("m2@test", 2, time.time(), 0.0035, "sent", 200, ""))
        assert sent.status is DeliveryStatus.SENT
        assert store.pending_deliveries(include_sent=False) == ()
        found = store.delivery_for_message("m2@test")
        assert found is not None
        assert found.id == d
        ack = store.add_message(direction="in", kind="ack", raw=b"ack", ref_to_message_id="m2@test")
        acked = store.mark_acked(d, ack)
        assert (acked.status, acked.ack_message_id) == (DeliveryStatus.ACKED, ack)
        assert acked.acked_at is not None
        assert store.mark_failed(d, "late").status is DeliveryStatus.ACKED
        assert store.pending_deliveries() == ()
        assert [(a.number, a.ok, a.outcome) for a in store.attempts(d)] == [
            (1, False, "retry"), (2, True, "sent")
        ]
        assert store.attempts(d)[1].duration == pytest.approx(0.0035)
        assert store.messages(ref_to_message_id="m2@test")[0].kind == "ack"
        other = store.add_delivery(
            message_id=msg,
            recipient_oin=BD,
            endpoint="e",
            verzoeknummer="2026060200001",
            volgnummer=0,
        )
        gave_up = store.record_attempt(
            other, Attempt("m2@test", 1, time.time(), 0.0, "fatal", None, "refused"), give_up=True
        )
        assert gave_up.status is DeliveryStatus.FAILED
        assert len(store.deliveries(verzoeknummer="2026060200001")) == 2


def test_journal_writes_without_read_back_store_what_the_returning_calls_store(
        tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        msg = store.add_message(
            direction="out", kind="verzoeknotificatie", raw=b"a", ebms_message_id="m3@test"
        )
        rows = [store.add_delivery(message_id=msg, recipient_oin=BG, endpoint="e",
                                   verzoeknummer="2026060200003", volgnummer=0)
                for _ in range(2)]
        retry_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
        attempt = Attempt("m3@test", 1, 1_780_000_000.0, 0.02, "retry", 503, "busy")
        returned = store.record_attempt(rows[0], attempt, next_attempt_at=retry_at)
        store.write_attempt(rows[1], attempt, next_attempt_at=retry_at)
        written = store.get_delivery(rows[1])
        assert written is not None
        assert (written.status, written.attempts, written.next_attempt, written.last_error) == (
            returned.status, returned.attempts, returned.next_attempt, returned.last_error)
        assert store.attempts(rows[0]) == store.attempts(rows[1])
        assert store.mark_acked(rows[0]).status is DeliveryStatus.ACKED
        store.write_acked(rows[1])
        acked = store.get_delivery(rows[1])
        assert acked is not None
        assert (acked.status, acked.next_attempt == acked.created) == (DeliveryStatus.ACKED, True)
        with pytest.raises(KeyError):
            store.write_acked(999)
        with pytest.raises((KeyError, sqlite3.IntegrityError)):
            store.write_attempt(999, attempt)
        assert len(store.attempts(rows[1])) == 1  # the failed write left nothing behind


def test_search_latest_versions(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        for n in range(1, 6):
            v = verzoek(f"20260602{n:05d}", minute=n)
            store.put_verzoek(v, b"<x/>")
        store.put_verzoek(verzoek("2026060200002", 1, minute=2), b"<x/>")
        found = store.verzoeken(oin=BD, limit=3)
        assert [v.verzoeknummer for v in found] == [
            "2026060200005",
            "2026060200004",
            "2026060200003",
        ]
        page2 = store.verzoeken(oin=BG, limit=3, offset=3)
        assert [(v.verzoeknummer, v.volgnummer) for v in page2] == [
            ("2026060200002", 1),
            ("2026060200001", 0),
        ]
        window = store.verzoeken(
            since=dt.datetime(2026, 6, 2, 10, 2, tzinfo=dt.UTC),
            until=dt.datetime(2026, 6, 2, 10, 4, tzinfo=dt.UTC),
        )
        assert {v.verzoeknummer for v in window} == {"2026060200002", "2026060200003"}
        assert store.verzoeken(oin="00000099000000999000") == ()


def test_transaction_rolls_back(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:

        def batch() -> None:
            with store.transaction():
                store.put_verzoek(verzoek("2026060200001"), b"<x/>")
                with store.transaction():
                    store.next_value("c")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            batch()
        assert store.count_verzoeken() == 0
        assert store.counter("c") == 0


def test_document_needs_exactly_one_source(tmp_path: Path) -> None:
    spec = BijlageSpec(1, 1_000)
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(ValueError, match="exactly one"):
        store.put_document("n", spec.bijlage("x"), spec=spec, data=b"x")


def test_configuratie_needs_an_id(tmp_path: Path) -> None:
    config = BehandeldienstConfiguratie(BG, ActiviteitRef("X", BG), BD)
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(ValueError, match="needs an id"):
        store.put_configuratie(config)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        Store(bad)


def test_counters_are_atomic_across_threads(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        allocator = VerzoeknummerAllocator(store, clock=lambda: DAY)
        seen: list[str] = []
        lock = threading.Lock()

        def work() -> None:
            got = [allocator.allocate() for _ in range(100)]
            with lock:
                seen.extend(got)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(set(seen)) == 400
        assert store.counter("verzoeknummer:20260602") == 400


def test_fast_enough_for_the_simulator(tmp_path: Path) -> None:
    """1000 verzoeken with XML, a message and a delivery each, in batches of 50: well under
    the 200 verzoeken/s end-to-end budget (this is the store's share only)."""
    with Store(tmp_path / "s.sqlite") as store:
        allocator = VerzoeknummerAllocator(store, clock=lambda: DAY)
        xml = render_verzoek(verzoek("2026060200001"))
        start = time.perf_counter()
        for _ in range(20):
            with store.transaction():
                for _ in range(50):
                    nummer = allocator.allocate()
                    store.put_verzoek(verzoek(nummer), xml)
                    m = store.add_message(direction="out", kind="verzoeknotificatie", raw=xml)
                    store.add_delivery(
                        message_id=m,
                        recipient_oin=BD,
                        endpoint="e",
                        verzoeknummer=nummer,
                        volgnummer=0,
                    )
        elapsed = time.perf_counter() - start
        assert store.count_verzoeken() == 1000
        assert elapsed < 5.0, f"1000 verzoeken took {elapsed:.2f}s"

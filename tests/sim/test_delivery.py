"""Delivery scheduler: retries every RetryInterval, gives up at TimeToLive, resumes on restart."""

from __future__ import annotations

import threading
import time

from pytest_dso.sim.delivery import (
    Delivery,
    DeliveryScheduler,
    MemoryJournal,
    RetryPolicy,
    SendOutcome,
)


class Dka:
    """A scripted receiving side: answers attempts from a list of outcomes."""

    def __init__(self, *outcomes: SendOutcome) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()

    def __call__(self, delivery: Delivery, attempt: int) -> SendOutcome:
        with self.lock:
            self.calls.append((delivery.message_id, attempt, time.monotonic()))
            return self.outcomes.pop(0) if self.outcomes else SendOutcome("retry", None, "down")


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def test_sync_ack_delivers_on_first_attempt() -> None:
    journal = MemoryJournal()
    dka = Dka(SendOutcome("acked", 200))
    scheduler = DeliveryScheduler(dka, journal, RetryPolicy(3, 0.05, time_to_live=30))
    scheduler.start()
    try:
        scheduler.submit("m1@sim", "c1", "2024010100001", "00000099000000101000", b"<x/>")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    assert journal.deliveries["m1@sim"].status == "acked"
    assert [a.outcome for a in journal.attempts] == ["acked"]


def test_retries_every_interval_until_async_ack() -> None:
    journal = MemoryJournal()
    dka = Dka(SendOutcome("retry", 503), SendOutcome("sent", 204), SendOutcome("sent", 204))
    scheduler = DeliveryScheduler(dka, journal, RetryPolicy(5, 0.1, time_to_live=30))
    scheduler.start()
    try:
        scheduler.submit("m2@sim", "c2", "2024010100002", "00000099000000101000", b"<x/>")
        wait_for(lambda: len(dka.calls) >= 3)
        assert scheduler.acknowledge("m2@sim")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    gaps = [b[2] - a[2] for a, b in zip(dka.calls, dka.calls[1:], strict=False)]
    assert all(gap >= 0.09 for gap in gaps), gaps
    assert [a.number for a in journal.attempts] == [1, 2, 3]
    assert journal.deliveries["m2@sim"].status == "acked"
    assert scheduler.acknowledge("m2@sim") is False  # a late duplicate ack changes nothing


def test_gives_up_after_retries_and_records_every_attempt() -> None:
    journal = MemoryJournal()
    final: list[Delivery] = []
    # A TimeToLive far beyond the retries: on a loaded machine the default (RetryInterval x 3)
    # can pass before the last retry is due, and then the delivery expires instead.
    policy = RetryPolicy(2, 0.02, time_to_live=30)
    scheduler = DeliveryScheduler(Dka(), journal, policy, on_final=final.append)
    scheduler.start()
    try:
        scheduler.submit("m3@sim", "c3", "2024010100003", "00000099000000101000", b"<x/>")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    assert len(journal.attempts) == 3  # the first send plus two retries
    assert final[0].status == "failed"
    assert final[0].last_error


def test_time_to_live_expires_delivery() -> None:
    journal = MemoryJournal()
    scheduler = DeliveryScheduler(Dka(), journal, RetryPolicy(100, 0.05, time_to_live=0.2))
    scheduler.start()
    try:
        scheduler.submit("m4@sim", "c4", "2024010100004", "00000099000000101000", b"<x/>")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    assert journal.deliveries["m4@sim"].status == "expired"
    assert 2 <= len(journal.attempts) <= 6


def test_fatal_outcome_stops_at_once() -> None:
    journal = MemoryJournal()
    # A TimeToLive far beyond the test: "failed" must come from the fatal answer, never from
    # a loaded machine letting the delivery expire before its first attempt.
    scheduler = DeliveryScheduler(Dka(SendOutcome("fatal", 400, "MessageError")), journal,
                                  RetryPolicy(5, 0.01, time_to_live=30))
    scheduler.start()
    try:
        scheduler.submit("m5@sim", "c5", "2024010100005", "00000099000000101000", b"<x/>")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    assert journal.deliveries["m5@sim"].status == "failed"
    assert len(journal.attempts) == 1


def test_restart_resumes_pending_delivery_from_the_journal() -> None:
    journal = MemoryJournal()
    first = DeliveryScheduler(Dka(SendOutcome("sent", 204)), journal, RetryPolicy(5, 30.0))
    first.start()
    first.submit("m6@sim", "c6", "2024010100006", "00000099000000101000", b"<x/>")
    wait_for(lambda: journal.deliveries["m6@sim"].status == "sent")
    first.stop()
    # A new scheduler on the same journal re-sends at once instead of after 30 s.
    dka = Dka(SendOutcome("acked", 200))
    second = DeliveryScheduler(dka, journal, RetryPolicy(5, 30.0))
    second.start()
    try:
        assert second.wait_idle(5)
    finally:
        second.stop()
    assert [c[0] for c in dka.calls] == ["m6@sim"]
    assert journal.deliveries["m6@sim"].status == "acked"
    assert [a.number for a in journal.attempts] == [1, 2]


def test_ack_arriving_during_the_attempt_is_not_lost() -> None:
    journal = MemoryJournal()
    holder: dict[str, DeliveryScheduler] = {}

    def sender(delivery: Delivery, attempt: int) -> SendOutcome:
        holder["s"].acknowledge(delivery.message_id)  # the async ack overtakes the response
        return SendOutcome("sent", 204)

    scheduler = DeliveryScheduler(sender, journal, RetryPolicy(5, 10.0))
    holder["s"] = scheduler
    scheduler.start()
    try:
        scheduler.submit("m7@sim", "c7", "2024010100007", "00000099000000101000", b"<x/>")
        assert scheduler.wait_idle(5)
    finally:
        scheduler.stop()
    assert journal.deliveries["m7@sim"].status == "acked"

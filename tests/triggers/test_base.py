"""The trigger log: matching, waiting, duplicates, late and unrelated triggers."""

from __future__ import annotations

import threading
import time

import pytest

from pytest_dso.triggers.base import LoggingSource, TriggerLog, TriggerTimeout, triggers_with


def test_wait_returns_a_trigger_that_already_arrived() -> None:
    log = TriggerLog("test")
    log.record(b"<x/>", verzoeknummer="2025030100001", recipient_oin="A" * 20)
    t0 = time.monotonic()
    found = log.wait_for("2025030100001", 5.0)
    assert time.monotonic() - t0 < 0.5
    assert found.verzoeknummer == "2025030100001"
    assert found.source == "test"
    assert found.received_at.tzinfo is not None


def test_wait_wakes_up_when_the_trigger_arrives_from_another_thread() -> None:
    log = TriggerLog("test")
    timer = threading.Timer(0.2, lambda: log.record(b"p", verzoeknummer="2025030100002"))
    timer.start()
    try:
        t0 = time.monotonic()
        found = log.wait_for("2025030100002", 5.0)
        assert 0.1 < time.monotonic() - t0 < 2.0
        assert found.raw == b"p"
    finally:
        timer.cancel()


def test_timeout_lists_what_arrived_for_something_else_and_marks_late_arrivals() -> None:
    log = TriggerLog("test")
    log.record(b"old", verzoeknummer="2025030100009")  # before the wait: not "during"
    timer = threading.Timer(0.05, lambda: log.record(b"o", verzoeknummer="2025030100003"))
    timer.start()
    with pytest.raises(TriggerTimeout) as caught:
        log.wait_for("2025030100004", 0.3)
    timer.cancel()
    assert [t.verzoeknummer for t in caught.value.others] == ["2025030100003"]
    assert "2025030100004" in str(caught.value)
    late = log.record(b"n", verzoeknummer="2025030100004")
    assert late.late
    assert not log.record(b"n", verzoeknummer="2025030100005").late
    assert len(log.all()) == 4  # nothing is dropped


def test_duplicates_by_message_id_and_by_content_are_kept_and_flagged() -> None:
    log = TriggerLog("test")
    first = log.record(b"a", verzoeknummer="1", message_id="m1")
    again = log.record(b"a", verzoeknummer="1", message_id="m1")
    other_message = log.record(b"a", verzoeknummer="1", message_id="m2")
    assert (first.duplicate, again.duplicate, other_message.duplicate) == (False, True, False)
    plain = log.record(b"z", verzoeknummer="2", recipient_oin="X")
    copy = log.record(b"z", verzoeknummer="2", recipient_oin="X")
    to_other = log.record(b"z", verzoeknummer="2", recipient_oin="Y")
    assert (plain.duplicate, copy.duplicate, to_other.duplicate) == (False, True, False)
    assert len(log.all()) == 6


def test_recipient_filter_skips_a_trigger_for_another_oin() -> None:
    log = TriggerLog("test")
    log.record(b"k", verzoeknummer="7", recipient_oin="BG")
    with pytest.raises(TriggerTimeout):
        log.wait_for("7", 0.05, recipient_oin="BD")
    log.record(b"u", verzoeknummer="7", recipient_oin="BD")
    assert log.wait_for("7", 0.05, recipient_oin="BD").raw == b"u"
    unknown = TriggerLog("t")
    unknown.record(b"?", verzoeknummer="8")
    assert unknown.wait_for("8", 0.05, recipient_oin="BD").recipient_oin is None


def test_unreadable_payloads_never_match() -> None:
    log = TriggerLog("test")
    bad = log.record(b"junk", verzoeknummer="", problem="no verzoeknummer")
    assert "problem: no verzoeknummer" in bad.describe()
    with pytest.raises(TriggerTimeout):
        log.wait_for("", 0.01)


def test_many_verzoeknummers_match_first_compatible_in_arrival_order() -> None:
    log = TriggerLog("test")
    numbers = [f"20250301{n:05d}" for n in range(1, 301)]
    for number in numbers:
        log.record(b"to-b", verzoeknummer=number, recipient_oin="B" * 20)
        log.record(b"to-a", verzoeknummer=number, recipient_oin="A" * 20)
        log.record(b"to-a", verzoeknummer=number, recipient_oin="A" * 20)  # a copy
        log.record(b"open", verzoeknummer=number)
    log.record(b"w", verzoeknummer=numbers[0], kind="dka-intrekking")
    for number in numbers[::37]:
        to_a = log.wait_for(number, 0.0, recipient_oin="A" * 20)
        assert (to_a.raw, to_a.duplicate, to_a.verzoeknummer) == (b"to-a", False, number)
        assert log.wait_for(number, 0.0, recipient_oin="B" * 20).raw == b"to-b"
        assert log.wait_for(number, 0.0, recipient_oin="C" * 20).raw == b"open"
        assert log.wait_for(number, 0.0).raw == b"to-b"  # no recipient: the first one
    copies = [t for t in log.all() if t.raw == b"to-a" and t.duplicate]
    assert len(copies) == len(numbers)
    assert len(log.all()) == 4 * len(numbers) + 1


def test_a_withdrawal_or_unreadable_trigger_never_ends_a_wait_by_verzoeknummer() -> None:
    log = TriggerLog("test")
    log.record(b"w", verzoeknummer="2025030100007", kind="dka-intrekking")
    log.record(b"?", verzoeknummer="", problem="no verzoeknummer")
    with pytest.raises(TriggerTimeout) as caught:
        log.wait_for("2025030100007", 0.05)
    assert caught.value.others == ()
    with pytest.raises(TriggerTimeout):
        log.wait_for("", 0.05)


def test_each_concurrent_wait_gets_its_own_trigger_and_others_on_timeout() -> None:
    log = TriggerLog("test")
    numbers = [f"20250302{n:05d}" for n in range(1, 41)]
    found: dict[str, bytes] = {}
    missed: list[TriggerTimeout] = []
    lock = threading.Lock()

    def wait(number: str, recipient: str) -> None:
        try:
            trigger = log.wait_for(number, 5.0 if number != "2025030299999" else 0.6,
                                   recipient_oin=recipient)
        except TriggerTimeout as exc:
            with lock:
                missed.append(exc)
            return
        with lock:
            found[f"{number}/{recipient}"] = trigger.raw

    waits = [threading.Thread(target=wait, args=(n, r)) for n in numbers for r in ("A", "B")]
    waits.append(threading.Thread(target=wait, args=("2025030299999", "A")))
    for thread in waits:
        thread.start()
    time.sleep(0.1)
    for number in reversed(numbers):
        log.record(b"wrong", verzoeknummer=number, recipient_oin="C")
        log.record(f"{number}:B".encode(), verzoeknummer=number, recipient_oin="B")
        log.record(f"{number}:A".encode(), verzoeknummer=number, recipient_oin="A")
    for thread in waits:
        thread.join(10.0)
    assert found == {f"{n}/{r}": f"{n}:{r}".encode() for n in numbers for r in ("A", "B")}
    assert len(missed) == 1
    assert len(missed[0].others) == 3 * len(numbers)  # all arrived during that wait
    assert log.record(b"late", verzoeknummer="2025030299999").late


def test_triggers_with_a_verzoeknummer_are_all_of_them_in_arrival_order() -> None:
    source = LoggingSource()
    log = source.log
    log.record(b"a", verzoeknummer="2025030300001", message_id="m1")
    log.record(b"b", verzoeknummer="2025030300002")
    log.record(b"a", verzoeknummer="2025030300001", message_id="m1")  # duplicate
    log.record(b"w", verzoeknummer="2025030300001", kind="dka-intrekking")
    log.record(b"?", verzoeknummer="", problem="unreadable")
    for number in ("2025030300001", "2025030300002", "", "2025030300009"):
        expected = [t for t in source.all() if t.verzoeknummer == number]
        assert triggers_with(source, number) == expected
    assert [t.duplicate for t in triggers_with(source, "2025030300001")] == [False, True, False]

"""The folder source with real files written while it polls."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_dso.triggers.base import TriggerTimeout
from pytest_dso.triggers.extract import VerzoeknummerExtractor
from pytest_dso.triggers.folder import MAX_POLL, MIN_POLL, FolderTriggerSource, clamp_poll_interval


@pytest.fixture
def source(tmp_path: Path) -> Iterator[FolderTriggerSource]:
    src = FolderTriggerSource(tmp_path, poll_interval=0.05)
    src.start()
    yield src
    src.stop()


def test_a_file_written_by_the_adapter_is_matched(
    source: FolderTriggerSource, tmp_path: Path, notificatie: Callable[..., bytes]
) -> None:
    (tmp_path / "trigger-1.xml").write_bytes(notificatie("2025030100001"))
    found = source.wait_for("2025030100001", 5.0)
    assert found.source == "folder"
    assert found.location == "file trigger-1.xml"
    assert found.recipient_oin == "00000099000000101000"
    assert found.raw.startswith(b"<?xml")


def test_temporary_names_are_read_only_after_the_rename(
    source: FolderTriggerSource, tmp_path: Path, notificatie: Callable[..., bytes]
) -> None:
    part = tmp_path / "trigger-2.xml.part"
    part.write_bytes(notificatie("2025030100002"))
    with pytest.raises(TriggerTimeout):
        source.wait_for("2025030100002", 0.15)  # three polls
    os.replace(part, tmp_path / "trigger-2.xml")
    assert source.wait_for("2025030100002", 5.0).late  # it came after the timed-out wait


def test_unreadable_and_duplicate_files_are_kept_and_flagged(
    source: FolderTriggerSource, tmp_path: Path, notificatie: Callable[..., bytes]
) -> None:
    (tmp_path / "junk.xml").write_bytes(b"<bericht>geen nummer</bericht>")
    (tmp_path / "a.xml").write_bytes(notificatie("2025030100003"))
    (tmp_path / "b.xml").write_bytes(notificatie("2025030100003"))
    source.wait_for("2025030100003", 5.0)
    deadline = time.monotonic() + 5
    while len(source.all()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    by_location = {t.location: t for t in source.all()}
    assert by_location["file junk.xml"].problem
    assert by_location["file junk.xml"].verzoeknummer == ""
    assert [by_location["file a.xml"].duplicate, by_location["file b.xml"].duplicate] == [
        False, True]


def test_a_file_written_just_before_stop_is_not_lost(
    tmp_path: Path, notificatie: Callable[..., bytes]
) -> None:
    src = FolderTriggerSource(tmp_path, poll_interval=5.0)
    src.start()
    (tmp_path / "last.xml").write_bytes(notificatie("2025030100004"))
    src.stop()
    assert [t.verzoeknummer for t in src.all()] == ["2025030100004"]


def test_regex_extractor_for_an_adapter_specific_format(tmp_path: Path) -> None:
    src = FolderTriggerSource(tmp_path, poll_interval=0.05, pattern="*.txt",
                              extractor=VerzoeknummerExtractor(regex=r"nr=(\d{13})"))
    with src:
        (tmp_path / "x.xml").write_text("nr=2025030100009")  # other pattern: ignored
        (tmp_path / "x.txt").write_text("nr=2025030100005")
        assert src.wait_for("2025030100005", 5.0).verzoeknummer == "2025030100005"
        with pytest.raises(TriggerTimeout):
            src.wait_for("2025030100009", 0.1)  # x.xml was there at the poll that found x.txt


def test_missing_folder_and_poll_bounds(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FolderTriggerSource(tmp_path / "nope").start()
    assert clamp_poll_interval(0) == MIN_POLL
    assert clamp_poll_interval(3600) == MAX_POLL


def test_a_dka_withdrawal_is_recorded_as_such_not_as_a_verzoeknotificatie(
    source: FolderTriggerSource, tmp_path: Path, notificatie: Callable[..., bytes]
) -> None:
    (tmp_path / "close.xml").write_bytes(
        b"<root><oin>00000099000000101000</oin><verzoeknummer>2025030100007</verzoeknummer>"
        b"<actie>close</actie></root>")
    deadline = time.monotonic() + 5
    while not source.all() and time.monotonic() < deadline:
        time.sleep(0.02)
    [withdrawal] = source.all()
    assert withdrawal.kind == "dka-intrekking"
    assert not withdrawal.is_verzoeknotificatie
    assert "(dka-intrekking)" in withdrawal.describe()
    with pytest.raises(TriggerTimeout):
        source.wait_for("2025030100007", 0.1)  # already read: not a trigger
    (tmp_path / "trigger.xml").write_bytes(notificatie("2025030100007"))
    assert source.wait_for("2025030100007", 5.0).is_verzoeknotificatie

"""The redacting terminal stream: whole lines are redacted, pieces are held until complete."""

from __future__ import annotations

import io

from pytest_dso.evidence.streams import MAX_PENDING, RedactingStream


def _stream() -> tuple[io.StringIO, RedactingStream]:
    out = io.StringIO()
    return out, RedactingStream(out, lambda text: text.replace("SECRET-123", "[REDACTED]"))


def test_a_secret_written_in_pieces_is_redacted_when_its_line_ends() -> None:
    out, stream = _stream()
    stream.write("key: SEC")
    assert out.getvalue() == ""  # held back: the line is not complete
    stream.write("RET-123\nnext ")
    assert out.getvalue() == "key: [REDACTED]\n"
    stream.flush()
    assert out.getvalue() == "key: [REDACTED]\nnext "


def test_a_very_long_line_is_not_held_forever() -> None:
    out, stream = _stream()
    stream.write("x" * (MAX_PENDING + 1))
    assert len(out.getvalue()) == MAX_PENDING + 1


def test_other_attributes_are_those_of_the_wrapped_stream() -> None:
    out, stream = _stream()
    assert stream.isatty() is False
    assert stream.wrapped is out
    stream.writelines(["a SECRET-123\n", "b\n"])
    assert out.getvalue() == "a [REDACTED]\nb\n"

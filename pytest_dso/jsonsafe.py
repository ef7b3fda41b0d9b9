"""JSON parsed with limits: what an outsider sends never costs unbounded CPU, memory or
stack, and every refusal is a :class:`JsonLimitError` (a ``ValueError``) that says what.

The standard parser recurses per nesting level (100,000 nested arrays raise
``RecursionError``), converts any number of digits (a 5000-digit integer raises a plain
``ValueError`` in recent Pythons, and costs quadratic time in older ones) and accepts
``NaN``/``Infinity``. :func:`loads` checks the nesting depth before parsing, bounds the digits
of every number (integers by Python's ``int_max_str_digits``, floats by ``max_number_chars``)
and refuses the non-finite constants.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Default limits: nesting depth, characters of one number, size of the text.
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100
MAX_TEXT = 16 * 1024 * 1024

_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


class JsonLimitError(ValueError):
    """The text is not JSON, or exceeds a limit; the message says which."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (strings skipped)."""
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _number(limit: int, kind: type) -> Any:
    def convert(text: str) -> Any:
        if len(text) > limit:
            raise JsonLimitError(f"a number of {len(text)} characters exceeds {limit}")
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise JsonLimitError(f"the number {text} is out of range")
        return value

    return convert


def _constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not JSON")


def loads(
    data: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    max_number_chars: int = MAX_NUMBER_CHARS,
    max_text: int = MAX_TEXT,
) -> Any:
    """Parse ``data`` (UTF-8 when bytes) within the limits; :class:`JsonLimitError` for text
    that is not JSON or exceeds one."""
    if len(data) > max_text:
        raise JsonLimitError(f"the JSON text of {len(data)} bytes exceeds {max_text}")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise JsonLimitError(f"the JSON text is not UTF-8: {exc}") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonLimitError(f"the JSON nests {depth} levels deep; at most {max_depth} are "
                             "accepted")
    try:
        # integers: Python's own digit limit (int_max_str_digits) keeps them cheap, and the
        # hot path free of a callback; floats are checked for length and range
        return json.loads(
            text,
            parse_float=_number(max_number_chars, float),
            parse_constant=_constant,
        )
    except JsonLimitError:
        raise
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        if "integer string conversion" in str(exc):
            raise JsonLimitError("an integer has more digits than accepted (4300)") from None
        raise JsonLimitError(f"not valid JSON: {exc}") from None

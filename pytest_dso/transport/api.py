"""The HTTP values the harness clients and the simulator share: one definition each.

- :class:`ApiResponse`: a completed HTTP response, as the harness's REST client receives it
  (``url`` and the recorded exchange filled) and as the simulator's API handlers answer.
- :class:`ApiError`: an API call that did not succeed. The harness client raises it for an
  unexpected status (with the response); the simulator's handlers raise it with a status,
  title and detail, and the simulator turns it into an ``application/problem+json`` body.
- :class:`Route`: a method plus a path, either a prefix (the HTTPS server's route table) or a
  template with ``{name}`` segments (the simulator's API operations, with their OpenAPI fields).

This module imports nothing else from pytest-dso, so every layer can use it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

#: The media type of a JSON body when nothing else is said.
JSON = "application/json"
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")

H = TypeVar("H", covariant=True)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ApiResponse:
    """One HTTP response.

    ``content_type`` is the media type; left empty, it is taken from a ``content-type``
    header, lower-cased and without parameters (as the harness client receives it). Header
    names in ``headers`` are lower case on the client side; on the server side they are the
    extra headers to send. ``url`` and ``exchange`` are filled by the harness client (the
    exchange is the recorded :class:`pytest_dso.dso.rest.Exchange`).
    """

    status: int
    body: bytes = field(default=b"", repr=False)
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    exchange: object | None = field(default=None, repr=False, compare=False)
    #: A large body the server writes as it reads it (``length`` bytes); ``body`` stays empty.
    stream: Callable[[], Iterable[bytes]] | None = field(default=None, repr=False,
                                                         compare=False)
    length: int = 0

    def __post_init__(self) -> None:
        if not self.content_type:
            header = self.headers.get("content-type", "")
            object.__setattr__(self, "content_type", header.split(";")[0].strip().lower())

    @property
    def ok(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON; :class:`ApiError` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(
                f"{self.url or 'the server'} answered {self.status} with a body that is not "
                f"JSON (Content-Type {self.content_type or 'none'}): {self.body[:200]!r}",
                self,
            ) from None

    def expect(self, *statuses: int, what: str = "the call") -> ApiResponse:
        """Self when the status is one of ``statuses`` (default: any 2xx), else
        :class:`ApiError` with the status and the start of the body."""
        good = self.status in statuses if statuses else self.ok
        if not good:
            wanted = ", ".join(map(str, statuses)) if statuses else "2xx"
            raise ApiError(
                f"{what} answered HTTP {self.status} (expected {wanted}) at {self.url}: "
                f"{self.body[:300].decode('utf-8', 'replace')}",
                self,
            )
        return self


class ApiError(RuntimeError):
    """An API call that did not succeed, in one of two forms.

    ``ApiError(message, response)`` on the client side: a transport error or an unexpected
    HTTP status (``response`` set when one came back). ``ApiError(status, title, detail,
    **extra)`` on the server side: the simulator's handlers raise it and the simulator answers
    it as an ``application/problem+json`` body with those fields.
    """

    @overload
    def __init__(self, message: str, response: ApiResponse | None = None) -> None: ...

    @overload
    def __init__(self, message: int, response: str, detail: str, **extra: Any) -> None: ...

    def __init__(self, message: str | int, response: ApiResponse | str | None = None,
                 detail: str = "", **extra: Any) -> None:
        self.title = ""
        self.detail = detail
        self.extra: dict[str, Any] = extra
        self.response: ApiResponse | None = None
        self._status: int | None = None
        if isinstance(message, int):
            self._status = message
            self.title = str(response)
            super().__init__(f"{message} {self.title}: {detail}")
            return
        if isinstance(response, ApiResponse):
            self.response = response
        super().__init__(message)

    @property
    def status(self) -> int | None:
        """The HTTP status: the problem's, or the response's when one came back."""
        if self._status is not None:
            return self._status
        return self.response.status if self.response else None


@dataclass(frozen=True)
class SpooledBody:
    """A request body the server streamed to a temporary file instead of memory: its
    ``path`` (inside the server's spool folder), ``size`` in bytes and ``sha256`` (hex).

    The server deletes the file after the handler returns unless the handler moved it away
    (:meth:`take`), so a refused or failed request leaves nothing behind."""

    path: Path
    size: int
    sha256: str

    def take(self, target: Path) -> Path:
        """Move the file to ``target`` (a rename on the same file system) and return it."""
        return self.path.replace(target)


@dataclass(frozen=True)
class Route(Generic[H]):
    """``method`` (``"*"`` for any) and ``path`` served by ``handler``.

    A plain route matches ``path`` as a prefix (:meth:`matches_path`); one made with
    :meth:`of` is a template whose ``{name}`` segments match one path segment each
    (:meth:`match`), with an OpenAPI ``summary`` and ``operation`` fields.

    ``streamed_body``: the server streams the request body to a file (a
    :class:`SpooledBody`) instead of reading it into memory; ``max_body`` (bytes, 0 for the
    server's own limit) bounds it (413 above).
    """

    method: str
    path: str
    handler: H = field(compare=False)
    templated: bool = False
    summary: str = ""
    operation: Mapping[str, Any] = field(default_factory=dict, compare=False)
    streamed_body: bool = field(default=False, compare=False)
    max_body: int = field(default=0, compare=False)

    @classmethod
    def of(cls, method: str, template: str, handler: _T, summary: str = "", *,
           streamed_body: bool = False, max_body: int = 0, **operation: Any) -> Route[_T]:
        """A template route. ``operation`` holds extra OpenAPI operation fields
        (``requestBody``, ``responses``, ``parameters``)."""
        return Route(method.upper(), template.strip("/"), handler, True, summary, operation,
                     streamed_body, max_body)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the template's ``{name}`` segments."""
        return tuple(_PARAM.findall(self.path)) if self.templated else ()

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str]:
        parts = _PARAM.split(self.path)
        regex = "".join(
            f"(?P<{p}>[^/]+)" if i % 2 else re.escape(p) for i, p in enumerate(parts)
        )
        return re.compile(f"^{regex}/?$")

    def match(self, path: str) -> dict[str, str] | None:
        """The template's parameters when ``path`` (without leading slash) fits it."""
        found = self._pattern.match(path.strip("/"))
        return found.groupdict() if found else None

    def matches_path(self, path: str) -> bool:
        """True when ``path`` is the prefix or lies below it."""
        if not path.startswith(self.path):
            return False
        rest = path[len(self.path) :]
        return not rest or self.path.endswith("/") or rest.startswith("/")

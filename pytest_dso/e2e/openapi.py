"""Validate API responses against an ``openapi.json`` (OpenAPI 3.0/3.1), with a small validator.

Where the user has an API's OpenAPI document (``[api] openapi_dir``: ``<api>.json``,
``<api>.openapi.json`` or ``<api>/openapi.json``, with ``<api>`` one of the API names such as
``afhandelen``) or the API serves one at ``{base}/openapi.json``, each response is checked:
the status is documented, the Content-Type is one of the documented media types, and a JSON
body matches the schema.

The schema validator covers the subset DSO-style documents use: ``type`` (also lists and
OpenAPI 3.0 ``nullable``), ``properties``, ``required``, ``additionalProperties``, ``items``,
``enum``, ``const``, ``allOf``/``anyOf``/``oneOf``, local ``$ref``, string length and
``pattern``, numeric bounds, array sizes. Unknown keywords (``format``, ``discriminator``…)
are ignored, so the check never fails on what it does not understand.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_dso.findings import Finding, error, warning

MAX_ERRORS = 20
_JSON_TYPES = ("application/json", "application/hal+json", "application/problem+json")


class OpenApiError(ValueError):
    """The document cannot be used (not JSON, not OpenAPI); the message says why."""


def _is_type(value: object, kind: str) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "null":
        return value is None
    return True


#: The keywords :meth:`_Validator._string` looks at (a string schema without any needs no call).
_STRING_KEYS = frozenset(("minLength", "maxLength", "pattern"))


@dataclass
class _Validator:
    root: Mapping[str, Any]
    errors: list[str] = field(default_factory=list)
    depth: int = 0

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 50:
            ref = str(schema["$ref"])
            if not ref.startswith("#/"):
                return {}  # external references are not followed
            node: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, Mapping) or part not in node:
                    self.errors.append(f"schema reference {ref} does not resolve")
                    return {}
                node = node[part]
            schema = node if isinstance(node, Mapping) else {}
            seen += 1
        return schema

    def check(self, value: object, schema: Mapping[str, Any], where: str) -> bool:
        if len(self.errors) >= MAX_ERRORS or self.depth > 64:
            return False
        self.depth += 1
        try:
            return self._check(value, self.resolve(schema) if "$ref" in schema else schema,
                               where)
        finally:
            self.depth -= 1

    def _sub(self, value: object, schema: Mapping[str, Any], where: str) -> bool:
        probe = _Validator(self.root)
        ok = probe.check(value, schema, where)
        return ok and not probe.errors

    def _check(self, value: object, schema: Mapping[str, Any], where: str) -> bool:
        start = len(self.errors)
        if value is None and schema.get("nullable") is True:
            return True
        kinds = schema.get("type")
        if kinds is not None:
            options = kinds if isinstance(kinds, list) else [kinds]
            if not (_is_type(value, kinds) if isinstance(kinds, str)
                    else any(_is_type(value, str(k)) for k in options)):
                shown = type(value).__name__ if value is not None else "null"
                self.errors.append(f"{where}: expected {' or '.join(map(str, options))}, "
                                   f"got {shown}")
                return False
        if "enum" in schema and value not in schema["enum"]:
            self.errors.append(f"{where}: {value!r} is not one of {schema['enum']!r}")
        if "const" in schema and value != schema["const"]:
            self.errors.append(f"{where}: expected {schema['const']!r}, got {value!r}")
        if "allOf" in schema:
            for sub in schema["allOf"]:
                self.check(value, sub, where)
        if "anyOf" in schema and not any(self._sub(value, s, where) for s in schema["anyOf"]):
            self.errors.append(f"{where}: matches none of the anyOf alternatives")
        if "oneOf" in schema:
            hits = sum(1 for s in schema["oneOf"] if self._sub(value, s, where))
            if hits != 1:
                self.errors.append(f"{where}: matches {hits} of the oneOf alternatives, not 1")
        if isinstance(value, str):
            if not _STRING_KEYS.isdisjoint(schema):
                self._string(value, schema, where)
        elif isinstance(value, dict):
            self._object(value, schema, where)
        elif isinstance(value, list):
            self._array(value, schema, where)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self._number(value, schema, where)
        return len(self.errors) == start

    def _object(self, value: dict[str, Any], schema: Mapping[str, Any], where: str) -> None:
        props = schema.get("properties") or {}
        for name in schema.get("required", ()):
            if name not in value:
                self.errors.append(f"{where}: required property {name!r} is missing")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                self.check(item, props[name], f"{where}.{name}")
            elif extra is False:
                self.errors.append(f"{where}: property {name!r} is not allowed")
            elif isinstance(extra, Mapping):
                self.check(item, extra, f"{where}.{name}")

    def _array(self, value: list[Any], schema: Mapping[str, Any], where: str) -> None:
        if "minItems" in schema and len(value) < int(schema["minItems"]):
            self.errors.append(f"{where}: {len(value)} items, at least {schema['minItems']}")
        if "maxItems" in schema and len(value) > int(schema["maxItems"]):
            self.errors.append(f"{where}: {len(value)} items, at most {schema['maxItems']}")
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                self.check(item, items, f"{where}[{index}]")

    def _string(self, value: str, schema: Mapping[str, Any], where: str) -> None:
        if "minLength" in schema and len(value) < int(schema["minLength"]):
            self.errors.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > int(schema["maxLength"]):
            self.errors.append(f"{where}: longer than {schema['maxLength']}")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, value) is None:
                    self.errors.append(f"{where}: {value!r} does not match {pattern!r}")
            except re.error:
                pass  # a pattern Python cannot read is not the response's fault

    def _number(self, value: float, schema: Mapping[str, Any], where: str) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            self.errors.append(f"{where}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            self.errors.append(f"{where}: {value} is above {schema['maximum']}")


def validate_schema(
    value: object, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None
) -> list[str]:
    """Problems of ``value`` against ``schema`` (``root`` resolves ``$ref``); empty: valid."""
    validator = _Validator(root if root is not None else schema)
    validator.check(value, schema, "$")
    return validator.errors[:MAX_ERRORS]


@functools.lru_cache(maxsize=1024)
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", template.rstrip("/"))
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"(?:^|.*?){body}/?$")


@functools.lru_cache(maxsize=1024)
def _literal_length(template: str) -> int:
    """The length of ``template`` without its ``{parameters}`` (the most literal one wins)."""
    return len(re.sub(r"\{[^}]+\}", "", template))


@dataclass(frozen=True)
class OpenApiDocument:
    """One API's OpenAPI document."""

    api: str
    data: Mapping[str, Any] = field(repr=False)
    origin: str = ""

    @classmethod
    def from_bytes(cls, api: str, raw: bytes, origin: str = "") -> OpenApiDocument:
        """Parse; raises :class:`OpenApiError`."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OpenApiError(f"{origin or api}: not JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
            raise OpenApiError(f"{origin or api}: not an OpenAPI document (no 'paths' object)")
        return cls(api, data, origin)

    def find_operation(self, method: str, url: str) -> tuple[str, Mapping[str, Any]] | None:
        """The (template, operation) for ``method`` and ``url`` (matched on the path's end;
        the longest matching template wins)."""
        path = urlsplit(url).path.rstrip("/")
        candidates: list[tuple[int, str, Mapping[str, Any]]] = []
        for template, item in self.data["paths"].items():
            if not isinstance(item, Mapping):
                continue
            op = item.get(method.lower())
            if not isinstance(op, Mapping):
                continue
            clean = template.split("?")[0]
            if _template_regex(clean).match(path):
                literal = _literal_length(clean)
                candidates.append((literal, template, op))
        if not candidates:
            return None
        candidates.sort(key=lambda c: -c[0])
        return candidates[0][1], candidates[0][2]

    def validate_response(
        self, method: str, url: str, status: int, content_type: str, body: bytes
    ) -> list[Finding]:
        """Findings for one response (empty: it matches the document)."""
        where = f"{method.upper()} {url}"
        found = self.find_operation(method, url)
        if found is None:
            return [warning("openapi.path.unknown",
                            f"the {self.api} OpenAPI document has no {method.upper()} operation "
                            f"for {urlsplit(url).path}",
                            "check [api.paths] against the document, or update the document",
                            where)]
        template, op = found
        responses = op.get("responses") or {}
        spec = (responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
                or responses.get("default"))
        if not isinstance(spec, Mapping):
            return [warning("openapi.response.undocumented_status",
                            f"HTTP {status} is not documented for {method.upper()} {template}",
                            "the API answered with a status its OpenAPI document does not list",
                            where)]
        content = spec.get("content") or {}
        if not content:
            return []
        media = content_type.split(";")[0].strip().lower()
        chosen = content.get(media) or content.get("*/*")
        if chosen is None:
            return [warning("openapi.response.content_type",
                            f"Content-Type {media or 'none'} is not documented for HTTP {status} "
                            f"of {template} (documented: {', '.join(content)})",
                            "the API sent another media type than its document promises", where)]
        schema = chosen.get("schema") if isinstance(chosen, Mapping) else None
        if not isinstance(schema, Mapping) or not (
            media in _JSON_TYPES or media.endswith("+json")
        ):
            return []
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return [error("openapi.response.not_json",
                          f"the {media} body of HTTP {status} is not JSON", "", where)]
        problems = validate_schema(value, schema, self.data)
        if not problems:
            return []
        return [error("openapi.response.schema",
                      f"the response does not match the {self.api} OpenAPI schema of {template}: "
                      + "; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""),
                      "compare the response with the API's openapi.json; if the document is "
                      "outdated, replace it in [api] openapi_dir", where)]


def load_openapi_dir(folder: Path, apis: Sequence[str]) -> dict[str, OpenApiDocument]:
    """The documents found in ``folder`` for ``apis``; raises :class:`OpenApiError` for a
    file that exists but cannot be used."""
    found: dict[str, OpenApiDocument] = {}
    for api in apis:
        for candidate in (folder / f"{api}.json", folder / f"{api}.openapi.json",
                          folder / api / "openapi.json"):
            if candidate.is_file():
                found[api] = OpenApiDocument.from_bytes(api, candidate.read_bytes(),
                                                        str(candidate))
                break
    return found

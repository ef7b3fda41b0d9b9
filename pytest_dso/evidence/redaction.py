"""One redaction policy for everything that leaves a run: attachments, logs, tracebacks,
JUnit XML and the Allure results folder.

A :class:`Redactor` removes

- secrets registered at runtime (passphrases, API keys, tokens), in the encodings they
  typically take in reports (as is, ``repr``-escaped, JSON-escaped, URL-encoded, XML-escaped);
- PEM private key blocks (also when a report shows them escaped, with literal ``\\n``, or cut
  short);
- the values of sensitive HTTP headers (``Authorization``, ``x-api-key``, ``Cookie``,
  ``Set-Cookie`` and any configured in ``[evidence] redact_headers``);
- secrets in URL query strings (``?api_key=...``, ``token=...``);
- personal data in STAM XML: the text of the elements named in ``[evidence] redact_elements``
  (default ``bsn`` and ``burgerservicenummer``), matched on the local name, any namespace.

Extra redaction (for example from the ``pytest_dso_redactor`` hook) is added as callables
``str -> str | None``. The engine has no pytest dependency.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from pytest_dso.dsofile import CertificateConfig
    from pytest_dso.settings import DsoSettings

#: What a redacted value is replaced with in free text.
REDACTED = "[REDACTED]"
#: The header value Allure renders as a masked value in an HTTP exchange attachment.
ALLURE_REDACTED = "__ALLURE_REDACTED__"
#: Headers whose values are always redacted (case-insensitive).
SENSITIVE_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "cookie",
    "set-cookie",
)
#: URL query parameters whose values are always redacted (case-insensitive).
SENSITIVE_QUERY_PARAMS: tuple[str, ...] = (
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "secret",
    "password",
    "passphrase",
    "sig",
    "signature",
)
#: Default STAM elements holding personal data.
DEFAULT_REDACT_ELEMENTS: tuple[str, ...] = ("bsn", "burgerservicenummer")
#: Registered secrets shorter than this are ignored: redacting every ``"ab"`` would make
#: reports unreadable without protecting anything real.
MIN_SECRET_LENGTH = 4

# The body never holds quotes, angle brackets or braces, so a match cannot run across the
# structure of JSON or XML around it.
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[^\"<>{}]*?-----END \1PRIVATE KEY-----"
)
# A block that was cut short (a truncated assertion message): the marker and the base64 (or
# escaped line breaks and PEM headers) that follows it.
_PEM_TRUNCATED = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"(?:[A-Za-z0-9+/=]|\\[nr]|\s|Proc-Type:[^\n\\]*|DEK-Info:[^\n\\]*)+"
)
_PEM_PLACEHOLDER = "[REDACTED PRIVATE KEY]"
# What every PEM rule's match contains.
_PEM_SCREEN = r"PRIVATE KEY-----"
#: The characters other than ASCII that the rules' case-insensitive patterns match to an ASCII
#: letter (Unicode simple case folding as the ``re`` module applies it), to ASCII.
ASCII_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_FOLD_CHARS = tuple(chr(code) for code in ASCII_FOLD)


def _folded(text: str) -> str:
    """``text`` lowered such that an ASCII keyword the case-insensitive rules would find in
    it is a substring."""
    if text.isascii():
        return text.lower()
    if any(char in text for char in _FOLD_CHARS):
        text = text.translate(ASCII_FOLD)
    return text.lower()


_SECRET_RULE, _PEM_RULE, _HEADER_RULE, _QUERY_RULE, _ELEMENT_RULE = 1, 2, 4, 8, 16
_ALL_RULES = 31
#: Up to this many secret forms are looked for one by one; more with the secrets' pattern.
_SECRET_SUBSTRINGS = 48
#: Texts up to this long are redacted once per secret set (remembered, up to _CACHE_SIZE).
_CACHED_LENGTH = 512
_CACHE_SIZE = 20_000

_T = TypeVar("_T", str, bytes)

Extra = Callable[[str], "str | None"]


def _alternation(names: Iterable[str]) -> str:
    return _alternation_of(tuple(names))


@functools.lru_cache(maxsize=64)
def _alternation_of(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(n) for n in sorted({n.lower() for n in names}, key=len, reverse=True))


# What follows a header name where the header rule can match (a quote, white space, then
# ``:`` or ``=``), in a text or in its JSON form (``\"``, ``\n``, ``\t``, ``\u00XX``).
_HEADER_TAIL = re.compile(r"(?:\\?['\"])?(?:\s|\\[nrtf]|\\u00[01][0-9a-f])*[:=]")


# What follows an element name where an element rule (or the JSON key rule) can match.
_ELEMENT_TAIL = re.compile(r"[\s>&\"'=\\]")


def _followed(lowered: str, names: Iterable[str], tail: re.Pattern[str]) -> bool:
    """Whether one of ``names`` occurs in ``lowered`` followed by ``tail``."""
    for name in names:
        start = lowered.find(name)
        while start >= 0:
            if tail.match(lowered, start + len(name)) is not None:
                return True
            start = lowered.find(name, start + 1)
    return False


def _without_suffixed(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` (lowered) without those that end with another of them: a text holding one
    of those holds the shorter name too."""
    lowered = {n.lower() for n in names}
    return tuple(sorted(n for n in lowered
                        if not any(o != n and n.endswith(o) for o in lowered)))


def secret_variants(secret: str) -> set[str]:
    """The forms ``secret`` takes in reports: as is, escaped by ``repr``/JSON/XML/HTML and
    URL-encoded."""
    variants = {
        secret,
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret, quote=False),
        html.escape(secret, quote=True),
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    return {v for v in variants if len(v) >= MIN_SECRET_LENGTH}


class Redactor:
    """Removes secrets and personal data from text, headers, XML and URLs.

    Thread-safe: secrets may be added while other threads redact. Build one per run with
    :meth:`from_settings`, add runtime secrets with :meth:`add_secret`.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        redact_elements: Sequence[str] = DEFAULT_REDACT_ELEMENTS,
        redact_headers: Sequence[str] = (),
        extra: Sequence[Extra] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._generation = 0
        self._secret_re: re.Pattern[str] | None = None
        # A text in which this finds nothing holds nothing any rule below would replace (each
        # rule's match contains one of these fragments), so it is returned as it is.
        self._screen_re: re.Pattern[str] = re.compile(_PEM_SCREEN)
        self.redact_elements: tuple[str, ...] = tuple(redact_elements)
        self.sensitive_headers: tuple[str, ...] = tuple(
            sorted({*SENSITIVE_HEADERS, *(h.lower() for h in redact_headers)})
        )
        self._extra: tuple[Extra, ...] = tuple(extra)
        self._header_re = re.compile(
            r"(?P<key>(?<![\w-])(?:" + _alternation(self.sensitive_headers) + r")"
            r"(?P<q>['\"]?)\s*[:=]\s*(?P<open>['\"]?))"
            # the value ends at a quote, a line break or an escape sequence (\n, \")
            r"(?P<value>(?:[^'\"\r\n\\]|\\(?![nrt'\"\\]))+)",
            re.IGNORECASE,
        )
        self._query_re = re.compile(
            r"(?P<key>[?&;](?:" + _alternation(SENSITIVE_QUERY_PARAMS) + r")=)"
            r"(?P<value>[^&#\s'\"<>\\]+)",
            re.IGNORECASE,
        )
        self._element_re: re.Pattern[str] | None = None
        self._json_re: re.Pattern[str] | None = None
        self._attr_re: re.Pattern[str] | None = None
        self._escaped_re: re.Pattern[str] | None = None
        if self.redact_elements:
            names = _alternation(self.redact_elements)
            self._element_re = re.compile(
                r"(?P<open><(?P<tag>(?:[\w.-]+:)?(?:" + names + r"))(?:\s[^>]*)?>)"
                r"(?P<value>[^<]*)(?P<close></(?P=tag)\s*>)",
                re.IGNORECASE,
            )
            self._escaped_re = re.compile(
                r"(?P<open>&lt;(?P<tag>(?:[\w.-]+:)?(?:" + names + r"))(?:\s(?:(?!&gt;).)*)?&gt;)"
                r"(?P<value>(?:(?!&lt;).)*)(?P<close>&lt;/(?P=tag)\s*&gt;)",
                re.IGNORECASE,
            )
            self._json_re = re.compile(
                r"(?P<key>[\"'](?:" + names + r")[\"']\s*:\s*)"
                r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|\d+)",
                re.IGNORECASE,
            )
            self._attr_re = re.compile(
                r"(?P<key>\s(?:[\w.-]+:)?(?:" + names + r")\s*=\s*)(?P<value>\"[^\"]*\"|'[^']*')",
                re.IGNORECASE,
            )
        self._rules_screen = "|".join((
            _PEM_SCREEN,
            _alternation(self.sensitive_headers),
            r"[?&;](?:" + _alternation(SENSITIVE_QUERY_PARAMS) + r")=",
            *((_alternation(self.redact_elements),) if self.redact_elements else ()),
        ))
        self._screen_re = re.compile(self._rules_screen, re.IGNORECASE)
        # The same, for ASCII names, on the folded text (:func:`_folded`): what each rule's
        # match contains, with the rule it calls for. A substring, or for the header and
        # query rules a pattern of the name and what must follow it (so ``"cookies": []`` in
        # an HTTP exchange document is no hit). Each is found in a string's JSON form too
        # (a quote escaped, white space as ``\n``, ``\t`` or ``\u00XX``): the screen of a
        # JSON document (:meth:`redact_json`) holds for every string in it.
        self._keyword_rules: tuple[tuple[str, int], ...] = ((_PEM_SCREEN.lower(), _PEM_RULE),)
        # An element name must be followed by what one of the element rules needs after it
        # (white space, >, &gt;, a quote, =) or by an escape in the JSON form.
        self._element_names = _without_suffixed(self.redact_elements)
        # A header name must be followed by what the header rule needs after it; a name that
        # ends with another (set-cookie, cookie) is found through that one.
        self._header_names = _without_suffixed(self.sensitive_headers)
        self._query_keys = _without_suffixed(f"{name}=" for name in SENSITIVE_QUERY_PARAMS)
        self._query_check = re.compile(
            r"[?&;](?:" + _alternation(SENSITIVE_QUERY_PARAMS) + r")=")
        self._ascii_screen = all(
            name.isascii()
            for name in (*self.sensitive_headers, *SENSITIVE_QUERY_PARAMS, *self.redact_elements)
        )
        self._secret_forms: tuple[str, ...] = ()
        # text -> its redaction by the built-in rules (short texts, this secret set only)
        self._cache: dict[str, str] = {}
        self.add_secrets(secrets)

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        settings: DsoSettings,
        environ: Mapping[str, str] | None = None,
        extra: Sequence[Extra] = (),
    ) -> Redactor:
        """A redactor for a run: the configured passphrases (``passphrase_env`` /
        ``passphrase_file`` of ``[certificate]`` and every bevoegd gezag's certificate), the
        API key (``[api] api_key_env``) and the ``[evidence]`` element and header lists."""
        environ = os.environ if environ is None else environ
        file = settings.file
        certificates: list[CertificateConfig] = []
        if file.certificate is not None:
            certificates.append(file.certificate)
        certificates.extend(bg.certificate for bg in file.bevoegde_gezagen if bg.certificate)
        secrets: list[str] = []
        for cert in certificates:
            secrets.extend(_passphrase_values(cert, environ))
        if file.api.api_key_env and environ.get(file.api.api_key_env):
            secrets.append(environ[file.api.api_key_env])
        return cls(
            secrets,
            redact_elements=file.evidence.redact_elements,
            redact_headers=file.evidence.redact_headers,
            extra=extra,
        )

    def add_secret(self, secret: str | bytes | None) -> None:
        """Register a secret (a passphrase, an API key, a token) found at runtime."""
        if secret is None:
            return
        self.add_secrets(
            [secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret]
        )

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Register several secrets at once."""
        new: set[str] = set()
        for secret in secrets:
            new |= secret_variants(secret.strip("\r\n")) | secret_variants(secret)
        if not new:
            return
        with self._lock:
            merged = self._secrets | new
            if merged == self._secrets:
                return
            ordered = "|".join(re.escape(s) for s in sorted(merged, key=len, reverse=True))
            secret_re = re.compile(ordered)
            screen_re = re.compile(f"{ordered}|(?i:{self._rules_screen})")
            forms = tuple(sorted(merged))
            # the screens first: a reader that sees the new secret pattern sees its screens
            self._screen_re, self._secret_forms = screen_re, forms
            self._secret_re, self._secrets = secret_re, merged
            self._generation += 1
            # last: a reader that took the old cache may still fill it, never the new one
            self._cache = {}

    def add_pem_secret(self, pem: str | bytes) -> None:
        """Register the base64 lines of a PEM private key, so that even a fragment of the
        key (one line in a diff) is redacted."""
        text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
        lines = [
            line.strip()
            for line in text.splitlines()
            if len(line.strip()) >= 16 and not line.startswith("-----") and ":" not in line
        ]
        self.add_secrets(lines)

    @property
    def generation(self) -> int:
        """Grows whenever the redaction could change: a new secret form, or a change in an
        extra redaction (one that has a ``generation``). A text redacted at one generation
        needs no second pass while the generation is the same."""
        extras = sum(int(getattr(extra, "generation", 0)) for extra in self._extra)
        return self._generation + extras

    @property
    def secret_count(self) -> int:
        """How many secret forms are registered (never the secrets themselves)."""
        return len(self._secrets)

    def __repr__(self) -> str:
        return (
            f"Redactor({self.secret_count} secret forms, elements={list(self.redact_elements)}, "
            f"headers={list(self.sensitive_headers)})"
        )

    # --- redaction --------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """``text`` with every known secret and sensitive pattern replaced."""
        if not text:
            return text
        if len(text) <= _CACHED_LENGTH:
            cache = self._cache  # before the patterns (see add_secrets)
            done = cache.get(text)
            if done is None:
                done = self._builtin(text)
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[text] = done
            text = done
        else:
            text = self._builtin(text)
        for extra in self._extra:
            result = extra(text)
            if result is not None:
                text = result
        return text

    def _builtin(self, text: str) -> str:
        """``text`` after the built-in rules and the registered secrets."""
        pattern = self._secret_re
        if not self._ascii_screen:
            if self._screen_re.search(text) is not None:
                return self._apply_rules(text, pattern, _ALL_RULES)
            return text
        rules = self._rules_for(_folded(text))
        if pattern is not None and self._holds_secret(text, pattern):
            rules |= _SECRET_RULE
        return self._apply_rules(text, pattern, rules) if rules else text

    def _rules_for(self, lowered: str) -> int:
        """The built-in rules that may find something in the folded text ``lowered``."""
        rules = 0
        for keyword, rule in self._keyword_rules:
            if keyword in lowered:
                rules |= rule
        if _followed(lowered, self._header_names, _HEADER_TAIL):
            rules |= _HEADER_RULE
        if _followed(lowered, self._element_names, _ELEMENT_TAIL):
            rules |= _ELEMENT_RULE
        if self._query_key_before_equals(lowered) and (
                self._query_check.search(lowered) is not None):
            rules |= _QUERY_RULE
        return rules

    def _query_key_before_equals(self, lowered: str) -> bool:
        """Whether a sensitive query parameter name (with its ``=``) occurs in ``lowered``:
        looked for at each ``=`` (few in most texts)."""
        keys = self._query_keys
        at = lowered.find("=")
        while at >= 0:
            if lowered.endswith(keys, 0, at + 1):
                return True
            at = lowered.find("=", at + 1)
        return False

    def _apply_rules(self, text: str, pattern: re.Pattern[str] | None, rules: int) -> str:
        if rules & _SECRET_RULE and pattern is not None:
            text = pattern.sub(REDACTED, text)
        if rules & _PEM_RULE:
            text = _PEM_BLOCK.sub(_PEM_PLACEHOLDER, text)
            text = _PEM_TRUNCATED.sub(_PEM_PLACEHOLDER, text)
        if rules & _HEADER_RULE:
            text = self._header_re.sub(lambda m: m.group("key") + REDACTED, text)
        if rules & _QUERY_RULE:
            text = self._query_re.sub(lambda m: m.group("key") + REDACTED, text)
        if rules & _ELEMENT_RULE:
            text = self._redact_elements(text)
        return text

    def _holds_secret(self, text: str, pattern: re.Pattern[str]) -> bool:
        forms = self._secret_forms
        if len(forms) <= _SECRET_SUBSTRINGS:
            return any(form in text for form in forms)
        return pattern.search(text) is not None

    def _may_hold(self, text: str) -> bool:
        """Whether ``text`` may hold anything a built-in rule replaces (false: it holds
        nothing): checked by substrings of the folded text (:func:`_folded`), or by the screen
        pattern when a configured name is not ASCII."""
        if not self._ascii_screen:
            return self._screen_re.search(text) is not None
        if self._rules_for(_folded(text)):
            return True
        pattern = self._secret_re
        return pattern is not None and self._holds_secret(text, pattern)

    def redact_bytes(self, data: bytes) -> bytes:
        """Redact UTF-8 text given as bytes; other bytes (images, archives) are returned as is."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        redacted = self.redact_text(text)
        return data if redacted == text else redacted.encode("utf-8")

    def redact(self, data: _T) -> _T:
        """Redact ``str`` or UTF-8 ``bytes``, returning the same type."""
        if isinstance(data, bytes):
            return self.redact_bytes(data)
        return self.redact_text(data)

    def redact_url(self, url: str) -> str:
        """``url`` with query secrets and any user:password removed."""
        url = re.sub(r"(?<=://)[^/@\s]+:[^/@\s]+@", REDACTED + "@", url)
        return self.redact_text(url)

    def is_sensitive_header(self, name: str) -> bool:
        """Whether the value of header ``name`` is always redacted."""
        return name.strip().lower() in self.sensitive_headers

    def redact_headers(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        marker: str = REDACTED,
    ) -> list[tuple[str, str]]:
        """Headers as ``(name, value)`` pairs, sensitive values replaced by ``marker`` (use
        :data:`ALLURE_REDACTED` for Allure HTTP exchanges) and the rest scrubbed as text."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        out: list[tuple[str, str]] = []
        for name, value in items:
            if self.is_sensitive_header(name):
                out.append((name, marker))
            else:
                out.append((name, self.redact_text(str(value))))
        return out

    def redact_xml(self, xml: _T) -> _T:
        """STAM (or any) XML with the configured personal-data elements and every secret
        redacted. Works on text, so it also handles XML that does not parse."""
        return self.redact(xml)

    def _redact_elements(self, text: str) -> str:
        if (
            self._element_re is None
            or self._escaped_re is None
            or self._json_re is None
            or self._attr_re is None
        ):
            return text

        def element(m: re.Match[str]) -> str:
            if not m.group("value").strip():
                return m.group(0)
            return m.group("open") + REDACTED + m.group("close")

        if "<" in text:
            text = self._element_re.sub(element, text)
        if "&lt;" in text:
            text = self._escaped_re.sub(element, text)
        text = self._json_re.sub(lambda m: m.group("key") + f'"{REDACTED}"', text)
        return self._attr_re.sub(lambda m: m.group("key") + f'"{REDACTED}"', text)

    def _extras_idle(self) -> bool:
        """Whether no extra redaction would run (each extra says so with a true ``idle``)."""
        return all(bool(getattr(extra, "idle", False)) for extra in self._extra)

    def redact_json(self, value: Any) -> Any:
        """A JSON-like value with every string redacted (keys included); the structure is
        kept, so the result is always valid JSON. A value whose JSON text holds nothing to
        redact (and no extra redaction to run) is returned as it is, without a walk."""
        if isinstance(value, dict | list | tuple) and self._extras_idle():
            try:
                text = json.dumps(value, ensure_ascii=False)
            except (TypeError, ValueError):
                pass
            else:
                # JSON escapes a string character by character, and every escaped form of a
                # secret is registered, so a string that needs redaction leaves a hit here.
                if not self._may_hold(text):
                    return value
        return self._redact_json(value)

    def redact_json_text(self, value: Any) -> str:
        """``value`` redacted as :meth:`redact_json` does, as JSON text (``ensure_ascii``
        off); encoded once when there is nothing to redact."""
        if self._extras_idle():
            text = json.dumps(value, ensure_ascii=False)
            if not self._may_hold(text):
                return text
        return json.dumps(self._redact_json(value), ensure_ascii=False)

    def _redact_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list | tuple):
            return [self._redact_json(v) for v in value]
        if isinstance(value, dict):
            personal = {name.lower() for name in self.redact_elements}
            return {
                self.redact_text(str(k)): REDACTED if str(k).lower() in personal and v is not None
                else self._redact_json(v)
                for k, v in value.items()
            }
        return value

    def redact_content(self, name: str, data: bytes) -> bytes:
        """Redact a file's content; ``name`` (its file name) decides how: JSON and XML value
        by value, other text as text, binary not at all."""
        structured = self._redact_structured(name, data)
        return self.redact_bytes(data) if structured is None else structured

    def _redact_structured(self, name: str, data: bytes) -> bytes | None:
        """JSON and XML files are redacted value by value, so they stay well-formed."""
        suffix = Path(name).suffix.lower()
        if suffix in (".json", ".httpexchange"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if ("\\u" not in text and "\\/" not in text and self._extras_idle()
                    and not self._may_hold(text)):
                # Without \u and \/ escapes a string's characters appear in the file as
                # json.dumps writes them: the screen of redact_json holds for the file as is
                # (and for its text, should it not parse).
                return data
            try:
                parsed = json.loads(text)
            except ValueError:
                return None
            redacted = self.redact_json(parsed)
            if redacted == parsed:
                return data
            return json.dumps(redacted, ensure_ascii=False).encode("utf-8")
        if suffix == ".xml":
            from lxml import etree

            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            try:
                root = etree.fromstring(data, parser)
            except etree.XMLSyntaxError:
                return None
            changed = False
            for element in root.iter():
                for attr in ("text", "tail"):
                    current = getattr(element, attr)
                    if isinstance(current, str):
                        new = self.redact_text(current)
                        if new != current:
                            setattr(element, attr, new)
                            changed = True
                for key, value in element.attrib.items():
                    current = value if isinstance(value, str) else value.decode("utf-8")
                    new = self.redact_text(current)
                    if new != current:
                        element.set(key, new)
                        changed = True
            if not changed:
                return data
            return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
        return None

    def redact_file(self, path: Path) -> bool:
        """Redact a text file in place. Returns whether it changed. JSON and XML stay
        well-formed; binary files are left alone."""
        try:
            data = path.read_bytes()
        except OSError:
            return False
        redacted = self.redact_content(path.name, data)
        if redacted == data:
            return False
        tmp = path.with_name(path.name + ".redacting")
        tmp.write_bytes(redacted)
        os.replace(tmp, path)
        return True

    def redact_tree(
        self, folder: Path, skip: Callable[[Path], bool] | None = None
    ) -> list[Path]:
        """Redact every text file under ``folder`` in place; the files that changed. ``skip``
        names files known to be redacted already (written redacted at the current
        :attr:`generation` and not touched since)."""
        changed: list[Path] = []
        if not folder.is_dir():
            return changed
        for path in _files_under(folder):
            if skip is not None and skip(path):
                continue
            if path.is_file() and not path.is_symlink() and self.redact_file(path):
                changed.append(path)
        return changed


def _files_under(folder: Path) -> list[Path]:
    """The files under ``folder`` (symbolic links to folders not followed), each folder's in
    name order: sorting plain names keeps this cheap for a results folder of tens of thousands
    of files."""
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders.sort()
        found += [Path(root, name) for name in sorted(files)]
    return found


@functools.cache
def patterns_only() -> Redactor:
    """A redactor with the built-in patterns only, shared: for evidence made before the
    run's redactor sees it (which adds the registered secrets). Never give it secrets."""
    return Redactor()


def _passphrase_values(cert: CertificateConfig, environ: Mapping[str, str]) -> list[str]:
    values: list[str] = []
    if cert.passphrase_env and environ.get(cert.passphrase_env):
        values.append(environ[cert.passphrase_env])
    if cert.passphrase_file is not None:
        try:
            data = cert.passphrase_file.read_bytes()
        except OSError:
            data = b""
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        if text:
            values.append(text)
    return values


def find_secrets(
    folder_or_files: Path | Iterable[Path], secrets: Iterable[str]
) -> list[tuple[Path, str]]:
    """Every ``(file, secret)`` where one of ``secrets`` (as is) occurs in a file: for
    self-tests and for ``dso-report verify``-style audits. Secrets are not returned in
    full: the second item is the secret's position in ``secrets``."""
    if isinstance(folder_or_files, Path):
        files = [p for p in folder_or_files.rglob("*") if p.is_file()]
    else:
        files = list(folder_or_files)
    wanted = [s.encode("utf-8") for s in secrets]
    hits: list[tuple[Path, str]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for index, secret in enumerate(wanted):
            if secret and secret in data:
                hits.append((path, f"secret #{index}"))
    return hits

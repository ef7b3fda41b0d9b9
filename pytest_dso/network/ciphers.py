"""Cipher suite, key exchange and protocol version ratings after the NCSC TLS guidelines.

Digikoppeling (TLS006, TLSCIPH001) allows only what the NCSC "ICT-beveiligingsrichtlijnen voor
Transport Layer Security (TLS)" rate *goed* (good) or *voldoende* (sufficient); *uit te
faseren* (phase out) is forbidden since 2021-01-01, and anything else is *onvoldoende*
(insufficient).

Two editions are built in, both **our reading**, not an official machine-readable list:

- :data:`NCSC_2025_05` (the default, :data:`NCSC_TLS_TABLE`): the 2025-05 edition as
  Internet.nl implements it (its change of 2025-06-09). Compared with v2.1: every ECDHE-CBC
  suite is worse (SHA-1 MAC insufficient, SHA-256/384 phase out), every DHE suite phase out,
  TLS 1.0/1.1 and ffdhe2048 insufficient, ECDHE-GCM/ChaCha20 and TLS 1.3 AES-128 sufficient.
- :data:`NCSC_2_1`: version 2.1 (2021-01), selectable with ``[network] tls_guidelines = "2.1"``.

Both classify CCM (CCM_8 is insufficient), CAMELLIA and ARIA suites, ECDHE curves and DHE groups
(RFC 7919 groups recognised by their prime). Anything not listed is insufficient. Pass your own
table, or adjust one with :meth:`CipherTable.overridden`, e.g. by overriding the
``dso_cipher_table`` fixture in a ``conftest.py``.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType


class Rating(enum.IntEnum):
    """NCSC security levels, best first (higher value is worse)."""

    GOOD = 1
    SUFFICIENT = 2
    PHASE_OUT = 3
    INSUFFICIENT = 4

    @property
    def dutch(self) -> str:
        """The term the NCSC guidelines use."""
        return {1: "goed", 2: "voldoende", 3: "uit te faseren", 4: "onvoldoende"}[self.value]

    @property
    def acceptable(self) -> bool:
        """True for good and sufficient: what Digikoppeling allows."""
        return self <= Rating.SUFFICIENT

    def __str__(self) -> str:
        return f"{self.name.lower().replace('_', '-')} ({self.dutch})"

    @classmethod
    def parse(cls, text: str) -> Rating:
        """Accept ``good``/``goed``, ``sufficient``/``voldoende``, ``phase-out``/``uit te
        faseren``, ``insufficient``/``onvoldoende`` (any case, ``_`` or ``-`` or spaces)."""
        key = text.strip().lower().replace("_", " ").replace("-", " ")
        aliases = {
            "good": cls.GOOD, "goed": cls.GOOD,
            "sufficient": cls.SUFFICIENT, "voldoende": cls.SUFFICIENT,
            "phase out": cls.PHASE_OUT, "uit te faseren": cls.PHASE_OUT,
            "insufficient": cls.INSUFFICIENT, "onvoldoende": cls.INSUFFICIENT,
        }
        try:
            return aliases[key]
        except KeyError:
            raise ValueError(
                f"unknown rating {text!r}; use good, sufficient, phase-out or insufficient"
            ) from None


@dataclass(frozen=True)
class CipherEntry:
    """One cipher suite: its IANA name, its OpenSSL name (as ``SSLSocket.cipher()`` reports it
    for TLS 1.2 and older) and its rating."""

    iana: str
    openssl: str
    rating: Rating


_G, _S, _P, _I = Rating.GOOD, Rating.SUFFICIENT, Rating.PHASE_OUT, Rating.INSUFFICIENT

#: OpenSSL spelling of the IANA suite names used below (``openssl ciphers -stdname``). Suites
#: OpenSSL does not implement (CAMELLIA-GCM, ARIA-CBC) keep their IANA name.
_OPENSSL: Mapping[str, str] = MappingProxyType({
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM": "ECDHE-ECDSA-AES256-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM": "ECDHE-ECDSA-AES128-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8": "ECDHE-ECDSA-AES256-CCM8",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": "ECDHE-ECDSA-AES128-CCM8",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384": "ECDHE-ECDSA-CAMELLIA256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256": "ECDHE-ECDSA-CAMELLIA128-SHA256",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384": "ECDHE-RSA-CAMELLIA256-SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256": "ECDHE-RSA-CAMELLIA128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384": "ECDHE-ECDSA-ARIA256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256": "ECDHE-ECDSA-ARIA128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384": "ECDHE-ARIA256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256": "ECDHE-ARIA128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": "DHE-RSA-AES256-GCM-SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "DHE-RSA-CHACHA20-POLY1305",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "DHE-RSA-AES128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CCM": "DHE-RSA-AES256-CCM",
    "TLS_DHE_RSA_WITH_AES_128_CCM": "DHE-RSA-AES128-CCM",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256": "DHE-RSA-AES256-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": "DHE-RSA-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256": "DHE-RSA-AES128-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": "DHE-RSA-AES128-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256": "DHE-RSA-CAMELLIA256-SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256": "DHE-RSA-CAMELLIA128-SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA": "DHE-RSA-CAMELLIA256-SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA": "DHE-RSA-CAMELLIA128-SHA",
    "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384": "DHE-RSA-ARIA256-GCM-SHA384",
    "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256": "DHE-RSA-ARIA128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-ECDSA-DES-CBC3-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA": "DHE-RSA-DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_CCM": "AES256-CCM",
    "TLS_RSA_WITH_AES_128_CCM": "AES128-CCM",
    "TLS_RSA_WITH_AES_256_CBC_SHA256": "AES256-SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256": "CAMELLIA256-SHA256",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256": "CAMELLIA128-SHA256",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA": "CAMELLIA256-SHA",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA": "CAMELLIA128-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
})


def _rated(rating: Rating, *names: str) -> tuple[CipherEntry, ...]:
    return tuple(CipherEntry(n, _OPENSSL.get(n, n), rating) for n in names)


_TLS13_256 = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
_TLS13_128 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256")
_ECDHE_AEAD = (
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
)
_ECDHE_CCM = ("TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM")
_ECDHE_CBC_SHA2 = (
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
)
_ECDHE_CBC_SHA1 = (
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
)
_ECDHE_CAMELLIA_CBC = (
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
)
_ECDHE_CAMELLIA_ARIA_2025 = (
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256",
)
_DHE_SHA2 = (
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CCM",
    "TLS_DHE_RSA_WITH_AES_128_CCM",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
)
_DHE_SHA1 = (
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
)
_DHE_CAMELLIA_ARIA_2025 = (
    "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384",
    "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256",
)
_3DES = (
    "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)
_STATIC_RSA = (
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CCM",
    "TLS_RSA_WITH_AES_128_CCM",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
    "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
)
#: Suites both editions leave out (so: insufficient) but that are worth naming in a report.
_NAMED_INSUFFICIENT = (
    "TLS_AES_128_CCM_8_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
)

#: Version 2.1 (2021-01). CCM (not CCM_8) rated as the GCM suites it stands next to, CAMELLIA
#: with (EC)DHE sufficient, static RSA key exchange and 3DES phase out (our reading of the
#: appendix and its footnotes; ARIA is not listed, so insufficient).
_NCSC_2_1: tuple[CipherEntry, ...] = (
    *_rated(_G, *_TLS13_256, *_TLS13_128, *_ECDHE_AEAD, *_ECDHE_CCM),
    *_rated(_S, *_ECDHE_CBC_SHA2, *_ECDHE_CBC_SHA1, *_ECDHE_CAMELLIA_CBC, *_DHE_SHA2, *_DHE_SHA1),
    *_rated(_P, *_3DES, *_STATIC_RSA),
    *_rated(_I, *_NAMED_INSUFFICIENT),
)

#: Edition 2025-05, as Internet.nl implements it (June 2025): only the TLS 1.3 256-bit suites
#: are good; TLS 1.3 AES-128 and the TLS 1.2 ECDHE AEAD suites sufficient; ECDHE-CBC with
#: SHA-256/384, ECDHE CAMELLIA/ARIA and every DHE suite with SHA-2 phase out; everything else
#: (CBC with SHA-1, static RSA, 3DES, CCM_8) insufficient.
_NCSC_2025_05: tuple[CipherEntry, ...] = (
    *_rated(_G, *_TLS13_256),
    *_rated(_S, *_TLS13_128, *_ECDHE_AEAD, *_ECDHE_CCM),
    *_rated(_P, *_ECDHE_CBC_SHA2, *_ECDHE_CAMELLIA_CBC, *_ECDHE_CAMELLIA_ARIA_2025,
            *_DHE_SHA2, *_DHE_CAMELLIA_ARIA_2025),
    *_rated(_I, *_ECDHE_CBC_SHA1, *_DHE_SHA1, *_3DES, *_STATIC_RSA, *_NAMED_INSUFFICIENT),
)

#: Protocol versions, v2.1: 1.3 good, 1.2 sufficient, 1.0 and 1.1 phase out, SSL insufficient.
_VERSIONS_2_1: Mapping[str, Rating] = MappingProxyType({
    "TLSv1.3": _G, "TLSv1.2": _S, "TLSv1.1": _P, "TLSv1": _P, "TLSv1.0": _P,
    "SSLv3": _I, "SSLv2": _I,
})
#: Protocol versions, 2025-05: TLS 1.0 and 1.1 move to insufficient.
_VERSIONS_2025_05: Mapping[str, Rating] = MappingProxyType({
    "TLSv1.3": _G, "TLSv1.2": _S, "TLSv1.1": _I, "TLSv1": _I, "TLSv1.0": _I,
    "SSLv3": _I, "SSLv2": _I,
})
#: Kept for callers of the v2.1 reading.
NCSC_VERSION_RATINGS: Mapping[str, Rating] = _VERSIONS_2_1

#: SHA-256 of the prime (big-endian bytes) of the RFC 7919 finite-field groups, so a DHE group
#: is recognised whatever a server calls it (``openssl genpkey -genparam -algorithm DH -pkeyopt
#: group:ffdhe3072`` prints the same primes).
FFDHE_PRIME_SHA256: Mapping[str, str] = MappingProxyType({
    "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966": "ffdhe2048",
    "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17": "ffdhe3072",
    "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e": "ffdhe4096",
    "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7": "ffdhe6144",
    "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833": "ffdhe8192",
})

_CURVES_2_1: Mapping[str, Rating] = MappingProxyType({
    "secp521r1": _G, "secp384r1": _G, "secp256r1": _G, "x25519": _G, "x448": _G,
    "secp224r1": _P,
})
_CURVES_2025_05: Mapping[str, Rating] = MappingProxyType({
    **_CURVES_2_1,
    "brainpoolp512r1": _G, "brainpoolp384r1": _G, "brainpoolp256r1": _G,
})
_DH_2_1: Mapping[str, Rating] = MappingProxyType({
    "ffdhe8192": _S, "ffdhe6144": _S, "ffdhe4096": _S, "ffdhe3072": _S, "ffdhe2048": _P,
})
_DH_2025_05: Mapping[str, Rating] = MappingProxyType({
    "ffdhe8192": _P, "ffdhe6144": _P, "ffdhe4096": _P, "ffdhe3072": _P, "ffdhe2048": _I,
})
_CURVE_ALIASES = {"prime256v1": "secp256r1", "p-256": "secp256r1", "p-384": "secp384r1",
                  "p-521": "secp521r1", "p-224": "secp224r1"}


@dataclass(frozen=True)
class KeyExchange:
    """The ephemeral key exchange of one handshake: ``kind`` ``ECDH`` or ``DH``, the size in
    bits, and the curve or RFC 7919 group name (``None`` for an unnamed DH group)."""

    kind: str
    size: int
    name: str | None = None

    @property
    def label(self) -> str:
        """``ECDH x25519`` or ``DH 1024-bit (not an RFC 7919 group)``."""
        if self.kind == "ECDH":
            return f"ECDH {self.name or f'{self.size}-bit curve'}"
        if self.name:
            return f"DH {self.name}"
        return f"DH {self.size}-bit (not an RFC 7919 group)"


def dh_group_name(prime: bytes) -> str | None:
    """The RFC 7919 name of a DH group, given its prime as big-endian bytes."""
    return FFDHE_PRIME_SHA256.get(hashlib.sha256(prime.lstrip(b"\0")).hexdigest())


@dataclass(frozen=True)
class CipherTable:
    """Ratings by cipher suite name (IANA or OpenSSL spelling, case-insensitive).

    A suite that is not listed is rated ``default`` (insufficient: the NCSC guidelines list
    the good, sufficient and phase-out suites, everything else is insufficient).
    """

    entries: tuple[CipherEntry, ...]
    source: str
    default: Rating = Rating.INSUFFICIENT
    edition: str = ""
    versions: Mapping[str, Rating] = field(default_factory=lambda: _VERSIONS_2025_05)
    curves: Mapping[str, Rating] = field(default_factory=lambda: _CURVES_2025_05)
    dh_groups: Mapping[str, Rating] = field(default_factory=lambda: _DH_2025_05)
    dh_unnamed: Rating = Rating.INSUFFICIENT
    _index: Mapping[str, CipherEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, CipherEntry] = {}
        for entry in self.entries:
            index[entry.iana.upper()] = entry
            index[entry.openssl.upper()] = entry
        object.__setattr__(self, "_index", MappingProxyType(index))

    def entry(self, name: str) -> CipherEntry | None:
        """The entry for ``name`` (IANA or OpenSSL spelling), if listed."""
        return self._index.get(name.strip().upper())

    def rate(self, name: str) -> Rating:
        """The rating of cipher suite ``name``; :attr:`default` when it is not listed."""
        found = self.entry(name)
        return found.rating if found else self.default

    def names(self, *ratings: Rating) -> tuple[str, ...]:
        """OpenSSL names of the listed suites with one of ``ratings``."""
        return tuple(e.openssl for e in self.entries if e.rating in ratings)

    def overridden(self, ratings: Mapping[str, Rating | str], *, source: str = "") -> CipherTable:
        """A copy where the suites named in ``ratings`` get the given rating.

        Unknown names are added (with the same name as IANA and OpenSSL spelling).
        """
        changed = {k.strip().upper(): v if isinstance(v, Rating) else Rating.parse(v)
                   for k, v in ratings.items()}
        entries: list[CipherEntry] = []
        seen: set[str] = set()
        for e in self.entries:
            for key in (e.iana.upper(), e.openssl.upper()):
                if key in changed:
                    entries.append(CipherEntry(e.iana, e.openssl, changed[key]))
                    seen.add(key)
                    break
            else:
                entries.append(e)
        index = {k for e in self.entries for k in (e.iana.upper(), e.openssl.upper())}
        for name, rating in changed.items():
            if name not in seen and name not in index:
                entries.append(CipherEntry(name, name, rating))
        note = source or f"{len(changed)} override(s)"
        return replace(self, entries=tuple(entries), source=f"{self.source} + {note}")

    def rate_version(self, version: str) -> Rating:
        """The rating of a protocol version as ``SSLSocket.version()`` spells it."""
        return self.versions.get(version, Rating.INSUFFICIENT)

    def rate_key_exchange(self, kex: KeyExchange) -> Rating:
        """The rating of an ephemeral key exchange: the curve for ECDH; for DH the RFC 7919
        group, an unnamed group below 2048 bits being insufficient in every edition."""
        if kex.kind == "ECDH":
            name = (kex.name or "").lower()
            return self.curves.get(_CURVE_ALIASES.get(name, name), Rating.INSUFFICIENT)
        if kex.name:
            return self.dh_groups.get(kex.name, Rating.INSUFFICIENT)
        if kex.size < 2048:
            return Rating.INSUFFICIENT
        return self.dh_unnamed


def table_from(entries: Iterable[CipherEntry], source: str) -> CipherTable:
    """A table built entirely from your own entries."""
    return CipherTable(tuple(entries), source)


#: Edition 2025-05 (our reading, after Internet.nl's implementation): the default.
NCSC_2025_05 = CipherTable(
    _NCSC_2025_05,
    "our reading of the NCSC ICT-beveiligingsrichtlijnen voor TLS, edition 2025-05",
    edition="2025-05",
)
#: Version 2.1 (2021-01), our reading; an unnamed DH group of 2048 bits or more phases out.
NCSC_2_1 = CipherTable(
    _NCSC_2_1,
    "our reading of the NCSC ICT-beveiligingsrichtlijnen voor TLS v2.1 (2021-01)",
    edition="2.1",
    versions=_VERSIONS_2_1,
    curves=_CURVES_2_1,
    dh_groups=_DH_2_1,
    dh_unnamed=Rating.PHASE_OUT,
)
#: The built-in editions by the name ``[network] tls_guidelines`` takes.
CIPHER_TABLES: Mapping[str, CipherTable] = MappingProxyType(
    {"2025-05": NCSC_2025_05, "2.1": NCSC_2_1}
)
#: The default table; see the module docstring for its status.
NCSC_TLS_TABLE = NCSC_2025_05


def cipher_table(edition: str) -> CipherTable:
    """The built-in table for ``edition`` (``2025-05`` or ``2.1``)."""
    try:
        return CIPHER_TABLES[edition]
    except KeyError:
        raise ValueError(
            f"unknown NCSC TLS guidelines edition {edition!r}; use one of "
            + ", ".join(repr(k) for k in CIPHER_TABLES)
        ) from None


def rate_version(version: str, table: CipherTable = NCSC_TLS_TABLE) -> Rating:
    """The NCSC rating of a protocol version as ``SSLSocket.version()`` spells it."""
    return table.rate_version(version)


def is_tls13_suite(name: str) -> bool:
    """True for TLS 1.3 suite names (``TLS_AES_…``, ``TLS_CHACHA20_…``: no key exchange)."""
    return name.upper().startswith("TLS_") and "_WITH_" not in name.upper()

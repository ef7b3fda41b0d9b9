"""Cipher suite and protocol version ratings after the NCSC TLS guidelines.

Digikoppeling (TLS006, TLSCIPH001) allows only cipher suites the NCSC "ICT-beveiligingsrichtlijnen
voor Transport Layer Security (TLS)" rate *goed* (good) or *voldoende* (sufficient); *uit te
faseren* (phase out) is forbidden since 2021-01-01, and anything else is *onvoldoende*
(insufficient).

:data:`NCSC_TLS_TABLE` is **our reading** of the tables in version 2.1 of those guidelines
(January 2021). It is not an official machine-readable list. Newer editions (the Digikoppeling
text refers to the guidelines of 2025) may move suites between classes: check the edition in
force and pass your own table, or adjust this one with :meth:`CipherTable.overridden`, e.g.
by overriding the ``dso_cipher_table`` fixture in a ``conftest.py``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


_G, _S, _P = Rating.GOOD, Rating.SUFFICIENT, Rating.PHASE_OUT

_NCSC_2_1: tuple[CipherEntry, ...] = (
    # TLS 1.3 (OpenSSL reports the IANA name for these).
    CipherEntry("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", _G),
    CipherEntry("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", _G),
    CipherEntry("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", _G),
    CipherEntry("TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256", _S),
    # TLS 1.2, ECDHE with AEAD: good.
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", _G),
    CipherEntry(
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", _G
    ),
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", _G),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", _G),
    CipherEntry("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", _G),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", _G),
    # ECDHE with CBC, and DHE (with sufficiently large groups): sufficient.
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", _S),
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", _S),
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", _S),
    CipherEntry("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", _S),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", _S),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", _S),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", _S),
    CipherEntry("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", _S),
    CipherEntry("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", _S),
    CipherEntry("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", _S),
    # 3DES, and static RSA key exchange (no forward secrecy): phase out.
    CipherEntry("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-ECDSA-DES-CBC3-SHA", _P),
    CipherEntry("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", _P),
    CipherEntry("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "DHE-RSA-DES-CBC3-SHA", _P),
    CipherEntry("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", _P),
    CipherEntry("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", _P),
    CipherEntry("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", _P),
    CipherEntry("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", _P),
    CipherEntry("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", _P),
    CipherEntry("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", _P),
    CipherEntry("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", _P),
)

#: Our reading of the NCSC protocol version ratings (v2.1): 1.3 good, 1.2 sufficient,
#: 1.0 and 1.1 phase out, SSL insufficient.
NCSC_VERSION_RATINGS: Mapping[str, Rating] = MappingProxyType(
    {
        "TLSv1.3": Rating.GOOD,
        "TLSv1.2": Rating.SUFFICIENT,
        "TLSv1.1": Rating.PHASE_OUT,
        "TLSv1": Rating.PHASE_OUT,
        "TLSv1.0": Rating.PHASE_OUT,
        "SSLv3": Rating.INSUFFICIENT,
        "SSLv2": Rating.INSUFFICIENT,
    }
)


@dataclass(frozen=True)
class CipherTable:
    """Ratings by cipher suite name (IANA or OpenSSL spelling, case-insensitive).

    A suite that is not listed is rated ``default`` (insufficient: the NCSC guidelines list
    the good, sufficient and phase-out suites, everything else is insufficient).
    """

    entries: tuple[CipherEntry, ...]
    source: str
    default: Rating = Rating.INSUFFICIENT
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
        return CipherTable(tuple(entries), f"{self.source} + {note}", self.default)


def table_from(entries: Iterable[CipherEntry], source: str) -> CipherTable:
    """A table built entirely from your own entries."""
    return CipherTable(tuple(entries), source)


#: The default table; see the module docstring for its status.
NCSC_TLS_TABLE = CipherTable(
    _NCSC_2_1,
    "our reading of the NCSC ICT-beveiligingsrichtlijnen voor TLS v2.1 (2021-01)",
)


def rate_version(version: str) -> Rating:
    """The NCSC rating of a protocol version as ``SSLSocket.version()`` spells it."""
    return NCSC_VERSION_RATINGS.get(version, Rating.INSUFFICIENT)

"""A minimal, valid one-page PDF: the publishable version of a verzoek.

DSO-LV leaves privacy and business-sensitive data out of this PDF "zoveel mogelijk" [C]; the
simulator's version shows only the verzoeknummer, type, bevoegd gezag and activiteiten, never
a person's data.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_dso.stam.model import Verzoek


def _escape(text: str) -> str:
    # PDF literal strings: escape the delimiters; keep to Latin-1 for the standard font.
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF showing ``lines`` in Helvetica."""
    content = "BT /F1 11 Tf 50 790 Td 14 TL\n" + "".join(
        f"({_escape(line)}) '\n" for line in lines
    ) + "ET\n"
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def publiceerbaar_pdf(verzoek: Verzoek) -> bytes:
    """The publishable PDF of ``verzoek`` (no personal data)."""
    lines = [
        f"Verzoek {verzoek.verzoeknummer} (versie {verzoek.volgnummer})",
        f"Type: {verzoek.type.value}",
        f"Doel: {verzoek.doel.value}",
        f"Bevoegd gezag: {verzoek.bevoegd_gezag.naam} ({verzoek.bevoegd_gezag.oin})",
        f"Ingediend: {verzoek.indiendatum:%Y-%m-%d %H:%M}",
        "Activiteiten:",
        *(f"  - {a.activiteit_naam}" for a in verzoek.projectactiviteiten),
        "Publiceerbare versie: persoonsgegevens zijn weggelaten (dso-sim).",
    ]
    return text_pdf(lines)

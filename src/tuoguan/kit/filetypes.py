"""What an uploaded document is, read from its first bytes, never from its name (S1).

A document is a PDF, a JPEG, a PNG or a WebP image: those are the formats the business-info
review (经营信息审核) and the exit application accept for licences, identity documents, bank
proofs and brand authorisations. A file named ``.pdf`` that holds HTML or a program is refused.
"""

from __future__ import annotations

from tuoguan.errors import InvalidInput

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
DOCUMENT_TYPES = (PDF, JPEG, PNG, WEBP)
# The file extension of each type, for stored keys and download names.
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", WEBP: "webp"}


def sniff(data: bytes) -> str | None:
    """The document type the bytes begin with (PDF, JPEG, PNG or WebP), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def _megabytes(size: int) -> str:
    whole = size / (1024 * 1024)
    return f"{whole:g} MB" if whole >= 1 else f"{size // 1024} KB"


def check_document(data: bytes, *, field: str, max_bytes: int) -> str:
    """The content type of an acceptable document; 422 (naming ``field``) when it is empty
    (``document_not_empty``), over ``max_bytes`` (``document_max_bytes``) or not a PDF, JPEG,
    PNG or WebP by its content (``document_type``)."""
    if not data:
        raise InvalidInput("the file is empty", field=field, rule="document_not_empty")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"a document is at most {_megabytes(max_bytes)} (this one is {len(data):,} bytes)",
            field=field,
            rule="document_max_bytes",
            max_bytes=max_bytes,
        )
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            "a document is a PDF, JPEG, PNG or WebP file (checked by its content, not its name)",
            field=field,
            rule="document_type",
            allowed=list(DOCUMENT_TYPES),
        )
    return kind

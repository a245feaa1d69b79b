"""A document is what its content says, never what its name says (S1)."""

from __future__ import annotations

import pytest

from tuoguan.errors import InvalidInput
from tuoguan.kit.filetypes import check_document, sniff

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "kind"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")],
)
def test_the_four_document_types_are_known_by_their_first_bytes(
    data: bytes, kind: str
) -> None:  # S1
    assert sniff(data) == kind
    assert check_document(data, field="file", max_bytes=1024) == kind


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"<!DOCTYPE html><html><script>alert(1)</script>",  # a page that runs script
        b"\x7fELF\x02\x01\x01",  # a Linux program
        b"PK\x03\x04",  # a zip (a .docx too)
        b"GIF89a",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but sound
        b" %PDF-1.4",  # not at the start
    ],
)
def test_anything_else_is_refused_whatever_it_is_called(data: bytes) -> None:  # S1
    assert sniff(data) is None
    with pytest.raises(InvalidInput) as refused:
        check_document(data, field="licence", max_bytes=1024)
    assert (refused.value.field, refused.value.extra["rule"]) == ("licence", "document_type")


def test_an_empty_or_oversized_file_is_refused_before_its_type() -> None:  # S1
    with pytest.raises(InvalidInput) as empty:
        check_document(b"", field="file", max_bytes=1024)
    assert empty.value.extra["rule"] == "document_not_empty"
    big = PDF + b"\x00" * 2048
    with pytest.raises(InvalidInput) as over:
        check_document(big, field="file", max_bytes=1024)
    assert over.value.extra["rule"] == "document_max_bytes"
    assert over.value.extra["max_bytes"] == 1024
    assert check_document(PDF, field="file", max_bytes=len(PDF)) == "application/pdf"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("营业执照.pdf", "营业执照.pdf"),
        ("C:\\Users\\me\\scan.pdf", "scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("bad\x00name\x07.pdf", "bad name .pdf"),
        ("right\u202etxt.pdf", "right txt.pdf"),
        ("...", "document.pdf"),
        (None, "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 200),
    ],
)
def test_an_uploaded_name_is_kept_for_people_only(given: str | None, kept: str) -> None:  # S1
    from tuoguan.onboarding.documents import clean_name

    assert clean_name(given, "application/pdf") == kept

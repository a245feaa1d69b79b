"""Photos of receiving discrepancies (R2: 收货异常 evidence), kept as files outside the database.

A photo is checked by what it contains, never by its name or the type the client claims: its
first bytes must be those of a JPEG, a PNG or a WebP image, and it is at most 5 MB. It is stored
under ``TUOGUAN_UPLOAD_DIR`` as ``inbound/<first two hex digits>/<sha256>.<ext>``: the name is
the content's SHA-256, so the same photo uploaded twice is one file, and nothing the client
sends ever becomes part of a path. Writes go to a temporary name first and are renamed into
place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tuoguan.errors import InvalidInput, NotFound

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# The file extension of each type a photo may have.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
FOLDER = "inbound"


def sniff(data: bytes) -> str | None:
    """The image type the bytes begin with (JPEG, PNG or WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(data: bytes, *, field: str = "file") -> str:
    """The content type of an acceptable photo; 422 when it is empty, too big or not an image."""
    if not data:
        raise InvalidInput("the photo is empty", field=field, rule="photo_not_empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"a photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB "
            f"(this one is {len(data):,} bytes)",
            field=field,
            rule="photo_max_bytes",
        )
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            "a photo is a JPEG, PNG or WebP image (checked by its content, not its name)",
            field=field,
            rule="photo_type",
        )
    return kind


@dataclass(frozen=True)
class StoredPhoto:
    """Where a photo was kept and what it is."""

    sha256: str
    content_type: str
    size: int
    path: str  # relative to the upload folder


def relative_path(sha256: str, content_type: str) -> str:
    """The path of a photo under the upload folder, from its hash and type alone."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{FOLDER}/{sha256[:2]}/{sha256}.{EXTENSIONS[content_type]}"


def digest(data: bytes) -> str:
    """The SHA-256 a photo is stored under (hex)."""
    return hashlib.sha256(data).hexdigest()


def store(root: str | Path, data: bytes, content_type: str) -> StoredPhoto:
    """Write a checked photo under ``root`` by its hash (once: an identical file is kept)."""
    name = digest(data)
    relative = relative_path(name, content_type)
    target = Path(root) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return StoredPhoto(sha256=name, content_type=content_type, size=len(data), path=relative)


def locate(root: str | Path, sha256: str, content_type: str) -> Path:
    """The file of a stored photo; 404 when it is no longer on disk."""
    try:
        target = Path(root) / relative_path(sha256, content_type)
    except (KeyError, ValueError) as exc:
        raise NotFound("this photo is not stored", field="n") from exc
    if not target.is_file():
        raise NotFound("this photo's file is missing from the upload folder", field="n")
    return target

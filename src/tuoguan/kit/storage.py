"""Where uploaded files live: outside the database, behind one small interface (S1).

``Storage`` puts bytes under a folder and reads or deletes them by the key it returned. The key
is made from the content's SHA-256 (``<folder>/<2 hex>/<sha256>.<ext>``), never from a name a
client sent, so nothing a client types becomes part of a path, and the same file put twice is
kept once. Two kinds:

- ``FileStorage``: a folder on the local disk (``TUOGUAN_UPLOAD_DIR``), the default. A file is
  written under a temporary name and renamed into place: a reader never sees half a file.
- ``S3Storage``: a bucket of any S3-compatible service (AWS S3, MinIO, Ceph), through boto3,
  imported only when such a storage is opened (the ``s3`` extra).

``open_storage(url)`` picks one from ``TUOGUAN_STORAGE_URL``: empty for the upload folder,
``file:///srv/tuoguan/files`` for another folder, or
``s3://[access-key:secret@]bucket[/prefix]?endpoint=http://minio:9000&region=cn-north-1``
(without keys in the URL boto3 finds them as it always does: ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from tuoguan.errors import NotFound
from tuoguan.kit.filetypes import EXTENSIONS

_FOLDER = re.compile(r"^[A-Za-z0-9_-]{1,60}(/[A-Za-z0-9_-]{1,60}){0,4}$")
_KEY = re.compile(r"^(?P<folder>[A-Za-z0-9_/-]{1,300})/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class StoredObject:
    """What was stored: its key (to read it back), its SHA-256 (hex), size and type."""

    key: str
    sha256: str
    size: int
    content_type: str


class Storage(Protocol):
    """Bytes kept outside the database, by a key made from their content."""

    def put(self, folder: str, data: bytes, content_type: str) -> StoredObject:
        """Keep ``data`` under ``folder``; its key is made from its SHA-256."""
        ...

    def read(self, key: str) -> bytes:
        """The bytes kept under ``key``; NotFound when they are gone."""
        ...

    def delete(self, key: str) -> None:
        """Forget the bytes under ``key`` (nothing happens when they are gone already)."""
        ...


def object_key(folder: str, sha256: str, content_type: str) -> str:
    """The key of a content under a folder, from its hash and type alone."""
    if not _FOLDER.fullmatch(folder):
        raise ValueError(f"{folder!r} is not a storage folder (letters, digits, _ - and /)")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{folder}/{sha256[:2]}/{sha256}.{EXTENSIONS.get(content_type, 'bin')}"


def _checked_key(key: str) -> str:
    match = _KEY.fullmatch(key)
    if match is None or "//" in key or not _FOLDER.fullmatch(match.group("folder")):
        raise NotFound("no file is stored under this key", field="key")
    return key


def _stored(folder: str, data: bytes, content_type: str) -> StoredObject:
    digest = hashlib.sha256(data).hexdigest()
    return StoredObject(
        key=object_key(folder, digest, content_type),
        sha256=digest,
        size=len(data),
        content_type=content_type,
    )


class FileStorage:
    """Files under a folder of the local disk."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    def put(self, folder: str, data: bytes, content_type: str) -> StoredObject:
        stored = _stored(folder, data, content_type)
        target = self.root / stored.key
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                os.replace(temporary, target)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        return stored

    def read(self, key: str) -> bytes:
        target = self.root / _checked_key(key)
        try:
            return target.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound("the file is no longer stored", field="key") from None

    def delete(self, key: str) -> None:
        (self.root / _checked_key(key)).unlink(missing_ok=True)


class S3Storage:
    """Objects in a bucket of an S3-compatible service (boto3, imported when first used)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 storage names its bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.region = region
        self._keys = (access_key_id, secret_access_key)
        self._client: Any = None

    def __repr__(self) -> str:  # never the secret
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage(s3://{self.bucket}/{self.prefix}{where})"

    def client(self) -> Any:
        """The boto3 client, made on first use (boto3 is the optional ``s3`` extra)."""
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as exc:  # pragma: no cover - the extra is installed with tests
                raise RuntimeError("S3 storage needs boto3: pip install 'tuoguan[s3]'") from exc
            access, secret = self._keys
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=access,
                aws_secret_access_key=secret,
                # Path-style addressing: MinIO and most self-hosted services want it.
                config=Config(
                    s3={"addressing_style": "path"} if self.endpoint_url else {},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        return self._client

    def put(self, folder: str, data: bytes, content_type: str) -> StoredObject:
        stored = _stored(folder, data, content_type)
        self.client().put_object(
            Bucket=self.bucket,
            Key=self.prefix + stored.key,
            Body=data,
            ContentType=content_type,
            Metadata={"sha256": stored.sha256},
        )
        return stored

    def read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client().get_object(
                Bucket=self.bucket, Key=self.prefix + _checked_key(key)
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound("the file is no longer stored", field="key") from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=self.bucket, Key=self.prefix + _checked_key(key))


def open_storage(url: str, *, default_root: str) -> Storage:
    """The storage ``url`` names (see the module); "" is ``default_root`` on the local disk."""
    url = url.strip()
    if not url:
        return FileStorage(default_root)
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc or not path:
            raise ValueError(f"{url!r}: a folder is written file:///absolute/path")
        return FileStorage(path)
    if parts.scheme == "s3":
        if not parts.hostname:
            raise ValueError(f"{url!r}: an S3 storage is written s3://bucket[/prefix]")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise ValueError(f"{url!r}: unknown settings {sorted(unknown)} (endpoint, region)")
        endpoint = query.get("endpoint")
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"{url!r}: the endpoint is an http(s) URL")
        return S3Storage(
            parts.hostname,
            prefix=unquote(parts.path),
            endpoint_url=endpoint,
            region=query.get("region"),
            access_key_id=unquote(parts.username) if parts.username else None,
            secret_access_key=unquote(parts.password) if parts.password else None,
        )
    raise ValueError(f"{url!r}: a storage URL starts with file:// or s3:// (or is empty)")

"""Files kept outside the database (S1): on the local disk and in an S3-compatible bucket,
the latter against moto's S3 server over real HTTP on a free loopback port."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuoguan.errors import NotFound
from tuoguan.kit.storage import FileStorage, S3Storage, Storage, object_key, open_storage

DATA = b"%PDF-1.4\nthe licence\n%%EOF\n"
DIGEST = hashlib.sha256(DATA).hexdigest()


def _round_trip(storage: Storage) -> None:
    stored = storage.put("documents/sel_1", DATA, "application/pdf")
    assert stored.key == f"documents/sel_1/{DIGEST[:2]}/{DIGEST}.pdf"
    assert (stored.sha256, stored.size, stored.content_type) == (
        DIGEST,
        len(DATA),
        "application/pdf",
    )
    assert storage.read(stored.key) == DATA
    # the same content again: the same key, kept once
    assert storage.put("documents/sel_1", DATA, "application/pdf") == stored
    storage.delete(stored.key)
    with pytest.raises(NotFound):
        storage.read(stored.key)
    storage.delete(stored.key)  # gone already: nothing happens


def test_file_storage_keeps_files_by_their_hash(tmp_path: Path) -> None:  # S1
    storage = FileStorage(tmp_path)
    stored = storage.put("documents/sel_1", DATA, "application/pdf")
    assert (tmp_path / stored.key).read_bytes() == DATA
    assert not [p for p in (tmp_path / stored.key).parent.iterdir() if p.name.startswith(".part-")]
    _round_trip(storage)


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        f"documents/../../{DIGEST[:2]}/{DIGEST}.pdf",
        f"/abs/{DIGEST[:2]}/{DIGEST}.pdf",
        f"documents/{DIGEST[:2]}/{DIGEST}.pdf/..",
        "documents/sel_1/ab/not-a-hash.pdf",
    ],
)
def test_a_key_the_storage_never_made_reads_as_not_found(tmp_path: Path, key: str) -> None:  # S1
    with pytest.raises(NotFound):
        FileStorage(tmp_path / "root").read(key)


def test_a_folder_with_a_path_in_it_is_refused(tmp_path: Path) -> None:  # S1
    for folder in ("../up", "a/../b", "", "/abs", "a//b"):
        with pytest.raises(ValueError):
            object_key(folder, DIGEST, "application/pdf")


def test_storage_urls() -> None:
    assert isinstance(open_storage("", default_root="/tmp/x"), FileStorage)
    local = open_storage("file:///srv/files", default_root="/tmp/x")
    assert isinstance(local, FileStorage) and local.root == Path("/srv/files")
    s3 = open_storage(
        "s3://AK:S%2FK@docs-bucket/tuoguan/prod?endpoint=http://minio:9000&region=cn-north-1",
        default_root="/tmp/x",
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.endpoint_url, s3.region) == (
        "docs-bucket",
        "tuoguan/prod/",
        "http://minio:9000",
        "cn-north-1",
    )
    assert "S/K" not in repr(s3) and "AK" not in repr(s3)
    for bad in (
        "ftp://x",
        "s3://",
        "s3://b?endpoint=file:///x",
        "s3://b?colour=red",
        "file://host/x",
    ):
        with pytest.raises(ValueError):
            open_storage(bad, default_root="/tmp/x")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, in a thread."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_s3_storage_keeps_objects_in_a_bucket_over_http(s3_endpoint: str) -> None:  # S1
    import boto3

    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **keys).create_bucket(
        Bucket="tuoguan-docs"
    )
    storage = open_storage(
        f"s3://testing:testing@tuoguan-docs/prod?endpoint={s3_endpoint}&region=us-east-1",
        default_root="/nowhere",
    )
    assert isinstance(storage, S3Storage)
    stored = storage.put("documents/sel_1", DATA, "application/pdf")
    # the object is where the prefix says, with its type
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **keys)
    head = raw.head_object(Bucket="tuoguan-docs", Key=f"prod/{stored.key}")
    assert head["ContentType"] == "application/pdf" and head["ContentLength"] == len(DATA)
    _round_trip(storage)


def test_the_signing_key_is_made_once_with_owner_only_permissions(tmp_path: Path) -> None:  # S1
    from tuoguan.config import Settings
    from tuoguan.onboarding import documents

    settings = Settings(upload_dir=str(tmp_path / "uploads"), environment="test")
    first = documents.signing_key(settings)
    path = tmp_path / "uploads" / documents.KEY_FILE
    assert path.read_bytes().strip() == first and len(first) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert documents._key_file(tmp_path / "uploads") == first  # another process: the same key
    assert documents.signing_key(Settings(signing_key="set-by-hand", environment="test")) == (
        b"set-by-hand"
    )

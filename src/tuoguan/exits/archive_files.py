"""The exit archive's files (S4): three tables written side by side as CSV and as sheets of one
XLSX workbook (openpyxl's write-only mode, which streams rows to disk), then zipped.

- ``store.csv`` / sheet ``store``: the store's information, one field a row;
- ``statements.csv`` / sheet ``statements``: every month's statement since the store opened,
  its opening, each line (local time, what, about, reference, amount, balance) and its closing,
  amounts in major units (12.34), words in the archive's language;
- ``orders.csv`` / sheet ``orders``: every order of the store, the order export's columns (O5).

CSV files are UTF-8 with a byte-order mark (spreadsheets need it to read Chinese). A text cell
that a spreadsheet would run as a formula is written as text. Blocking (disk) work: the worker
calls it in a thread.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

TABLES = ("store", "statements", "orders")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a cell: text that would run as a formula kept as text, times as ISO 8601,
    control characters a workbook cannot hold dropped (one in a store name or a reason would
    otherwise fail the whole archive)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: object) -> object:
    return format(value, "f") if isinstance(value, Decimal) else value


class ArchiveWriter:
    """An archive being written in a folder of its own, zipped when complete."""

    def __init__(self, export_dir: str, name: str) -> None:
        self.directory = Path(export_dir)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.directory))
        self.final = self.directory / f"{name}.zip"
        self.book = Workbook(write_only=True)
        self.sheets = {table: self.book.create_sheet(title=table) for table in TABLES}
        self.files = {
            table: (self.work / f"{table}.csv").open("w", encoding="utf-8-sig", newline="")
            for table in TABLES
        }
        self.writers = {table: csv.writer(self.files[table]) for table in TABLES}

    def rows(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        """Append rows to a table, in its CSV and its sheet; how many."""
        count = 0
        for row in rows:
            cells = [cell(value) for value in row]
            self.writers[table].writerow([_csv_cell(value) for value in cells])
            self.sheets[table].append(cells)
            count += 1
        return count

    def complete(self) -> tuple[Path, int, str]:
        """Zip the tables and the workbook under a temporary name, rename it into place;
        (path, size, SHA-256)."""
        for file in self.files.values():
            file.close()
        workbook = self.work / "archive.xlsx"
        self.book.save(str(workbook))
        part = self.directory / f"{self.name}.zip.part"
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for table in TABLES:
                bundle.write(self.work / f"{table}.csv", arcname=f"{table}.csv")
            bundle.write(workbook, arcname="archive.xlsx")
        digest = hashlib.sha256()
        with part.open("rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
        with part.open("rb") as synced:
            os.fsync(synced.fileno())
        os.replace(part, self.final)
        shutil.rmtree(self.work, ignore_errors=True)
        return self.final, self.final.stat().st_size, digest.hexdigest()

    def discard(self) -> None:
        """Throw away whatever was written (a failed or lost take)."""
        for file in self.files.values():
            if not file.closed:
                file.close()
        shutil.rmtree(self.work, ignore_errors=True)
        (self.directory / f"{self.name}.zip.part").unlink(missing_ok=True)
        self.final.unlink(missing_ok=True)

"""Ids: bulk ids are the same canonical ULID text as single ones, and sort by time."""

from __future__ import annotations

from ulid import ULID

from tuoguan.kit.ids import new_id, new_ids


def test_bulk_ids_are_canonical_ulids_of_this_millisecond() -> None:
    single = new_id("breach")
    batch = new_ids("breach", 500)
    assert len(set(batch)) == 500
    for made in batch:
        prefix, text = made.split("_")
        assert prefix == "brc" and str(ULID.from_str(text)) == text
    # A later batch sorts after an earlier id: ids order by creation time.
    assert all(made[:14] >= single[:14] for made in batch)

"""Public identifiers: a type prefix and a ULID, so ids sort by creation time."""

from __future__ import annotations

import os
import time

from ulid import ULID

PREFIXES = {
    "seller": "sel",
    "user": "usr",
    "store": "sto",
    "product": "prd",
    "order": "ord",
    "line": "oln",
    "event": "evt",
    "token": "tok",
    "breach": "brc",
    "notification": "ntf",
    "policy": "pol",
    "commission_rate": "cmr",
    "penalty": "pen",
    "warning": "wrn",
    "webhook": "whk",
    "delivery": "dlv",
    "ratecard": "rtc",
    "rule": "rul",
    "shipment": "shp",
    "pickup": "pku",
    "tracking": "trk",
    "claim": "clm",
    "sweep_failure": "swf",
    "export": "exp",
    "sku": "sku",
    "warehouse": "whs",
    "fulfilment": "ful",
    "fulfilment_line": "fln",
    "supply": "sup",
    "supply_line": "spl",
    "inbound": "asn",
    "discrepancy": "dsc",
    "ledger_account": "lac",
    "journal_entry": "jnl",
    "refund": "rfd",
    "compensation_policy": "cpo",
    "payout_account": "pac",
    "payout_run": "prn",
    "run_statement": "stm",
    "payout": "pay",
    "rail_instruction": "rin",
    "deposit_rate": "dpr",
    "deposit_refund": "dfr",
    "invitation": "inv",
    "agreement": "agv",
    "acceptance": "aga",
    "document": "doc",
    "business_review": "brv",
    "review_round": "brr",
    "product_revision": "prv",
    "exit": "ext",
    "exit_terms": "xtm",
    "exit_archive": "xar",
    "case": "cas",
    "case_entry": "cen",
}


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every 10-bit value as its two base32 digits: a ULID's 130 bits are 13 such pairs.
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))


def new_id(kind: str) -> str:
    """A new id such as ``ord_01J...``."""
    return f"{PREFIXES[kind]}_{ULID()}"


def new_ids(kind: str, count: int) -> list[str]:
    """``count`` new ids at once: one clock read and one random draw for the lot.

    Same canonical ULID text as ``new_id`` (48-bit millisecond time, 80 random
    bits, Crockford base32), encoded ten bits at a time: bulk sweeps make
    thousands per batch.
    """
    prefix = PREFIXES[kind]
    millis = time.time_ns() // 1_000_000 << 80
    noise = os.urandom(10 * count)
    pairs = _PAIRS
    ids = []
    for i in range(count):
        value = millis | int.from_bytes(noise[10 * i : 10 * i + 10], "big")
        ids.append(prefix + "_" + "".join([pairs[value >> s & 1023] for s in _SHIFTS]))
    return ids

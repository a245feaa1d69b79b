"""Builders for leaving full-managed (S4, S5): a store ready to leave, its documents, the steps
through the API, and what the database keeps of personal data afterwards."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system, auth
from tests.builders.money import read
from tests.builders.stock import stocked
from tuoguan.audit.models import Event
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Principal, Role

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SENDER = {
    "name": "深圳优品科技 张三",
    "phone": "+86 138 0013 8000",
    "line1": "广东省深圳市南山区科苑路15号",
    "city": "深圳",
    "postcode": "518057",
    "country": "CN",
}
RETURN_TO = {
    "name": "李四 Li Si",
    "phone": "+86 139 1234 5678",
    "line1": "广东省东莞市松山湖大道 99 号",
    "city": "东莞",
    "postcode": "523808",
    "country": "CN",
}
HOLDER = "Seller a Ltd 王五"
MANAGEMENT_FEE, REFUND_FEE = 5_000, 1_000  # USD minor units
DEPOSIT = 150_000
SALE = 20_000


def ready(m: Market, clock: FrozenClock, key: str = "a_full") -> dict[str, Any]:
    """Store ``key`` with exit terms in USD (fees 50.00 + 10.00, 3 business days), a bound
    payout account, a funded deposit, a sender address, 7 units in a platform warehouse and a
    completed sale of 200.00 due to it; returns its ids."""
    store = m.stores[key]
    token = m.seller_tokens[key.split("_")[0]]
    terms = {
        "currency": "USD",
        "management_fee_minor": MANAGEMENT_FEE,
        "refund_fee_minor": REFUND_FEE,
        "review_days": 3,
    }
    m.ok(m.post("/exit-terms", m.operator, terms), 201)
    bound = m.client.put(
        f"/api/v1/stores/{store}/payout-account",
        json={
            "holder_name": HOLDER,
            "bank_name": "ICBC Shenzhen",
            "account_number": "6222020200112233",
        },
        headers=auth(token),
    )
    assert bound.status_code == 200, bound.text
    funding = {"amount_minor": DEPOSIT, "currency": "USD", "reference": f"TT-{store[-6:]}"}
    m.ok(m.post(f"/stores/{store}/deposit/fundings", m.operator, funding), 201)
    patched = m.client.patch(
        f"/api/v1/stores/{store}", json={"sender_address": SENDER}, headers=auth(token)
    )
    assert patched.status_code == 200, patched.text
    warehouse, sku = stocked(m, key, 7)

    async def sell(session: AsyncSession, _: Ctx) -> None:
        ctx = Ctx(principal=Principal(role=Role.system, actor_id="system"), clock=clock)
        await ledger.post(
            session,
            ctx,
            EntryKind.sale_supplied,
            currency="USD",
            parts={"supply": SALE, "margin": 799},
            store_id=store,
            subject=("order", f"ord_sold_{store[-8:]}"),
        )

    as_system(m.db_url, sell)
    clock.advance(timedelta(seconds=1))
    return {"store": store, "token": token, "warehouse": warehouse, "sku": sku}


def upload(m: Market, store: str, token: str, data: bytes = PDF, name: str = "exit.pdf") -> Any:
    """Upload an exit paper; the raw response."""
    return m.client.post(
        f"/api/v1/stores/{store}/exit/documents",
        files={"file": (name, data, "application/pdf")},
        headers=auth(token),
    )


def apply(m: Market, store: str, token: str, **body: Any) -> Any:
    """Apply to leave, acknowledging the fees unless told otherwise; the raw response."""
    payload = {"reason": "focusing on our own store", "fees_acknowledged": True, **body}
    return m.post(f"/stores/{store}/exit", token, payload)


def archive_tables(data: bytes) -> dict[str, Any]:
    """The zip's tables: each CSV's text and the workbook's sheets as lists of rows."""
    bundle = zipfile.ZipFile(io.BytesIO(data))
    found: dict[str, Any] = {"names": sorted(bundle.namelist())}
    for name in ("store", "statements", "orders"):
        found[f"{name}.csv"] = bundle.read(f"{name}.csv").decode("utf-8-sig")
    book = load_workbook(io.BytesIO(bundle.read("archive.xlsx")), read_only=True)
    found["sheets"] = {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }
    return found


def store_events(db_url: str, store_id: str) -> list[Event]:
    """Every audit event of the store, oldest first."""

    async def work(session: AsyncSession) -> list[Event]:
        rows = await session.scalars(
            select(Event).where(Event.store_id == store_id).order_by(Event.seq)
        )
        return list(rows)

    return read(db_url, work)

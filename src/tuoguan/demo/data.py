"""The demo marketplace's data: its sellers and stores, products, buyers, the platform's
warehouse and the fines in force. ``load.py`` creates them through the services."""

from __future__ import annotations

from tuoguan.catalog.schemas import SkuCreate
from tuoguan.finance.schemas import TierIn
from tuoguan.inventory.models import WarehouseKind, WarehouseOwner
from tuoguan.inventory.schemas import WarehouseCreate
from tuoguan.orders.schemas import Address
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import StoreMode
from tuoguan.timing.kinds import BreachKind

# The buyers' shop front, which places every demo order.
CHANNEL = Principal(role=Role.buyer_channel, actor_id="demo-storefront", name="storefront")

SELLERS = (
    # seller, country, stores (name, mode, country, currency, promise)
    (
        "深圳优品科技",
        "CN",
        "shenzhen",
        [
            ("优品旗舰店", StoreMode.self_run, "CN", "USD", 2),
            ("优品全托管", StoreMode.full_managed, "CN", "USD", 2),
        ],
    ),
    (
        "Iberia Home S.L.",
        "ES",
        "iberia",
        [
            ("Iberia Home (semi)", StoreMode.semi_managed, "ES", "EUR", 1),
        ],
    ),
    (
        "义乌小商品",
        "CN",
        "yiwu",
        [
            ("义乌杂货铺", StoreMode.semi_managed, "DE", "EUR", 2),
            ("义乌全托管", StoreMode.full_managed, "CN", "USD", 2),
        ],
    ),
)

PRODUCTS = (
    ("Bluetooth earbuds 蓝牙耳机", "electronics/audio", 80, 1999),
    ("Silicone phone case 手机壳", "accessories/phone", 60, 599),
    ("Ceramic mug 陶瓷杯", "home/kitchen", 420, 1250),
    ("Power bank 充电宝", "battery/power-bank", 260, 2599),
    ("Perfume 香水", "liquid/perfume", 180, 6900),
)
# The seller's own code (商家编码) and a barcode for each one-variant product, as a seller types
# them in, so warehouse staff scan and read real codes.
SINGLE_SKUS = {
    "Bluetooth earbuds 蓝牙耳机": SkuCreate(code="EB-001", barcode="6901234567915"),
    "Ceramic mug 陶瓷杯": SkuCreate(code="MUG-350", barcode="6901234567922"),
    "Power bank 充电宝": SkuCreate(code="PB-10K", barcode="6901234567939"),
    "Perfume 香水": SkuCreate(code="PF-50ML", barcode="6901234567946"),
}
# Products sold in several variants (C3: 规格); the others have one SKU each.
VARIANTS = {
    "Silicone phone case 手机壳": (
        SkuCreate(code="CASE-BLK", attributes={"colour": "black 黑色"}, barcode="6901234567892"),
        SkuCreate(code="CASE-CLR", attributes={"colour": "clear 透明"}, barcode="6901234567908"),
    ),
}

ADDRESSES = (
    Address(
        name="Maria Lopez",
        phone="+34 612 345 678",
        line1="Calle Mayor 1",
        city="Madrid",
        postcode="28013",
        country="ES",
    ),
    Address(
        name="Jan Kowalski",
        phone="+48 501 234 567",
        line1="ul. Marszałkowska 10",
        city="Warszawa",
        postcode="00-590",
        country="PL",
    ),
    Address(
        name="Emma Schmidt",
        phone="+49 151 2345678",
        line1="Hauptstraße 5",
        city="Berlin",
        postcode="10115",
        country="DE",
    ),
)

# How far each demo order has gone: the actions applied after placement, in order.
JOURNEYS: tuple[tuple[str, ...], ...] = (
    (),
    ("confirm",),
    ("confirm", "ship"),
    ("confirm", "ship", "deliver"),
    ("confirm", "ship", "deliver", "complete"),
    ("cancel",),
)


# M5, F11: the platform's domestic consolidation warehouse (优选仓), which ships full-managed
# orders; it holds stock of some of their products (STOCKED), so some orders are served at once
# and the others become supply orders to their sellers (O2 × M5).
DONGGUAN = WarehouseCreate(
    code="DG1",
    name="优选仓 东莞一号 Dongguan",
    owner=WarehouseOwner.platform,
    kind=WarehouseKind.consolidation,
    address=Address(
        name="优选仓 东莞一号",
        phone="+86 769 2233 4455",
        line1="松山湖园区 工业北路 8 号",
        city="Dongguan",
        region="Guangdong",
        postcode="523808",
        country="CN",
    ),
    country="CN",
)
STOCKED = frozenset({"Ceramic mug 陶瓷杯", "Power bank 充电宝", "Perfume 香水"})


# F6, O2: the demo's fines, in force since before its oldest order.
DEMO_POLICIES = {
    BreachKind.ship_late: [
        TierIn(from_hours=0, to_hours=24, rate_bp=500, rating_points=1),
        TierIn(from_hours=24, to_hours=72, rate_bp=1000, rating_points=3),
        TierIn(from_hours=72, to_hours=None, rate_bp=3000, rating_points=6),
    ],
    BreachKind.confirm_late: [
        TierIn(from_hours=0, to_hours=24, rate_bp=200, rating_points=1),
        TierIn(from_hours=24, to_hours=None, rate_bp=500, rating_points=2),
    ],
}


def tracking_number(order_id: str) -> str:
    """A tracking number of the demo's carrier for an order's parcel (the same every time)."""
    return f"LP{int(order_id[-8:], 36) % 10**11:011d}CN"

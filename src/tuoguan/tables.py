"""Imports every table so that ``Base.metadata`` is complete (Alembic, tests)."""

from tuoguan.accounts import models as accounts_models
from tuoguan.audit import models as audit_models
from tuoguan.cases import models as cases_models
from tuoguan.cases import open_cases as cases_open_cases
from tuoguan.catalog import category_models as catalog_category_models
from tuoguan.catalog import models as catalog_models
from tuoguan.catalog import review_models as catalog_review_models
from tuoguan.db import Base
from tuoguan.exits import models as exits_models
from tuoguan.exports import models as exports_models
from tuoguan.finance import models as finance_models
from tuoguan.fulfilment import models as fulfilment_models
from tuoguan.inventory import models as inventory_models
from tuoguan.kit import idempotency
from tuoguan.ledger import models as ledger_models
from tuoguan.notify import models as notify_models
from tuoguan.onboarding import models as onboarding_models
from tuoguan.onboarding import review_models as onboarding_review_models
from tuoguan.ops import models as ops_models
from tuoguan.orders import models as orders_models
from tuoguan.orders import pace as orders_pace
from tuoguan.settlement import deposit_models as settlement_deposit_models
from tuoguan.settlement import models as settlement_models
from tuoguan.settlement import run_models as settlement_run_models
from tuoguan.shipping import models as shipping_models
from tuoguan.shipping import money_models as shipping_money_models
from tuoguan.sla import models as sla_models
from tuoguan.sla import timetravel
from tuoguan.stores import agreement_models as stores_agreement_models
from tuoguan.stores import models as stores_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "audit_models",
    "cases_models",
    "cases_open_cases",
    "catalog_category_models",
    "catalog_models",
    "catalog_review_models",
    "exits_models",
    "exports_models",
    "finance_models",
    "fulfilment_models",
    "idempotency",
    "inventory_models",
    "ledger_models",
    "metadata",
    "notify_models",
    "onboarding_models",
    "onboarding_review_models",
    "ops_models",
    "orders_models",
    "orders_pace",
    "settlement_deposit_models",
    "settlement_models",
    "settlement_run_models",
    "shipping_models",
    "shipping_money_models",
    "sla_models",
    "stores_agreement_models",
    "stores_models",
    "timetravel",
]

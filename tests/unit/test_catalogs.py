"""The gettext catalogs are complete: every word the console or a message can show has a
zh-CN and an English text, with the same placeholders (G7: the console in the seller's
language)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tuoguan.catalog.models import ProductStatus
from tuoguan.catalog.review_models import RevisionStatus
from tuoguan.catalog.states import ProductAction
from tuoguan.exits.models import ExitStatus, StockChoice
from tuoguan.exports.states import ExportStatus
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.fulfilment.models import DiscrepancyKind, FulfilmentStatus, InboundStatus, SupplyStatus
from tuoguan.kit import i18n
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.onboarding.models import InvitationStatus
from tuoguan.onboarding.review_models import ReviewDecision, ReviewStage, ReviewStatus
from tuoguan.ops.models import FailureStatus
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.settlement.deposit_models import DepositRefundStatus, DepositState
from tuoguan.settlement.models import PayoutPurpose, PayoutStatus
from tuoguan.settlement.run_models import RunStatus, StatementStatus
from tuoguan.shipping.models import ClaimKind, ClaimStatus, ShipmentStatus
from tuoguan.shipping.routes import Effect
from tuoguan.shipping.shipment_schemas import CancelReason
from tuoguan.shipping.states import ShipmentAction, TrackingCode
from tuoguan.stores.models import StoreMode, StoreStatus
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind
from tuoguan.web.i18n import MESSAGES
from tuoguan.web.order_view import TimelineNote

SRC = Path(i18n.__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(lang: str) -> dict[str, str]:
    with i18n.catalog_path(lang).open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id}


CATALOGS = {lang: _catalog(lang) for lang in i18n.LANGUAGES}


class _Step(StrEnum):
    """Where each stage of a business review stands (business_review_parts.html ``progress``)."""

    done = "done"
    now = "now"
    waiting = "waiting"


# Words the console builds from a value: the key is the prefix and the enum's value.
FAMILIES: list[tuple[str, type[StrEnum]]] = [
    ("", OrderStatus),
    ("", StoreMode),
    ("", BreachKind),
    ("role_", Role),
    ("penalty_", PenaltyStatus),
    ("penalty_do_", PenaltyAction),
    ("supply_status_", SupplyStatus),
    ("fulfilment_", FulfilmentStatus),
    ("inbound_status_", InboundStatus),
    ("discrepancy_", DiscrepancyKind),
    ("export_", ExportStatus),
    ("failure_", FailureStatus),
    ("effect_", Effect),
    ("shipment_", ShipmentStatus),
    ("claim_", ClaimStatus),
    ("claim_kind_", ClaimKind),
    ("cancel_", CancelReason),
    # The order page's timeline (every action an order's events can name) and tracking history.
    ("event_", OrderAction),
    ("event_shipment_", ShipmentAction),
    ("event_", TimelineNote),
    ("tracking_code_", TrackingCode),
    ("responsible_", Party),  # whose breach it was (the breach list)
    ("entry_kind_", EntryKind),  # the ledger: what an entry records
    ("ledger_account_", AccountKind),  # and the accounts it moves
    ("deposit_state_", DepositState),  # the deposit page (S3)
    ("deposit_status_", DepositRefundStatus),  # a deposit refund application
    ("prun_status_", RunStatus),  # payout runs (web/payout_run_pages.py)
    ("prun_stmt_", StatementStatus),  # an executed run's outcome per store
    ("prun_will_", StatementStatus),  # and a preview's
    ("payout_status_", PayoutStatus),  # where a payout stands on the rail
    ("payout_purpose_", PayoutPurpose),
    ("prd_status_", ProductStatus),  # a product's status (web/product_pages.py, C2)
    ("prd_rev_", RevisionStatus),  # a product submission's
    ("prd_do_", ProductAction),  # the buttons of a product's actions
    ("exit_status_", ExitStatus),  # an exit application (S4)
    ("exit_stock_", StockChoice),  # the seller's choice for its stock at unbinding
    ("exit_stock_help_", StockChoice),
    ("exit_store_", StoreStatus),  # the exit page names the store's status
    ("inv_status_", InvitationStatus),  # invitations to full-managed (web/program_pages.py)
    ("join_review_", ReviewStatus),  # the joining checklist's business review
    ("join_stage_", ReviewStage),
    ("brv_status_", ReviewStatus),  # the business-info review (web/review_pages.py, S1)
    ("brv_stage_", ReviewStage),
    ("brv_decision_", ReviewDecision),
    ("brv_step_", _Step),
    ("brv_help_", ReviewStatus),  # what the seller's page says of each status
]


# What notifications are about (their ``kind``), shown as the card's title.
NOTIFICATION_KINDS = [
    "confirm_late",
    "ship_late",
    "penalty_assessed",
    "penalty_appealed",
    "penalty_upheld",
    "penalty_waived",
    "sweep_set_aside",
    "claim_approved",
    "claim_rejected",
    "shipment_exception",
    "shipment_lost",
    "shipment_returned",
    "shipment_cancelled",
    "shipment_cancel_refused",
    "shipment_cancel_unanswered",
    "at_risk",
    "deposit_received",
    "deposit_refund_applied",
    "deposit_refund_approved",
    "deposit_refund_rejected",
    "payout_failed",
    "prd_review_approved",
    "prd_review_rejected",
    "prd_review_stuck",
    "prd_suspended",
    "prd_unsuspended",
    "exit_applied",
    "exit_approved",
    "exit_rejected",
    "exit_unbound",
    "exit_closed",
    "inv_invited",
    "inv_accepted",
    "inv_declined",
    "inv_withdrawn",
    "agr_published",
    "agr_accepted",
    "join_joined",
    "brv_submitted",
    "brv_stage_approved",
    "brv_rejected",
    "brv_approved",
    "brv_stuck",
]


def test_every_notification_kind_has_a_title() -> None:  # G7
    assert not [kind for kind in NOTIFICATION_KINDS if kind not in CATALOGS["zh-CN"]]


def test_both_languages_have_every_key_with_words() -> None:  # G7
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    assert set(zh) == set(en), set(zh) ^ set(en)
    assert not [key for key, text in zh.items() if not text.strip()]
    assert not [key for key, text in en.items() if not text.strip()]


def test_placeholders_agree() -> None:  # G7
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    differ = {
        key: (en[key], zh[key])
        for key in en
        if set(PLACEHOLDER.findall(en[key])) != set(PLACEHOLDER.findall(zh[key]))
    }
    assert not differ


def test_no_words_wait_outside_the_catalogs() -> None:  # G7
    assert not MESSAGES, f"move these into the .po catalogs: {sorted(MESSAGES)}"


def _extracted() -> set[str]:
    keywords = {"_": None, "t": None, "N_": None, "gettext": None}
    method_map = [
        ("web/templates/**.html", "jinja2"),
        ("**.py", "python"),
    ]
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(SRC), method_map=method_map, keywords=keywords
    ):
        if isinstance(message, str):
            found.add(message)
    return found


def test_every_literal_key_in_the_code_has_words() -> None:  # G7
    missing = sorted(key for key in _extracted() if key not in CATALOGS["zh-CN"])
    assert not missing


@pytest.mark.parametrize(("prefix", "enum"), FAMILIES, ids=lambda v: getattr(v, "__name__", v))
def test_every_value_the_console_names_has_words(prefix: str, enum: type[StrEnum]) -> None:  # G7
    missing = [prefix + value for value in enum if prefix + value not in CATALOGS["zh-CN"]]
    assert not missing

"""Settings, read from the environment (prefix ``TUOGUAN_``) and ``.env``."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob tuoguan reads; the embedded SQLite database is the default."""

    model_config = SettingsConfigDict(env_prefix="TUOGUAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "demo", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/tuoguan.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The demo's sandbox carrier: the demo registers its carrier account at this URL and
    # `tuoguan carrier-sandbox` listens on its host and port (another instance: another port).
    sandbox_carrier_url: str = "http://127.0.0.1:8001"
    # Days after delivery at which an order completes when the buyer has not confirmed (O3).
    auto_confirm_days: int = Field(default=7, ge=1, le=90)
    # M3, G6: calendar months after a full-managed order's delivery during which the platform,
    # not the seller, bears the buyer's refunds (the after-sales exemption, 售后免责期).
    refund_exemption_months: int = Field(default=3, ge=0, le=24)
    # The sandbox payment rail's answer to every payout: pay it, refuse it, or pay it and lose
    # the answer (a timeout), for rehearsing the payout sweep's recovery (settlement/rail.py).
    rail_sandbox_mode: Literal["ok", "fail", "timeout"] = "ok"
    # M3: settlement cycles (结算周期) per store mode, in days; full-managed is paid more often.
    # Every cycle ends at 00:00 in ``settlement_zone`` on the anchor's weekday, a whole number
    # of cycles from ``settlement_anchor`` (a Monday): weekly runs close every Monday, fortnightly
    # ones every other Monday (5 Jan 2026, 19 Jan 2026 ...).
    settlement_cycle_days_full_managed: int = Field(default=7, ge=1, le=92)
    settlement_cycle_days_semi_managed: int = Field(default=14, ge=1, le=92)
    settlement_cycle_days_self_run: int = Field(default=14, ge=1, le=92)
    settlement_anchor: date = date(2026, 1, 5)
    # The platform's zone (web.policy_pages.PLATFORM_ZONE), where a cycle's midnight falls.
    settlement_zone: str = "Asia/Shanghai"
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    worker_interval_seconds: float = Field(default=5.0, gt=0)
    # Items per sweep transaction: bigger batches sweep faster, but hold the SQLite write lock longer.
    worker_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How long a stored Idempotency-Key response is replayed before the key may mean a new request.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Shift the application clock; only honoured outside production (demo time travel).
    clock_offset_seconds: int = 0
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Request bodies over this are refused (413) before anything parses them.
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    secure_cookies: bool = False
    # Console sign-in throttle, per account and per client address (accounts/throttle.py).
    login_free_failures: int = Field(default=5, ge=1, le=100)
    login_max_delay_seconds: int = Field(default=60, ge=1, le=3600)
    login_lock_after: int = Field(default=20, ge=2, le=1000)
    # An address may be a whole office behind one router: it gets more attempts than an account.
    login_address_free_failures: int = Field(default=20, ge=1, le=1000)
    login_address_lock_after: int = Field(default=100, ge=2, le=10_000)
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    # Share the sign-in throttle through Redis instead of the database (redis://host:6379/0).
    redis_url: str | None = None
    # F10: a cancellation the carrier leaves unanswered this long goes to an operator.
    cancel_escalate_hours: int = Field(default=24, ge=1, le=24 * 30)
    # F9: how often the worker asks a carrier that does not push about each live parcel.
    carrier_poll_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # URLs tuoguan calls (webhooks, carriers) never reach internal addresses, except the host
    # names, IPs and CIDRs listed here, comma-separated (development: "127.0.0.1,localhost").
    outbound_allow: str = ""
    # O5: an order export up to this many rows streams inline; a larger one runs as an export job.
    export_inline_rows: int = Field(default=10_000, ge=1, le=50_000)
    # Where export jobs write their CSV files (kept 7 days, then deleted by the worker).
    export_dir: str = "./var/exports"
    # Where uploaded files are kept (receiving discrepancy photos), each named by its SHA-256.
    upload_dir: str = "./var/uploads"
    # S1: where documents (licences, bank proofs, brand authorisations...) are kept: empty for
    # ``upload_dir``, file:///a/folder, or s3://[key:secret@]bucket[/prefix]?endpoint=..&region=..
    # (kit/storage.py).
    storage_url: str = ""
    # S1: the largest document accepted (checked by content type too: PDF, JPEG, PNG, WebP).
    document_max_bytes: int = Field(default=10 * 1_048_576, ge=1024, le=32 * 1_048_576)
    # S1: how long a signed link to a document works (/files/<id>?exp=..&sig=..).
    file_link_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # The key that signs file links; empty: a random key kept in <upload_dir>/.signing-key
    # (mode 0600, made once), so the processes of one machine agree. Several machines: set it.
    signing_key: str = ""

    @field_validator("sandbox_carrier_url")
    @classmethod
    def _sandbox_carrier_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a URL with a valid port") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
            raise ValueError(f"{value!r} is not an http URL with a host and a port")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"{value!r}: the sandbox carrier's URL has no path")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("settlement_zone")
    @classmethod
    def _settlement_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        from tuoguan.kit.storage import open_storage

        open_storage(value, default_root=".")  # refuses a URL it cannot read (opens nothing)
        return value.strip()

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_allow(cls, value: str) -> str:
        from tuoguan.kit.outbound import parse_allow

        parse_allow(value)
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

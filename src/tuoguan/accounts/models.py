"""Tables for users, API tokens, the warehouses they are bound to, and console sessions.

Warehouses belong to ``inventory``, a layer above this one: the binding tables name them by
foreign key (``warehouses.id``), never by importing the model.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tuoguan.db import Base, UTCDateTime
from tuoguan.principal import Role


class User(Base):
    """A person who signs in to the console."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Warehouse staff only; loaded with the user (a console request needs its scope).
    warehouses: Mapped[list[UserWarehouse]] = relationship(
        lazy="selectin", order_by="UserWarehouse.warehouse_id"
    )

    @property
    def warehouse_ids(self) -> tuple[str, ...]:
        """The warehouses this person works in (warehouse staff; empty for other roles)."""
        return tuple(w.warehouse_id for w in self.warehouses)


class UserWarehouse(Base):
    """A warehouse a warehouse-staff console user works in."""

    __tablename__ = "user_warehouses"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(
        ForeignKey("warehouses.id"), primary_key=True, index=True
    )


class ApiToken(Base):
    """A machine credential; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    carrier_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Warehouse tokens only. Authentication reads the ids by query, not through this.
    warehouses: Mapped[list[ApiTokenWarehouse]] = relationship(
        lazy="selectin", order_by="ApiTokenWarehouse.warehouse_id"
    )

    @property
    def warehouse_ids(self) -> tuple[str, ...]:
        """The warehouses the token acts in (warehouse tokens; empty for other roles)."""
        return tuple(w.warehouse_id for w in self.warehouses)


class ApiTokenWarehouse(Base):
    """A warehouse a warehouse token acts in."""

    __tablename__ = "api_token_warehouses"

    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(
        ForeignKey("warehouses.id"), primary_key=True, index=True
    )


class WebSession(Base):
    """A server-side console session; the cookie holds a random id, the row its hash."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginThrottleEntry(Base):
    """Console sign-in attempts charged to one account or one client address.

    The key is ``account:<sha256 of the e-mail>`` (the table never holds what people
    typed as an e-mail, which is sometimes their password) or ``address:<ip or /64>``.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

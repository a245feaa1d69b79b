"""The ASGI application factory: /api/v1, the console and (optionally) the worker."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from tuoguan import __version__
from tuoguan.api import docs, openapi, problems
from tuoguan.api.middleware import BodyLimit, RequestId, SecurityHeaders
from tuoguan.api.routes import (
    agreements,
    business_reviews,
    cases,
    categories,
    commission,
    deposits,
    exits,
    exports,
    files,
    fulfilment,
    inbound,
    invitations,
    ledger,
    meta,
    orders,
    payout_runs,
    payouts,
    penalties,
    picking,
    products,
    refunds,
    restock,
    returns,
    shipments,
    shipping,
    sla,
    statements,
    stock,
    stores,
    supply,
    sweep_failures,
    warehouses,
    webhooks,
)
from tuoguan.config import Settings, get_settings
from tuoguan.db import Database
from tuoguan.kit.clock import Clock, SystemClock
from tuoguan.sla import timetravel

API_PREFIX = "/api/v1"


async def _follow_clock_shift(db: Database, clock: Clock, settings: Settings) -> None:
    """Pick up `tuoguan clock advance` from other processes (a no-op in production)."""
    if settings.environment == "production" or not isinstance(clock, SystemClock):
        return
    while True:
        await asyncio.sleep(1)
        try:
            await timetravel.sync(db, clock, settings)
        except Exception:  # noqa: BLE001 - a missed refresh is retried next second
            logging.getLogger("tuoguan.api").warning("clock shift refresh failed", exc_info=True)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    run_worker: bool = False,
) -> FastAPI:
    """Build the app; the database is opened in the lifespan unless one is handed in."""
    settings = settings or get_settings()
    clock = clock or timetravel.default_clock(settings)

    from tuoguan.web import console, error_pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.db = database or Database.from_url(
            settings.database_url, pool_size=settings.db_pool_size
        )
        await timetravel.sync(app.state.db, clock, settings)
        tasks = [asyncio.create_task(_follow_clock_shift(app.state.db, clock, settings))]
        if run_worker:
            from tuoguan.worker.loop import run_forever

            tasks.append(asyncio.create_task(run_forever(app.state.db, clock, settings)))
        try:
            async with console.lifespan(app):
                yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned:
                await app.state.db.dispose()

    app = _App(
        title="tuoguan",
        version=__version__,
        description="Back office of a managed-fulfillment marketplace (托管).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by api/docs.py from the package, not from FastAPI's CDN; no OAuth2 flow here.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    if database is not None:
        app.state.db = database
    # Refusals are problem+json under /api/, and the console's own pages elsewhere.
    problems.install(app, pages=error_pages.page)
    # Every route, built once per process (see _routes), in the order include_router adds them.
    app.router.routes.extend(_routes())
    openapi.install(app)
    from tuoguan.web import case_pages, discrepancy_pages, exit_pages, review_pages

    docs.install(
        app,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=f"{API_PREFIX}/redoc",
    )
    static = Path(__file__).resolve().parent.parent / "web" / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.outer = lambda inner: RequestId(
        SecurityHeaders(
            BodyLimit(
                inner,
                max_bytes=settings.max_body_bytes,
                larger=(
                    *inbound.LARGER_BODIES,
                    *discrepancy_pages.LARGER_BODIES,
                    *business_reviews.LARGER_BODIES,
                    *exits.LARGER_BODIES,
                    *cases.LARGER_BODIES,
                    *exit_pages.LARGER_BODIES,
                    *case_pages.LARGER_BODIES,
                    *review_pages.LARGER_BODIES,
                ),
            )
        )
    )
    return app


@functools.cache
def _routes() -> tuple[BaseRoute, ...]:
    """The API's and the console's routes, composed once per process.

    FastAPI's ``include_router`` analyses every endpoint's dependencies and models, which was
    most of the cost of ``create_app`` (about 0.8 s for 130 routes, per app: the tests build one
    per test). The routes do not depend on the app: each request reaches its app, and so its
    settings, database and clock, through ``request.app``. So every app shares them.
    """
    composed = APIRouter()
    api = APIRouter(prefix=API_PREFIX)
    for module in (
        meta,
        stores,
        products,
        orders,
        shipping,
        shipments,
        sla,
        penalties,
        commission,
        webhooks,
        sweep_failures,
        exports,
        warehouses,
        stock,
        fulfilment,
        supply,
        inbound,
        picking,
        restock,
        ledger,
        refunds,
        payouts,
        payout_runs,
        statements,
        deposits,
        invitations,
        agreements,
        business_reviews,
        categories,
        exits,
        cases,
        returns,
    ):
        api.include_router(module.router)
    composed.include_router(api)
    # Signed document links, outside /api/v1: a console page's <a href> opens them, no token.
    composed.include_router(files.router)

    from tuoguan.web import (
        case_pages,
        case_report_pages,
        commission_pages,
        console,
        deposit_pages,
        deposit_refund_pages,
        discrepancy_pages,
        exit_pages,
        export_pages,
        failures_pages,
        inbound_pages,
        ledger_pages,
        money_pages,
        order_pages,
        packing_pages,
        payout_pages,
        payout_run_pages,
        penalty_pages,
        picking_pages,
        policy_pages,
        product_pages,
        program_pages,
        restock_pages,
        return_pages,
        review_pages,
        shipping_pages,
        sla_pages,
        statement_pages,
        stock_pages,
        supply_pages,
        warehouse_pages,
    )

    composed.include_router(console.router)
    composed.include_router(order_pages.router)
    composed.include_router(sla_pages.router)
    composed.include_router(penalty_pages.router)
    composed.include_router(policy_pages.router)
    composed.include_router(commission_pages.router)
    composed.include_router(shipping_pages.router)
    composed.include_router(failures_pages.router)
    composed.include_router(export_pages.router)
    composed.include_router(stock_pages.router)
    composed.include_router(supply_pages.router)
    composed.include_router(inbound_pages.router)
    composed.include_router(warehouse_pages.router)
    composed.include_router(discrepancy_pages.router)
    composed.include_router(picking_pages.router)
    composed.include_router(packing_pages.router)
    composed.include_router(restock_pages.router)
    composed.include_router(ledger_pages.router)
    composed.include_router(money_pages.router)
    composed.include_router(payout_pages.router)
    composed.include_router(payout_run_pages.router)
    composed.include_router(statement_pages.router)
    composed.include_router(deposit_pages.router)
    composed.include_router(deposit_refund_pages.router)
    composed.include_router(program_pages.router)
    composed.include_router(review_pages.router)
    composed.include_router(product_pages.router)
    composed.include_router(exit_pages.router)
    composed.include_router(case_report_pages.router)  # before /console/cases/{case_id}
    composed.include_router(case_pages.router)
    composed.include_router(return_pages.router)
    return tuple(composed.routes)


class _App(FastAPI):
    """FastAPI with tuoguan's middlewares outside Starlette's error middleware: even a 500
    carries the request id and the security headers, and the body limit acts first."""

    def outer(self, inner: ASGIApp) -> ASGIApp:
        return inner

    def build_middleware_stack(self) -> ASGIApp:
        return self.outer(super().build_middleware_stack())

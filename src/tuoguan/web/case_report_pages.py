"""The operators' case reports (R4, G4), drawn on the server as SVG: receiving exception rates
per week with the sellers and carriers behind them (repeat offenders marked) and the causes;
disputes' time to decision per week (p50, p95) against the 3-day target."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuoguan.cases import reports
from tuoguan.errors import Forbidden
from tuoguan.principal import Role
from tuoguan.timing.deadlines import DISPUTE_TARGET
from tuoguan.web.console import _current, _db, _render, _to_login
from tuoguan.web.stock_pages import error_page

router = APIRouter(include_in_schema=False)
REPORTS = "/console/cases/reports"
WEEKS = 12


@router.get(REPORTS, response_model=None)
async def reports_page(request: Request) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role is not Role.operator:
        refused = Forbidden("the case reports are the operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    now = request.app.state.clock.now()
    async with _db(request).read() as session:
        receiving = await reports.receiving(session, now=now, weeks=WEEKS)
        disputes = await reports.disputes(session, now=now, weeks=WEEKS)
    worst = max([w.p95_hours or 0 for w in disputes] + [DISPUTE_TARGET.total_seconds() / 3600])
    return _render(
        request,
        "case_reports.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "receiving": receiving,
            "disputes": disputes,
            "hours_top": worst,
            "target_hours": DISPUTE_TARGET.total_seconds() / 3600,
            "repeat_min": reports.REPEAT_MIN,
            "week_days": [date.fromisoformat(w.key) for w in receiving.weeks],
        },
    )

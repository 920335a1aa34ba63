"""The web side of the aiohttp server: public disclosure pages, the open-data feed, the dashboard.

`mount(app, application)` adds them to the server's aiohttp application (bot.web.server.web_app when
the web is on): Jinja2 templates, the stylesheet, security headers on every response, error pages.
Each handler opens its own database session through the running Application's Services, reads through
bot.domain (scope, masking) and never keeps state of its own beyond rate-limit counters, a short
score cache and the record counts kept by the records' version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from telegram.ext import Application

from bot import texts
from bot.domain import disclosure
from bot.services import SERVICES_KEY, Services
from bot.web import texts_web
from bot.web.auth import Signer
from bot.web.security import RateLimit, add_security_headers

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SCHEMA_FILE = STATIC / "open-data.schema.json"


@dataclass
class WebState:
    application: Application
    scores: disclosure.ScoreCache = field(default_factory=disclosure.ScoreCache)
    # The public record list's counts, kept by the records' version (never stale after a committed change).
    totals: disclosure.Totals = field(default_factory=disclosure.Totals)
    login_limit: RateLimit = field(default_factory=lambda: RateLimit(10, 60.0))
    feed_limit: RateLimit = field(default_factory=lambda: RateLimit(120, 60.0))
    _signer: Signer | None = None
    # Recompute the recent months' scores in the background (every half TTL), so no visitor waits for them.
    warm_scores: bool = True
    warm_months: int = 6
    warming: asyncio.Task | None = None

    @property
    def services(self) -> Services:
        found = self.application.bot_data.get(SERVICES_KEY)
        if found is None:
            raise web.HTTPServiceUnavailable(text="starting")
        return found

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer(self.services.settings.web_cookie_secret.get_secret_value())
        return self._signer

    @property
    def bot_username(self) -> str:
        configured = self.services.settings.bot_username
        if configured:
            return configured.lstrip("@")
        try:
            return self.application.bot.username or ""
        except RuntimeError:  # not initialized
            return ""


WEB = web.AppKey("chengxin_web", WebState)


def state(request: web.Request) -> WebState:
    return request.app[WEB]


def _money(value) -> str:
    return "—" if value is None else f"{value:,.2f} 元"


def _percent(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _plain_lines(html_text: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", line) for line in html_text.splitlines() if line.strip()]


def template_globals() -> dict[str, Any]:
    return {
        "T": texts_web, "DOMAINS": texts.DOMAIN_LABELS, "GRADES": texts.GRADE_LABELS,
        "site_title": texts_web.SITE_TITLE, "ACTIONS": texts.ACTION_LABELS, "OUTCOMES": texts.OUTCOME_LABELS,
        "COMMITMENT_STATES": texts.CASE_COMMITMENT_STATUS_LABELS, "RECORD_STATES": texts.RECORD_STATUS_LABELS,
    }


@web.middleware
async def page_middleware(request: web.Request, handler):
    """Security headers on everything; friendly error pages for the HTML pages."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or request.path.startswith("/open-data/"):
            add_security_headers(error)
            raise
        message = error.text if error.text and not error.text.startswith(str(error.status)) else {
            403: texts_web.FORBIDDEN, 404: texts_web.NOT_FOUND, 429: texts_web.TOO_MANY}.get(
            error.status, error.reason)
        response = aiohttp_jinja2.render_template("error.html", request, {"message": message, "status": error.status},
                                                  status=error.status)
    add_security_headers(response)
    return response


async def warm_scores(web_state: WebState) -> None:
    """Keep the last months' scores fresh in the cache: the score and department pages only read it."""
    from bot.domain.disclosure import recent_months

    while True:
        try:
            svc = web_state.services
            now = svc.clock.now()
            for period in recent_months(now.astimezone(svc.settings.tz).date(), svc.settings.tz,
                                        web_state.warm_months):
                async with svc.db.read_session() as session:
                    await web_state.scores.month(session=session, period=period, now=now,
                                                 calendar=svc.deadlines.calendar, fresh=True)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed warm-up only means a visitor computes it
            log.warning("could not precompute the public scores", exc_info=True)
        await asyncio.sleep(web_state.scores.ttl / 2)


async def _start_warming(app: web.Application) -> None:
    web_state = app[WEB]
    if web_state.warm_scores:
        web_state.warming = asyncio.create_task(warm_scores(web_state), name="chengxin:warm_scores")


async def _stop_warming(app: web.Application) -> None:
    task = app[WEB].warming
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def mount(app: web.Application, application: Application) -> None:
    from bot.web import dashboard, feed, public

    app[WEB] = WebState(application)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
    env.globals.update(template_globals())
    env.filters.update(money=_money, percent=_percent, plain_lines=_plain_lines)
    app.middlewares.append(page_middleware)
    app.on_startup.append(_start_warming)
    app.on_cleanup.append(_stop_warming)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
    public.add_routes(app)
    feed.add_routes(app)
    dashboard.add_routes(app)

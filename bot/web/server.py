"""Production running: the aiohttp server (Telegram webhook, /healthz, /metrics), polling, graceful stop.

`serve` runs one instance until SIGTERM/SIGINT (or until `stop` is set):

- webhook mode (`settings.webhook_url`): registers the webhook with the secret token and serves it;
  a request without the right X-Telegram-Bot-Api-Secret-Token header gets 403 and changes nothing.
- polling mode: getUpdates in a loop of its own (not PTB's Updater), which confirms an offset to
  Telegram only after every update before it has been handled — a crash re-serves what was unfinished.
  The web server runs too when a port is set, for /healthz and /metrics.

In both modes updates of different chats are handled concurrently, one chat's in order (the Application's
update processor, bot/web/processor.py), and an update is acknowledged to Telegram only once handled (the
webhook answers 200 then), so a crash loses nothing; the edge is a duplicate, see docs/deploy/README.md.
The webhook is never deleted on stop: the other instances keep serving it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
from contextlib import suppress
from datetime import datetime
from urllib.parse import urlparse

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update
from telegram.ext import Application

from bot.bot_api_http import close_transports
from bot.config import Settings
from bot.db.session import Database
from bot.gc_tuning import settle_after_start
from bot.domain import outbox
from bot.services import SERVICES_KEY
from bot.web.metrics import InstrumentedApplication, Metrics
from bot.web.poller import Poller

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_DB_TIMEOUT = 2.0
APPLICATION = web.AppKey("application", Application)
STATE = web.AppKey("state", dict)


# --- the aiohttp application -------------------------------------------------------------------

def web_app(application: Application, *, webhook_path: str | None = None, secret: str = "",
            pages: bool = False) -> web.Application:
    """/healthz, /metrics and, with a path, the webhook endpoint (which refuses to run without a secret);
    with `pages`, the public disclosure pages, the open-data feed and the dashboard (bot/web/site.py)."""
    app = web.Application(client_max_size=1 << 20)
    app[APPLICATION] = application
    app[STATE] = {"stopping": False, "secret": secret}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if webhook_path is not None:
        if not secret:
            raise ValueError("the webhook needs a secret token (CHENGXIN_WEBHOOK_SECRET)")
        app.router.add_post(webhook_path, webhook)
    if pages:
        from bot.web.site import mount

        mount(app, application)
    return app


async def webhook(request: web.Request) -> web.Response:
    application, state = request.app[APPLICATION], request.app[STATE]
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), state["secret"].encode()):
        log.warning("webhook: rejected a request from %s without the right secret token (%s header %s)",
                    request.remote, SECRET_HEADER, "present" if given else "absent")
        return web.Response(status=403)
    if state["stopping"] or not application.running:
        return web.Response(status=503)  # Telegram retries; another instance takes it
    try:
        update = Update.de_json(await request.json(), application.bot)
    except Exception:  # noqa: BLE001 - whatever the body, it is not an update
        log.warning("webhook: a request with a body that is not an update")
        return web.Response(status=400)
    if update is None:
        return web.Response(status=400)
    method = await handle_and_wait(application, update, webhook=True)
    # Telegram performs a method given in the webhook's response (the answer to a button press): one
    # round trip less for every press. Its outcome is not reported back, which an answer can do without.
    return web.json_response(method) if method else web.Response(status=200)


async def handle_and_wait(application: Application, update: Update, *, webhook: bool = False) -> dict | None:
    """Handle the update and return when it has been handled (Telegram re-sends what was not acknowledged);
    for a `webhook` request, the Bot API method the handler left for the response, if any.

    The update goes straight to the Application's update processor (bot/web/processor.py: one chat's
    updates in order, a bound on those handled at once) in the caller's task — the webhook request's, or
    the poller's task for that update — not through `update_queue`, whose fetcher would take it in one turn
    of the event loop and start it in another: under load each turn waits behind every update in flight."""
    if isinstance(application, InstrumentedApplication):
        update_id = update.update_id
        if update_id in application._handled:  # a re-sent copy of one being handled: wait for that one
            await asyncio.shield(application.handled(update_id))
            return None
        done = application.handled(update_id)
        if webhook:
            application.expect_webhook_answer(update_id)
        try:
            await application.update_processor.process_update(update, application.process_update(update))
        finally:
            method = application.webhook_answer(update_id)
            if not done.done():  # cancelled before its turn came: a re-sent copy must not wait for it
                application._handled.pop(update_id, None)
                done.set_result(None)
        return method
    await application.update_queue.put(update)
    return None


async def healthz(request: web.Request) -> web.Response:
    """200 when the application is running and the database answers; 503 otherwise."""
    application, state = request.app[APPLICATION], request.app[STATE]
    running = application.running and not state["stopping"]
    svc = application.bot_data.get(SERVICES_KEY)
    database = svc is not None and await ping(svc.db)
    body = {"status": "ok" if running and database else "unavailable",
            "application": "running" if running else "stopped",
            "database": "ok" if database else "unreachable"}
    if svc is not None:  # a warning, not a fault: the status stays 200
        body["calendar"] = svc.deadlines.calendar.coverage_problem(svc.deadlines.local_date(svc.clock.now())) or "ok"
    return web.json_response(body, status=200 if running and database else 503)


async def ping(db: Database, timeout: float = HEALTH_DB_TIMEOUT) -> bool:
    try:
        return await asyncio.wait_for(db.ping(), timeout)
    except asyncio.TimeoutError:
        return False


async def metrics(request: web.Request) -> web.Response:
    application = request.app[APPLICATION]
    found: Metrics | None = getattr(application, "metrics", None)
    if found is None:
        return web.Response(status=404)
    svc = application.bot_data.get(SERVICES_KEY)
    if svc is not None:
        await found.refresh(svc.db, svc.clock.now())
    return web.Response(body=found.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


# --- outbox claims on the way out -----------------------------------------------------------------

async def release_claims(db: Database, worker: str, now: datetime) -> int:
    """Messages this instance claimed and never attempted go back to pending at once (not after the lease)."""
    async with db.session() as session:
        released = await outbox.release_claims(session=session, worker=worker, now=now)
        await session.commit()
    return released


# --- one instance, start to finish ------------------------------------------------------------------

async def serve(application: Application, settings: Settings, *, worker: str | None = None,
                stop: asyncio.Event | None = None, install_signals: bool = True,
                started: asyncio.Event | None = None, own_process: bool = False) -> None:
    """Run until SIGTERM/SIGINT (or `stop`); then stop taking updates, finish those in flight, release
    unsent claims, close the database. Used by `chengxin run` in both modes; `own_process`: nothing else
    runs in this process, so the garbage collector is set for it once started (bot/gc_tuning.py)."""
    stop = stop or asyncio.Event()
    if install_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    webhook_url = settings.webhook_url
    port = settings.port or (8443 if webhook_url else settings.web_port if settings.web_enabled else None)
    runner: web.AppRunner | None = None
    site_app: web.Application | None = None
    poller: Poller | None = None

    try:
        await application.initialize()
    except BaseException:
        await close_transports(application.bot)
        raise
    try:
        if application.post_init:
            await application.post_init(application)
        if own_process:
            settle_after_start()
        await application.start()
        if port is not None:
            path = (urlparse(webhook_url).path or "/") if webhook_url else None
            site_app = web_app(application, webhook_path=path, secret=settings.secret_token,
                               pages=settings.web_enabled)
            runner = web.AppRunner(site_app, access_log=None, shutdown_timeout=30)
            await runner.setup()
            await web.TCPSite(runner, settings.listen, port).start()
            log.info("listening on %s:%d%s", settings.listen, port, f" (webhook {path})" if path else "")
        if webhook_url:
            # Telegram keeps at most max_connections requests open, each answered once its update is
            # handled: matching it to the concurrency keeps every slot busy without queueing behind them.
            await application.bot.set_webhook(webhook_url, secret_token=settings.secret_token,
                                              allowed_updates=Update.ALL_TYPES,
                                              max_connections=settings.concurrent_updates)
            log.info("webhook registered")
        else:
            await application.bot.delete_webhook(drop_pending_updates=False)
            poller = Poller(application, handle_and_wait)
            poller.start()
            log.info("polling for updates")
        if started is not None:
            started.set()
        await stop.wait()
        log.info("stopping: no new updates; finishing those in flight")
    finally:
        if site_app is not None:
            site_app[STATE]["stopping"] = True
        if poller is not None:
            await poller.stop()
        if runner is not None:
            await runner.cleanup()  # stops listening, waits for webhook requests in flight
        if application.running:
            await application.stop()  # handles what is queued, waits for running jobs
        if poller is not None:
            await poller.confirm()
        svc = application.bot_data.get(SERVICES_KEY)
        if svc is not None and worker:
            with suppress(Exception):
                released = await release_claims(svc.db, worker, svc.clock.now())
                if released:
                    log.info("released %d claimed messages for the other instances", released)
        if application.post_stop:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)  # closes the database
        log.info("stopped")


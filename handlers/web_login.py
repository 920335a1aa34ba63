"""/web: a one-time login link to the dashboard, for a supervisor or an official, in their private chat."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot import texts
from bot.domain import weblogin
from handlers.door import STAFF, Turn, door


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login/{token}"


@door(roles=STAFF)
async def web_command(turn: Turn) -> None:
    """A short-lived, single-use login link bound to this Telegram account (/web)."""
    settings = turn.svc.settings
    if not settings.web_enabled or not settings.web_base_url:
        turn.reply(texts.WEB_OFF)
        return
    token = await weblogin.issue_link(session=turn.session, actor=turn.actor, now=turn.now)
    minutes = int(weblogin.LINK_LIFETIME.total_seconds() // 60)
    turn.reply(texts.WEB_LINK.format(minutes=minutes, url=texts.esc(login_url(settings.web_base_url, token))))


def register(application: Application) -> None:
    """The dashboard login command."""
    application.add_handler(CommandHandler("web", web_command))

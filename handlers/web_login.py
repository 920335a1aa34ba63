"""/web (a one-time dashboard login link, in private chat) and /start ru_<commitment> (the public
commitment page's 举报未兑现 deep link).

`register(application)` adds both in group -1 (private chats only), so they are answered wherever the call
sits in bot.app, before the command table's /start and the unknown-command catch-all, which then do not
run (ApplicationHandlerStop). The flood guard (group -2) still applies.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from bot import texts
from bot.db.models import Commitment
from bot.domain import commitments as register_domain
from bot.domain import drafts, weblogin
from bot.domain.drafts import DraftKind, Step
from bot.domain.errors import DomainError
from bot.services import services
from handlers.base import acting, answer, refuses_politely

WEB_LINK = (
    "🔐 <b>督办工作台登录链接</b>（{minutes} 分钟内有效，只能使用一次，请勿转发）：\n{url}\n\n"
    "在浏览器中打开后点“登录”。用完请点“退出登录”。"
)
WEB_OFF = "网页版督办工作台尚未启用（需设置 CHENGXIN_WEB 和 CHENGXIN_WEB_BASE_URL）。"
WEB_ROLES_ONLY = "网页版工作台仅供督办人员和已绑定的承办人使用。"
DEEP_LINK_PREFIX = "ru_"
DEEP_LINK = filters.Regex(r"^/start(@\w+)?\s+ru_[A-Za-z0-9-]{1,32}\s*$")


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login/{token}"


@refuses_politely
async def web_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/web: a one-time login link for the dashboard, to a supervisor or an official, in this private chat."""
    svc = services(context)
    settings = svc.settings
    if not settings.web_enabled or not settings.web_base_url:
        await answer(update, WEB_OFF)
        return
    async with acting(update, context) as (session, actor):
        if not weblogin.may_use_dashboard(actor):
            await session.commit()
            await answer(update, WEB_ROLES_ONLY)
            return
        token = await weblogin.issue_link(session=session, actor=actor, now=svc.clock.now())
        await session.commit()
    minutes = int(weblogin.LINK_LIFETIME.total_seconds() // 60)
    await answer(update, WEB_LINK.format(minutes=minutes, url=texts.esc(login_url(settings.web_base_url, token))))


async def _commitment_of(session, key: str) -> Commitment | None:
    key = key.strip()
    if key.isdigit():
        return await session.get(Commitment, int(key))
    ref = register_domain.normalize_commitment_ref(key)
    if ref is None:
        return None
    from sqlalchemy import select

    return await session.scalar(select(Commitment).where(Commitment.ref == ref))


@refuses_politely
async def report_unkept_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start ru_<id or ref>: as the 举报未兑现 button (handlers/commitments.report_unkept_button), from the web."""
    svc = services(context)
    key = (context.args or [""])[0][len(DEEP_LINK_PREFIX):]
    async with acting(update, context) as (session, actor):
        commitment = await _commitment_of(session, key)
        if commitment is None or not register_domain.may_view(commitment, actor):
            raise DomainError("commitment_not_found", ref=key[:32])
        await drafts.start_draft(
            session=session, account_id=actor.account_id, kind=DraftKind.COMPLAINT, step=Step.TEXT,
            now=svc.clock.now(),
            data={"commitment_id": commitment.id, "commitment_ref": commitment.ref,
                  "department": commitment.department.code, "department_name": commitment.department.name,
                  "domain": commitment.domain},
        )
        ref, department, content = commitment.ref, commitment.department.name, commitment.content
        await session.commit()
    await answer(update, texts.REPORT_UNKEPT_ASK.format(ref=ref, department=texts.esc(department),
                                                        content=texts.excerpt(content, 120)))


async def deep_link_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /start ru_… and stop there, so the plain /start welcome does not follow."""
    await report_unkept_start(update, context)
    raise ApplicationHandlerStop


async def web_entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await web_command(update, context)
    raise ApplicationHandlerStop


def register(application: Application) -> None:
    application.add_handler(CommandHandler("web", web_entry, filters=filters.ChatType.PRIVATE), group=-1)
    application.add_handler(
        CommandHandler("start", deep_link_start, filters=filters.ChatType.PRIVATE & DEEP_LINK), group=-1)



"""A citizen's own data: the privacy notice (/privacy), an export of everything stored (/mydata), and
erasure of their identity from closed cases (/forgetme, after a confirmation)."""

from __future__ import annotations

import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import texts
from bot.domain.personal_data import export_personal_data, forget_account, open_cases_of
from handlers.codec import Codec, Word
from handlers.door import Turn, door

FORGET = Codec("fm", Word(("yes", "no")))


@door()
async def privacy_command(turn: Turn) -> None:
    """What is stored, who sees what, how long it is kept (/privacy)."""
    turn.reply(texts.PRIVACY_NOTICE.format(years=turn.svc.policy.retention_years))


@door()
async def mydata_command(turn: Turn) -> None:
    """Everything stored about the caller, as a JSON document (/mydata)."""
    data = await export_personal_data(session=turn.session, account=turn.actor.account)
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    turn.reply(texts.MYDATA_SENT.format(cases=len(data["cases"]), joined=len(data["joined_cases"])))
    turn.reply_file("document", payload, filename=texts.MYDATA_FILENAME)


@door()
async def forgetme_command(turn: Turn) -> None:
    """Ask before erasing the caller's identity from their closed cases (/forgetme)."""
    if open_refs := await open_cases_of(session=turn.session, account_id=turn.actor.account_id):
        turn.reply(texts.FORGET_OPEN_CASES.format(refs="、".join(open_refs[:5])))
        return
    turn.reply(texts.FORGET_ASK, reply_markup=InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BTN_FORGET_YES, callback_data=FORGET.build("yes")),
        InlineKeyboardButton(texts.BTN_FORGET_NO, callback_data=FORGET.build("no")),
    ]]))


@door(codec=FORGET)
async def forgetme_button(turn: Turn) -> None:
    """确认删除 (fm:yes) or 取消 (fm:no)."""
    turn.close_buttons()
    if turn.data[0] == "no":
        turn.reply(texts.FORGET_KEPT)
        return
    count = await forget_account(session=turn.session, actor=turn.actor, now=turn.now)
    turn.reply(texts.FORGOTTEN.format(count=count))


def register(application: Application) -> None:
    """The privacy commands and the erasure confirmation."""
    for name, callback in {"privacy": privacy_command, "mydata": mydata_command,
                           "forgetme": forgetme_command}.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(forgetme_button, pattern=FORGET.pattern))

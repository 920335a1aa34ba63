"""Complete complaint filings per second through the real Application, and the framework's own floor.

Chengxin: `build_application` with the local transport (`bot.simulator.LocalRequest`), a SQLite
file database in a temporary directory (or PostgreSQL with --postgres URL), rate limiter off,
flood guard and daily case limit out of reach, no supervisors. One filing is the whole
conversation of tests/flows.py `file_complaint` — 我要投诉 → complaint text → confirm the domain →
department 不清楚 → [跳过 each follow-up question] → 跳过 evidence → 同意联系 → 确认提交 — seven updates
plus one per follow-up question the domain asks, each a new user, run
sequentially, each checked for `已立案`.

Echo: an Application from the same ApplicationBuilder on the same transport with one
MessageHandler that replies with the text; its per-update cost is python-telegram-bot's own
floor (Update.de_json, dispatch, Bot.send_message, the request round trip through LocalRequest).

Floors: the same harness with one handler that only persists a draft (ORM as Chengxin does, or Core
statements, or not at all) and replies as a step does; 1000 / (floor ms per update × updates per
filing) bounds the filings/s any bot built this way could reach here.

Target: >= 100 filings/s (SQLite, this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, machine  # noqa: E402
from bot.gc_tuning import settle_after_start  # noqa: E402

TARGET_FILINGS_PER_S = 100.0
# The door is on every update's path: Chengxin's cost per update against a bare Core-statement step.
CORE_FLOOR_TARGET = 1.3
REF = re.compile(r"[A-Z]+-\d{8}-\d{4,}")
# Complaint texts that are government matters (so the bot does not divert them to 12345).
TEXTS = [
    "我公司2025年给市财政局做政府采购项目，供货验收合格已经一年了，采购人一直拖欠货款38万元，履约保证金也不退。",
    "亭湖区住建局拖欠我们工程款380万元，项目2022年底就竣工验收了，到现在一分钱没给，工人工资都发不出来。",
    "区政府招商时承诺给我们企业三年税收返还和土地优惠，换了领导以后新官不理旧账，承诺一项都没兑现。",
    "法院判决区交通局支付我公司工程款，判决生效一年多了，交通局一直拒不履行，申请强制执行也没有结果。",
    "这次道路改造项目招标明显是内定的，招标文件量身定做，评标专家和中标单位有关系，存在串标围标。",
]


def _settings(database_url: str):
    from bot.config import Settings

    return Settings(_env_file=None, **{
        "DATABASE_URL": database_url,
        "CHENGXIN_SUPERVISORS": "",
        "CHENGXIN_RATE_LIMIT": False,
        "CHENGXIN_FLOOD_MESSAGES": 10_000_000,
        "CHENGXIN_DAILY_CASE_LIMIT": 1_000_000,
        "CHENGXIN_LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "",
    })


async def _file(chat, text: str) -> str:
    """tests/flows.py file_complaint, department 不清楚, no evidence, contact yes."""
    from bot import texts

    await chat.send(texts.BTN_COMPLAIN)
    await chat.send(text)
    await chat.press(chat.last().buttons[0][1])
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    # The domain's follow-up questions, when the bot asks them (tests/flows.py skip_details).
    while "补充信息" in chat.last().text and "/" in chat.last().text.split("）")[0]:
        await chat.tap(texts.BTN_DETAIL_SKIP)
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES)
    await chat.tap(texts.BTN_SUBMIT)
    last = chat.last().text
    match = REF.search(last)
    if not (match and "已立案" in last):
        raise RuntimeError(f"filing did not end in 已立案: {last!r}")
    return match.group(0)


async def chengxin(database_url: str, filings: int, warmup: int, user_base: int) -> dict:
    from bot.app import build_application
    from bot.simulator import Chat, LocalRequest
    from nlp import Classifier

    classifier = Classifier.default()
    classifier.classify(TEXTS[0])  # load jieba outside the timed part
    request = LocalRequest()
    app = build_application(_settings(database_url), request=request, classifier=classifier)
    t0 = time.perf_counter()
    await app.initialize()
    await app.post_init(app)
    startup = time.perf_counter() - t0
    try:
        for i in range(warmup):
            await _file(Chat(app, user_base + i), TEXTS[i % len(TEXTS)])
            request.clear()
        updates = api_calls = 0
        refs = set()
        settle_after_start()  # as `chengxin run` does once started (bot/gc_tuning.py), for every bot measured here
        start, start_cpu = time.perf_counter(), time.process_time()
        for i in range(filings):
            chat = Chat(app, user_base + warmup + i)
            refs.add(await _file(chat, TEXTS[i % len(TEXTS)]))
            updates += len(chat.sent_updates)
            api_calls += len(request.calls)
            # LocalRequest keeps every call and Chat.tap scans them: keep the harness O(1) per filing.
            request.clear()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        await app.post_shutdown(app)
        await app.shutdown()
    if len(refs) != filings:
        raise RuntimeError(f"{filings} filings but {len(refs)} distinct references")
    return {
        "filings": filings,
        "updates": updates,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "startup_s": round(startup, 3),
        "filings_per_s": round(filings / elapsed, 1),
        "updates_per_s": round(updates / elapsed, 1),
        "ms_per_update": round(elapsed / updates * 1000, 3),
        "ms_per_filing": round(elapsed / filings * 1000, 2),
        # Bot API calls the bot made (sendMessage, answerCallbackQuery, editMessageReplyMarkup…):
        # each costs a request round trip and, for messages, a Message.de_json of the reply.
        "api_calls_per_update": round(api_calls / updates, 2),
    }


async def echo(updates: int, warmup: int) -> dict:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    from bot.app import OFFLINE_TOKEN
    from bot.simulator import Chat, LocalRequest

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    request = LocalRequest()
    app = ApplicationBuilder().token(OFFLINE_TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(MessageHandler(filters.TEXT, reply))
    await app.initialize()
    try:
        chat = Chat(app, 555_000_001)
        for i in range(warmup):
            await chat.send(TEXTS[i % len(TEXTS)])
        request.clear()
        chat.sent_updates.clear()
        settle_after_start()  # as `chengxin run` does once started (bot/gc_tuning.py), for every bot measured here
        start, start_cpu = time.perf_counter(), time.process_time()
        for i in range(updates):
            await chat.send(TEXTS[i % len(TEXTS)])
            if i % 100 == 99:
                request.clear()
                chat.sent_updates.clear()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        await app.shutdown()
    return {
        "updates": updates,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "updates_per_s": round(updates / elapsed, 1),
        "ms_per_update": round(elapsed / updates * 1000, 4),
    }


FLOOR_KINDS = ("none", "core", "orm")


async def floor(conversations: int, warmup: int, database_url: str, kind: str) -> dict:
    """The least a conversation that keeps its state in the database can cost on this stack.

    The same ApplicationBuilder, transport and `Database` as Chengxin, and one handler that does only
    what every step of a filing must, then the reply a step makes (a button press: answer, remove the
    buttons, send the next prompt with its keyboard). Its persistence is `kind` (see `floor_app`).
    No triage, no case, no policy: each conversation is 2 messages and 7 presses, about a filing's mix.
    """
    from bot.simulator import Chat

    app, db = await floor_app(database_url, kind)
    user_base = 2_000_000_000 + random.randrange(1_000_000_000)
    try:
        for i in range(warmup):
            await floor_conversation(Chat(app, user_base + i))
            app.bot.request.clear()
        updates = 0
        settle_after_start()  # as `chengxin run` does once started (bot/gc_tuning.py), for every bot measured here
        start, start_cpu = time.perf_counter(), time.process_time()
        for i in range(conversations):
            chat = Chat(app, user_base + warmup + i)
            await floor_conversation(chat)
            updates += len(chat.sent_updates)
            app.bot.request.clear()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        await app.shutdown()
        await db.dispose()
    return {"updates": updates, "seconds": round(elapsed, 3), "ms_per_update": round(elapsed / updates * 1000, 3),
            "cpu_ms_per_update": round(cpu / updates * 1000, 3)}


async def floor_app(database_url: str, kind: str):
    """The floor's Application (initialized) and its Database; its persistence is `kind`:
    - "orm": what Chengxin's steps did before the door's Core mode: one session, `resolve_actor` (account and
      draft in one SELECT), start or advance the draft, commit;
    - "core": the same read and write as two prebuilt Core statements on one connection, no ORM;
    - "none": nothing stored (python-telegram-bot alone, with the replies of a real step).
    """
    from datetime import datetime, timezone

    from sqlalchemy import bindparam, insert, select, update
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    from bot.app import OFFLINE_TOKEN
    from bot.db.models import Account, Draft
    from bot.db.session import Database
    from bot.domain import drafts
    from bot.domain.accounts import resolve_actor
    from bot.simulator import LocalRequest

    db = Database(database_url)
    await db.upgrade()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("下一步", callback_data="next"),
                                      InlineKeyboardButton("取消", callback_data="cancel")]])
    read = (select(Account.id, Draft.id, Draft.data).outerjoin(Draft, Draft.account_id == Account.id)
            .where(Account.telegram_id == bindparam("telegram_id")))
    write = (update(Draft).where(Draft.id == bindparam("draft_id"))
             .values(step=bindparam("step"), data=bindparam("data"), updated_at=bindparam("now")))

    async def store_orm(user, now) -> None:
        async with db.session() as session:
            actor = await resolve_actor(session=session, telegram_id=user.id, full_name=user.full_name,
                                        username=user.username, supervisors=(), now=now)
            draft = await drafts.current_draft(session=session, account_id=actor.account_id)
            if draft is None:
                await drafts.start_draft(session=session, account_id=actor.account_id,
                                         kind=drafts.DraftKind.COMPLAINT, step=drafts.Step.TEXT, now=now)
            else:
                drafts.advance(draft, step=drafts.Step.CONTACT, now=now, steps=draft.data.get("steps", 0) + 1)
            await session.commit()

    async def store_core(user, now) -> None:
        async with db.engine.begin() as connection:
            row = (await connection.execute(read, {"telegram_id": user.id})).first()
            if row is None:
                account_id = (await connection.execute(insert(Account).values(
                    telegram_id=user.id, role="citizen", full_name=user.full_name, created_at=now, last_seen_at=now,
                ))).inserted_primary_key[0]
                row = (account_id, None, None)
            if row[1] is None:
                await connection.execute(insert(Draft).values(
                    account_id=row[0], kind="complaint", step="text", data={}, created_at=now, updated_at=now))
            else:
                await connection.execute(write, {"draft_id": row[1], "step": "contact", "now": now,
                                                 "data": {**row[2], "steps": row[2].get("steps", 0) + 1}})

    store = {"orm": store_orm, "core": store_core}.get(kind)

    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if store is not None:
            await store(update.effective_user, datetime.now(timezone.utc))
        if update.callback_query is not None:
            await update.callback_query.answer()
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
        await update.effective_chat.send_message("下一步", reply_markup=keyboard)

    request = LocalRequest()
    app = ApplicationBuilder().token(OFFLINE_TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(MessageHandler(filters.TEXT, step))
    app.add_handler(CallbackQueryHandler(step))
    await app.initialize()
    return app, db


async def floor_conversation(chat) -> None:
    """A floor's conversation: 2 messages and 7 presses."""
    await chat.send(TEXTS[0][:20])
    await chat.send(TEXTS[1])
    for _ in range(7):
        await chat.press("next")


def run(filings: int = 500, echo_updates: int = 5000, postgres: str | None = None) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING)
    user_base = 3_000_000_000 + random.randrange(1_000_000_000)  # fresh users even on a reused database
    warmup = 20
    results: dict = {"benchmark": "filings", "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'chengxin.db'}"
        results["sqlite"] = asyncio.run(chengxin(url, filings, warmup, user_base))
        results["floor"] = {
            kind: asyncio.run(floor(max(50, filings // 2), warmup, f"sqlite+aiosqlite:///{Path(tmp) / kind}.db", kind))
            for kind in FLOOR_KINDS
        }
    results["echo"] = asyncio.run(echo(echo_updates, 200))
    if postgres:
        results["postgresql"] = asyncio.run(chengxin(postgres, filings, warmup, user_base + 10_000_000))
    for backend in ("sqlite", "postgresql"):
        if backend in results:
            r = results[backend]
            r["ratio_to_echo"] = round(r["ms_per_update"] / results["echo"]["ms_per_update"], 1)
            r["target_met"] = r["filings_per_s"] >= TARGET_FILINGS_PER_S
    # What no application logic could beat: a floor's cost per update times a filing's updates.
    per_filing = results["sqlite"]["updates"] / results["sqlite"]["filings"]
    for floor_ in results["floor"].values():
        floor_["ceiling_filings_per_s"] = round(1000 / (floor_["ms_per_update"] * per_filing), 1)
    results["sqlite"]["ratio_to_floor"] = round(
        results["sqlite"]["ms_per_update"] / results["floor"]["orm"]["ms_per_update"], 2)
    results["sqlite"]["ratio_to_core_floor"] = round(
        results["sqlite"]["ms_per_update"] / results["floor"]["core"]["ms_per_update"], 2)
    results["sqlite"]["core_target_met"] = results["sqlite"]["ratio_to_core_floor"] <= CORE_FLOOR_TARGET
    # The same ratio in CPU time: steadier than wall time on a machine something else is using.
    results["sqlite"]["cpu_ratio_to_core_floor"] = round(
        results["sqlite"]["cpu_seconds"] / results["sqlite"]["updates"] * 1000
        / results["floor"]["core"]["cpu_ms_per_update"], 2)
    results["target"] = f"filings/s >= {TARGET_FILINGS_PER_S:g} (SQLite)"
    results["target_met"] = results["sqlite"]["target_met"]
    return results


def report(r: dict) -> None:
    e = r["echo"]
    for backend in ("sqlite", "postgresql"):
        if backend not in r:
            continue
        c = r[backend]
        print(f"filings [{backend}]: {c['filings']} filings, {c['updates']} updates in {c['seconds']} s "
              f"(CPU {c['cpu_seconds']} s; startup {c['startup_s']} s)")
        print(f"  {c['filings_per_s']:,.1f} filings/s   {c['updates_per_s']:,.0f} updates/s   "
              f"{c['ms_per_update']} ms/update   {c['ms_per_filing']} ms/filing")
        print(f"  chengxin per-update / echo per-update = {c['ratio_to_echo']}x   "
              f"(target >= {TARGET_FILINGS_PER_S:g} filings/s: {'MET' if c['target_met'] else 'NOT MET'})")
        print(f"  {c['api_calls_per_update']} Bot API calls per update (echo: 1)")
    per_filing = r["sqlite"]["updates"] / r["sqlite"]["filings"]
    print(f"floors: a bare conversation step on this stack (SQLite), and the filings/s it caps any bot at, "
          f"at {per_filing:.1f} updates per filing:")
    labels = {"none": "no storage (PTB alone)", "core": "draft in SQLite, Core", "orm": "draft in SQLite, ORM"}
    for kind, f in r["floor"].items():
        print(f"  {labels[kind]:<24} {f['ms_per_update']:.3f} ms/update (CPU {f['cpu_ms_per_update']:.3f}) "
              f"-> at most {f['ceiling_filings_per_s']} filings/s")
    print(f"  chengxin per-update / ORM floor = {r['sqlite']['ratio_to_floor']}x")
    print(f"  chengxin per-update / Core floor = {r['sqlite']['ratio_to_core_floor']}x   "
          f"(target <= {CORE_FLOOR_TARGET}x: {'MET' if r['sqlite']['core_target_met'] else 'NOT MET'}); "
          f"in CPU time {r['sqlite']['cpu_ratio_to_core_floor']}x")
    print(f"echo bot: {e['updates']} updates in {e['seconds']} s: {e['updates_per_s']:,.0f} updates/s, "
          f"{e['ms_per_update']} ms/update")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=500)
    parser.add_argument("--echo-updates", type=int, default=5000)
    parser.add_argument("--postgres", metavar="URL",
                        help="also run against this PostgreSQL database (postgresql+asyncpg://...); "
                             "it is migrated and gets rows added — use a throwaway database")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.filings, args.echo_updates, args.postgres)
    report(result)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

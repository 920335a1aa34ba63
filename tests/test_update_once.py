"""One update, one effect: the same update handed to two instances on one database — at the same moment, or
again after the first answered — acts once and is answered once (issue: exactly-once handling)."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot import texts
from bot.clock import FrozenClock
from bot.db.models import Account, Case
from bot.simulator import Chat, LocalRequest
from handlers import door as door_module
from handlers import door_modes
from tests.conftest import START, make_settings, stop_harness
from tests.flows import PROCUREMENT_TEXT
from tests.test_production_instances import start_on

_ids = itertools.count(900_000)


@pytest.fixture
async def two_instances(database_url, classifier):
    request = LocalRequest()                       # the citizen sees one chat, whichever instance answers
    clock = FrozenClock(START)
    first = await start_on(request, make_settings(database_url), classifier, clock)
    second = await start_on(request, make_settings(database_url), classifier, clock)
    yield first, second, request
    await stop_harness(second)
    await stop_harness(first)


def message_update(chat: Chat, text: str) -> dict:
    content = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_ids), "message": chat._message(**content)}


def press_update(chat: Chat, data: str) -> dict:
    message = {"message_id": 1, "date": 0, "chat": chat._chat(), "from": {"id": 1, "is_bot": True,
                                                                           "first_name": "诚信"}, "text": "…"}
    return {"update_id": next(_ids), "callback_query": {"id": str(next(_ids)), "from": chat._user(),
                                                         "chat_instance": "ci", "data": data, "message": message}}


async def race(first, second, payload: dict, monkeypatch) -> None:
    """Hand one update to both instances so that the second arrives while the first is inside its
    transaction (held there until the second has had time to run into it)."""
    inside, release = asyncio.Event(), asyncio.Event()
    # The claim and the actor: the first thing the door does, in either of its modes (ORM session or Core).
    originals = {name: getattr(door_modes, name) for name in ("claim_and_resolve", "claim_and_resolve_rows")}
    held = []

    def holding(original):
        async def held_first(**kwargs):
            found = await original(**kwargs)
            if not held:
                held.append(True)
                inside.set()
                await release.wait()
            return found
        return held_first

    for name, original in originals.items():
        monkeypatch.setattr(door_modes, name, holding(original))
    one = asyncio.create_task(first.app.process_update(Update.de_json(payload, first.app.bot)))
    await asyncio.wait_for(inside.wait(), 10)
    two = asyncio.create_task(second.app.process_update(Update.de_json(payload, second.app.bot)))
    await asyncio.sleep(0.3)
    release.set()
    await asyncio.wait_for(asyncio.gather(one, two), 30)
    for name, original in originals.items():
        monkeypatch.setattr(door_modes, name, original)


def replies_to(request: LocalRequest, chat_id: int) -> list[str]:
    return [c.text for c in request.messages_to(chat_id)]


async def test_a_new_citizens_first_message_to_both_instances(two_instances, monkeypatch, caplog):
    first, second, request = two_instances
    citizen = Chat(first.app, 9301)
    await race(first, second, message_update(citizen, PROCUREMENT_TEXT), monkeypatch)
    replies = replies_to(request, 9301)
    assert len(replies) == 1 and "政府采购" in replies[0]
    assert texts.ERROR_GENERIC not in replies
    assert "UniqueViolation" not in caplog.text and "IntegrityError" not in caplog.text
    async with first.session() as session:
        assert await session.scalar(select(func.count()).select_from(Account)
                                    .where(Account.telegram_id == 9301)) == 1


async def test_a_button_a_typed_answer_and_submit_each_act_once(two_instances, monkeypatch):
    first, second, request = two_instances
    citizen = Chat(first.app, 9302)
    await citizen.send(PROCUREMENT_TEXT)
    domain = dict(citizen.last().buttons)
    await race(first, second, press_update(citizen, next(d for label, d in domain.items()
                                                            if "政府采购" in label)), monkeypatch)
    assert sum("哪个部门" in t for t in replies_to(request, 9302)) == 1

    await citizen.press(next(d for label, d in citizen.last().buttons if "财政局" in label))
    asked = len(replies_to(request, 9302))
    assert "补充信息" in citizen.last().text
    await race(first, second, message_update(citizen, "市政府办公楼家具采购项目"), monkeypatch)
    assert len(replies_to(request, 9302)) == asked + 1

    for _ in range(8):
        labels = dict(citizen.last().buttons)
        if texts.BTN_SUBMIT in labels:
            break
        label = next(label for label in labels if label in (texts.BTN_DETAIL_SKIP, texts.BTN_EVIDENCE_SKIP,
                                                            texts.BTN_CONTACT_YES))
        await citizen.press(labels[label])
    submitted = len(replies_to(request, 9302))
    await race(first, second, press_update(citizen, dict(citizen.last().buttons)[texts.BTN_SUBMIT]), monkeypatch)
    assert sum("已立案" in t for t in replies_to(request, 9302)[submitted:]) == 1
    async with first.session() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1


async def test_an_update_redelivered_after_it_was_answered_gets_no_second_reply(two_instances):
    first, second, request = two_instances
    citizen = Chat(first.app, 9303)
    payload = message_update(citizen, PROCUREMENT_TEXT)
    await first.app.process_update(Update.de_json(payload, first.app.bot))
    answered = replies_to(request, 9303)
    # The first instance died before acknowledging: Telegram hands the update to the other one.
    await second.app.process_update(Update.de_json(payload, second.app.bot))
    assert replies_to(request, 9303) == answered


class Crash(BaseException):
    """The process dying: not an error any handler or error handler would catch."""


async def test_an_instance_dying_between_submit_and_its_reply_loses_no_reply_and_sends_none_twice(
        two_instances, monkeypatch):
    first, second, request = two_instances
    citizen = Chat(first.app, 9304)
    await citizen.send(PROCUREMENT_TEXT)
    for _ in range(10):
        labels = dict(citizen.last().buttons)
        if texts.BTN_SUBMIT in labels:
            break
        label = next(label for label in labels if "政府采购" in label or label in (
            texts.BTN_DEPT_UNKNOWN, texts.BTN_DETAIL_SKIP, texts.BTN_EVIDENCE_SKIP, texts.BTN_CONTACT_YES))
        await citizen.press(labels[label])
    payload = press_update(citizen, dict(citizen.last().buttons)[texts.BTN_SUBMIT])

    async def die(*args, **kwargs):
        raise Crash

    # The first instance commits the case, then dies before it sends anything the commit owes.
    monkeypatch.setattr(door_module.delivery, "deliver_rows", die)
    with pytest.raises(Crash):
        await first.app.process_update(Update.de_json(payload, first.app.bot))
    monkeypatch.undo()
    assert not any("已立案" in t for t in replies_to(request, 9304))

    # Telegram re-sends the unacknowledged update to the other instance: already handled, nothing twice.
    await second.app.process_update(Update.de_json(payload, second.app.bot))
    assert not any("已立案" in t for t in replies_to(request, 9304))
    # The confirmation was written with the case: once the dead writer's hold is over, the other
    # instance's delivery job sends it, once.
    await second.app.job_queue.get_jobs_by_name("delivery_job")[0].run(second.app)
    assert not any("已立案" in t for t in replies_to(request, 9304))
    second.clock.advance(seconds=door_module.DELIVERY_HOLD.total_seconds() + 1)
    await second.app.job_queue.get_jobs_by_name("delivery_job")[0].run(second.app)
    await second.app.job_queue.get_jobs_by_name("delivery_job")[0].run(second.app)
    opened = [t for t in replies_to(request, 9304) if "已立案" in t]
    async with first.session() as session:
        ref = await session.scalar(select(Case.ref))
    assert len(opened) == 1 and ref in opened[0]
    markup = request.last_to(9304).params.get("reply_markup") or {}
    assert texts.BTN_COMPLAIN in str(markup)  # the main menu came with it

"""The door's Core mode (`door(light=…)`): a step that only moves its draft on runs on one Core connection, with
no ORM session, and a citizen cannot tell: the same draft is written, the same prompts come back, the same
refusals are given, and a failed step leaves nothing behind. Each check runs the step in the Core mode and
again with the Core mode switched off (everything through the ORM door), and compares."""

from __future__ import annotations

import re
from contextlib import contextmanager, nullcontext

from sqlalchemy import func, select
from telegram.ext import CallbackQueryHandler

from bot import texts
from bot.db.models import Account, Case, CaseEvent, Draft, Obligation, OutboundMessage, ProcessedUpdate, Reminder
from bot.domain import drafts
from bot.domain.audit import verify_chains
from bot.domain.rows import NeedsSession
from bot.simulator import Chat
from handlers import door_modes
from handlers.codec import Codec, Int
from handlers.door import OFFICIALS, SUPERVISORS, door
from tests.flows import PROCUREMENT_TEXT, bind_official

CORE, ORM = 7301, 7302  # one citizen per mode, taking the same steps at the same (frozen) moment


@contextmanager
def orm_only(monkeypatch):
    """The Core mode switched off: every light step falls back to the ORM door at once."""
    async def needs_session(self, update_id, who):
        raise NeedsSession("switched off by the test")

    with monkeypatch.context() as patch:
        patch.setattr(door_modes.CoreMode, "claim_and_resolve", needs_session)
        yield


@contextmanager
def sessions_opened(harness):
    """The ORM sessions opened meanwhile."""
    db = harness.services.db
    opened: list[int] = []
    original = db.session

    def counted():
        opened.append(1)
        return original()

    db.session = counted
    try:
        yield opened
    finally:
        del db.session


async def draft_of(harness, user_id: int):
    async with harness.session() as session:
        draft = await session.scalar(select(Draft).join(Account).where(Account.telegram_id == user_id))
    if draft is None:
        return None
    return draft.kind, draft.step, draft.data, draft.case_id, draft.updated_at, draft.reminded_at


async def claims(harness, update) -> int:
    async with harness.session() as session:
        return await session.scalar(select(func.count()).select_from(ProcessedUpdate)
                                    .where(ProcessedUpdate.update_id == update.update_id))


def shown(harness, chat: Chat) -> list[tuple]:
    """What the chat was shown (prompts, their buttons, alerts), with the draft's own id taken out."""
    def plain(data: str) -> str:
        return re.sub(r"^c:\d+:", "c:N:", data)

    calls = [(c.method, c.text, [(label, plain(data)) for label, data in c.buttons])
             for c in harness.request.messages_to(chat.user_id)]
    alerts = [c.params.get("text") for c in harness.request.sent(method="answerCallbackQuery")
              if c.params.get("show_alert") and c.params.get("callback_query_id") in chat.queries]
    return calls + alerts


class Tracked(Chat):
    """A chat that remembers its presses' ids (to tell its alerts from another chat's)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queries: set[str] = set()

    async def press(self, data: str, message_id: int = 1):
        update = await super().press(data, message_id)
        self.queries.add(update.callback_query.id)
        return update


def _first_steps(chat: Chat) -> list:
    """我要投诉, the text, the suggested domain, 不清楚: up to the follow-up questions (or evidence)."""
    return [lambda: chat.send(texts.BTN_COMPLAIN), lambda: chat.send(PROCUREMENT_TEXT),
            lambda: chat.press(chat.last().buttons[0][1]), lambda: chat.tap(texts.BTN_DEPT_UNKNOWN)]


async def _skip_to_evidence(chat: Chat) -> None:
    for step in _first_steps(chat):
        await step()
    while "补充信息" in chat.last().text and "/" in chat.last().text.split("）")[0]:
        await chat.tap(texts.BTN_DETAIL_SKIP)


async def test_a_core_step_writes_the_same_draft_and_shows_the_same_prompt(harness, monkeypatch):
    core, orm = Tracked(harness.app, CORE), Tracked(harness.app, ORM)

    def steps(chat: Chat) -> list:
        async def details() -> None:
            # A follow-up question answered in words (a text step), the rest skipped.
            if "补充信息" in chat.last().text:
                await chat.send("城南道路改造项目")
            while "补充信息" in chat.last().text and "/" in chat.last().text.split("）")[0]:
                await chat.tap(texts.BTN_DETAIL_SKIP)

        return [
            *_first_steps(chat),
            details,
            lambda: chat.photo(caption="合同", unique="ev1"),  # evidence (a media step)
            lambda: chat.sticker(),  # only told what is expected: nothing written
            lambda: chat.tap(texts.BTN_EVIDENCE_DONE),
            lambda: chat.tap(texts.BTN_CONTACT_YES),
        ]

    in_core, in_orm = steps(core), steps(orm)
    for number, (core_step, orm_step) in enumerate(zip(in_core, in_orm)):
        with sessions_opened(harness) as opened:
            await core_step()
        assert opened == [], f"step {number} opened a session"  # the first makes the account and the draft too
        with orm_only(monkeypatch), sessions_opened(harness) as opened:
            await orm_step()
        assert opened, f"step {number} without the Core mode opened no session"
        assert await draft_of(harness, CORE) == await draft_of(harness, ORM), f"step {number}"
        assert shown(harness, core) == shown(harness, orm), f"step {number}"
    kind, step, data, *_ = await draft_of(harness, CORE)
    assert (kind, step, data["contact"], len(data["evidence"])) == ("complaint", "confirm", True, 1)

    # Submitted from either, with a session (确认提交 needs one), the same case text.
    await core.tap(texts.BTN_SUBMIT)
    await orm.tap(texts.BTN_SUBMIT)
    assert "已立案" in core.last().text and "已立案" in orm.last().text


async def test_a_core_step_refuses_forged_stale_and_group_presses_as_the_orm_door_does(harness, monkeypatch):
    core, orm = Tracked(harness.app, CORE), Tracked(harness.app, ORM)
    await _skip_to_evidence(core)
    with orm_only(monkeypatch):
        await _skip_to_evidence(orm)
    before = await draft_of(harness, CORE)
    assert before[1] == "evidence" and before == await draft_of(harness, ORM)
    own = {chat.user_id: dict(chat.last().buttons)[texts.BTN_EVIDENCE_SKIP] for chat in (core, orm)}

    async def press_all(chat: Chat) -> list:
        draft_id = int(own[chat.user_id].split(":")[1])
        updates = [
            await chat.press(f"c:{draft_id + 1000}:ev"),  # another draft's button: stale
            await chat.press(f"c:{draft_id}:ct:1"),  # this draft, but a step it is not at
            await chat.press(f"c:{draft_id}:dom:not-a-domain"),
            await chat.press("c:x:ev"),  # forged: not even a number
        ]
        group = Tracked(harness.app, chat.user_id, chat_type="supergroup", chat_id=-100000 - chat.user_id)
        updates.append(await group.press(own[chat.user_id]))
        assert harness.request.messages_to(group.chat_id) == []
        return updates, group

    with sessions_opened(harness) as opened:
        core_updates, core_group = await press_all(core)
    assert opened == []
    with orm_only(monkeypatch):
        orm_updates, orm_group = await press_all(orm)
    assert shown(harness, core) == shown(harness, orm)
    stale = texts.plain(texts.refusal("stale", {}, role="citizen"))
    assert shown(harness, core)[-4:] == [stale, stale, stale, texts.STALE_BUTTON]
    assert [c.params.get("text") for c in harness.request.sent(method="answerCallbackQuery")
            if c.params.get("callback_query_id") in core_group.queries] == [texts.PRIVATE_ONLY_BUTTON]
    for update in core_updates + orm_updates:
        assert await claims(harness, update) == 0  # rolled back with the refusal, or never claimed
    assert await draft_of(harness, CORE) == before == await draft_of(harness, ORM)

    await core.press(own[CORE])  # and the conversation goes on
    assert texts.ASK_CONTACT in core.last().text


PROBE = Codec("probe", Int())
SUPERVISOR_PROBE = Codec("sprobe", Int())
probed: list[tuple] = []


@door(roles=OFFICIALS, codec=PROBE, light=True)
async def official_probe(turn) -> None:
    """An official's step that reads the account's department (which the Core mode has not read)."""
    probed.append((turn.actor.role, turn.actor.account_id, turn.actor.account.department.code,
                   await turn.current_draft()))
    turn.reply("ok")


@door(roles=SUPERVISORS, codec=SUPERVISOR_PROBE, light=True)
async def supervisor_probe(turn) -> None:
    probed.append((turn.actor.role, turn.actor.account_id, await turn.current_draft()))
    turn.reply("ok")


async def test_a_core_step_admits_and_refuses_the_roles_the_orm_door_does(harness, monkeypatch):
    group = harness.app.handlers[0]
    group.insert(0, CallbackQueryHandler(official_probe, pattern=PROBE.pattern))
    group.insert(0, CallbackQueryHandler(supervisor_probe, pattern=SUPERVISOR_PROBE.pattern))
    probed.clear()
    citizen = Tracked(harness.app, CORE)
    await citizen.send("/start")
    official = await bind_official(harness, 7303)
    supervisor = harness.supervisor()
    await supervisor.send("/start")

    results = []
    for switched_off in (False, True):
        with orm_only(monkeypatch) if switched_off else nullcontext():
            with sessions_opened(harness) as opened:
                refused = [await citizen.press("probe:1"), await citizen.press("sprobe:1"),
                           await official.press("sprobe:1")]
                await supervisor.press("sprobe:1")
            results.append(opened)
            await official.press("probe:1")  # the department: read with a session, in either mode
        for update in refused:
            assert await claims(harness, update) == 0
    core_opened, orm_opened = results
    assert core_opened == [] and len(orm_opened) == 4  # the Core mode refused and admitted without a session
    assert shown(harness, citizen)[-4:] == [texts.plain(texts.refusal("not_official", {}, role="citizen")),
                                            texts.plain(texts.refusal("not_supervisor", {}, role="citizen"))] * 2
    supervisor_runs = [p for p in probed if len(p) == 3]
    official_runs = [p for p in probed if len(p) == 4]
    assert len(supervisor_runs) == 2 and supervisor_runs[0] == supervisor_runs[1]
    assert supervisor_runs[0][0] == "supervisor" and supervisor_runs[0][2] is None
    assert len(official_runs) == 2 and official_runs[0] == official_runs[1]
    assert official_runs[0][0] == "official" and official_runs[0][2] and official_runs[0][3] is None


async def test_a_core_step_is_undone_with_its_transaction(harness, monkeypatch):
    citizen = Tracked(harness.app, CORE)
    await _skip_to_evidence(citizen)
    before = await draft_of(harness, CORE)
    written = drafts.save_row

    async def written_then_failed(*, connection, draft):
        await written(connection=connection, draft=draft)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(drafts, "save_row", written_then_failed)
    failed = await citizen.tap(texts.BTN_EVIDENCE_SKIP)
    assert citizen.last().text == texts.ERROR_GENERIC
    assert await draft_of(harness, CORE) == before  # the draft's UPDATE rolled back with the claim
    assert await claims(harness, failed) == 0

    async def written_then_needs_more(*, connection, draft):
        await written(connection=connection, draft=draft)
        raise NeedsSession("more than the draft")

    # A step found to need a session after its write: the Core transaction is undone, the ORM door writes once.
    monkeypatch.setattr(drafts, "save_row", written_then_needs_more)
    shown_before = len(citizen.texts())
    again = await citizen.tap(texts.BTN_EVIDENCE_SKIP)
    assert await claims(harness, again) == 1
    assert (await draft_of(harness, CORE))[1] == "contact"
    prompts = [t for t in citizen.texts()[shown_before:] if texts.ASK_CONTACT in t]
    assert len(prompts) == 1


async def account_of(harness, user_id: int):
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == user_id))
    return (account.role, account.full_name, account.username, account.is_head, account.unreachable,
            account.created_at, account.last_seen_at)


async def test_first_contact_and_a_changed_account_are_written_as_the_orm_door_writes_them(harness, monkeypatch):
    core, orm = Tracked(harness.app, CORE, first_name="王", last_name="某"), Tracked(harness.app, ORM, first_name="王",
                                                                                  last_name="某")
    with sessions_opened(harness) as opened:
        await core.send(texts.BTN_COMPLAIN)  # first contact: the account and its draft, no session
    assert opened == []
    with orm_only(monkeypatch):
        await orm.send(texts.BTN_COMPLAIN)
    assert await account_of(harness, CORE) == await account_of(harness, ORM)
    assert await draft_of(harness, CORE) == await draft_of(harness, ORM)
    assert shown(harness, core) == shown(harness, orm)

    # Back after a quarter of an hour under a new Telegram name: last seen and the name change, in both modes.
    harness.clock.advance(minutes=15)
    for chat in (core, orm):
        chat.first_name, chat.username = "王五", "wangwu"
    with sessions_opened(harness) as opened:
        await core.send(PROCUREMENT_TEXT)
    assert opened == []
    with orm_only(monkeypatch):
        await orm.send(PROCUREMENT_TEXT)
    changed = await account_of(harness, CORE)
    assert changed == await account_of(harness, ORM)
    assert changed[1:3] == ("王五 某", "wangwu") and changed[6] == harness.clock.now()
    assert await draft_of(harness, CORE) == await draft_of(harness, ORM)
    assert shown(harness, core) == shown(harness, orm)

    # Starting over replaces the draft in both modes (/complain with the text typed after it).
    for chat in (core, orm):
        with orm_only(monkeypatch) if chat is orm else nullcontext():
            await chat.send("/complain " + PROCUREMENT_TEXT)
    assert await draft_of(harness, CORE) == await draft_of(harness, ORM)
    assert (await draft_of(harness, CORE))[1] == "domain"


async def case_of(harness, user_id: int):
    """The case a citizen filed, its audit trail, its clocks and reminders, and what is owed to them."""
    async with harness.session() as session:
        case = await session.scalar(select(Case).join(Account, Case.complainant_id == Account.id)
                                    .where(Account.telegram_id == user_id))
        events = (await session.execute(select(CaseEvent.seq, CaseEvent.action, CaseEvent.to_status,
                                               CaseEvent.actor_role).where(CaseEvent.case_id == case.id))).all()
        clocks = (await session.execute(select(Obligation.kind, Obligation.due_at, Obligation.state)
                                        .where(Obligation.case_id == case.id))).all()
        ladder = (await session.execute(select(Reminder.stage, Reminder.send_at).join(Obligation)
                                        .where(Obligation.case_id == case.id).order_by(Reminder.send_at))).all()
        owed = (await session.execute(select(OutboundMessage.kind, OutboundMessage.state, OutboundMessage.text)
                                      .where(OutboundMessage.chat_id == user_id))).all()
    content = (case.status, case.domain, case.text, case.text_masked, case.contact_allowed, case.audit_count,
               case.audit_seal is not None, case.details)
    return content, events, clocks, ladder, [(k, s, re.sub(r"\w+-\d+-\d+", "REF", t)) for k, s, t in owed]


async def _to_confirmation(chat: Chat) -> None:
    await _skip_to_evidence(chat)
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES)
    assert texts.BTN_SUBMIT in dict(chat.last().buttons)


async def test_submit_and_cancel_take_a_session_on_demand_and_end_as_in_the_orm_door(harness, monkeypatch):
    core, orm = Tracked(harness.app, CORE), Tracked(harness.app, ORM)
    await _to_confirmation(core)
    with orm_only(monkeypatch):
        await _to_confirmation(orm)

    with sessions_opened(harness) as opened:
        submitted = await core.tap(texts.BTN_SUBMIT)  # the case opened on the Core connection: no second start
    assert opened == [] and await claims(harness, submitted) == 1
    with orm_only(monkeypatch), sessions_opened(harness) as opened:
        await orm.tap(texts.BTN_SUBMIT)
    assert opened
    assert "已立案" in core.last().text and "已立案" in orm.last().text
    filed = await case_of(harness, CORE)
    assert filed == await case_of(harness, ORM)
    assert filed[1][0][1:3] == ("create", "submitted") and filed[4] == [("reply", "sent", filed[4][0][2])]
    assert await draft_of(harness, CORE) is None
    async with harness.session() as session:  # both cases' audit chains and seals hold (`chengxin audit verify`)
        checked, broken = await verify_chains(session=session)
    assert checked >= 2 and broken == []

    # 取消 on a new draft: the draft deleted on demand, as the ORM door deletes it.
    for chat in (core, orm):
        with orm_only(monkeypatch) if chat is orm else nullcontext():
            await chat.send(texts.BTN_COMPLAIN)
            await chat.send(PROCUREMENT_TEXT)
            await chat.press(dict(chat.last().buttons)[texts.BTN_CANCEL])
    assert await draft_of(harness, CORE) is None and await draft_of(harness, ORM) is None
    assert shown(harness, core)[-1] == shown(harness, orm)[-1]


async def test_an_officials_submit_starts_over_in_the_orm_door(harness):
    """An official's account carries a department the Core mode does not load: the submit falls back, once."""
    official = await bind_official(harness, 7303)
    await _to_confirmation(official)
    submitted = await official.tap(texts.BTN_SUBMIT)
    assert "已立案" in official.last().text and await claims(harness, submitted) == 1
    async with harness.session() as session:
        assert await session.scalar(select(func.count()).select_from(Case)
                                    .join(Account, Case.complainant_id == Account.id)
                                    .where(Account.telegram_id == 7303)) == 1

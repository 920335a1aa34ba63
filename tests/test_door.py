"""The one door in and the one door out, as a person sees them: forged buttons and odd arguments get polite
refusals, a group never sees case data, an update delivered twice acts once, a notice survives a failed
send, long views arrive whole, and /help and the menus show every command a role has."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import CommandHandler

from bot import texts
from bot.db.models import Case, OutboundMessage, ProcessedUpdate
from bot.simulator import Chat
from handlers import commands
from tests.conftest import SUPERVISOR_ID
from tests.flows import PROCUREMENT_TEXT, accepted_case, assigned_case, bind_official, case_by_ref, file_complaint


def alerts(harness, chat: Chat) -> list[str]:
    return [c.params.get("text", "") for c in harness.request.sent(method="answerCallbackQuery")
            if c.params.get("show_alert")]


FORGED = ["my:", "my:99999999999999999999", "my:²", "my:0", "cf:", "as:YC-20261127-0001", "as:", "c:1",
          "c:x:dom:debt", "c:1:dom:" + "x" * 60, "acc:", "acc:not-a-ref", "dspr:YC-20261127-0001:bogus",
          "sd:-1", "st:", "sat:YC-20261127-0001:great", "wdy:", "cmd:1:2", "ub:²", "vc:", "ef:1e9"]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_or_truncated_button_data_is_refused_politely(harness, caplog, data):
    citizen = harness.chat(8101)
    await citizen.send("/start")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await citizen.press(data)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    answered = harness.request.sent(method="answerCallbackQuery")
    assert answered, "every press is answered"
    assert texts.ERROR_GENERIC not in citizen.texts()


@pytest.mark.parametrize("command", ["/mycases 99999999999999999999", "/mycases ²", "/mycases -3",
                                     "/status ²²²", "/withdraw 99999999999999999999", "/supplement",
                                     "/accept", "/reply", "/commit YC-20261127-0001"])
async def test_odd_arguments_get_a_polite_answer_and_no_error(harness, caplog, command):
    citizen = harness.chat(8102)
    with caplog.at_level(logging.WARNING):
        await citizen.send(command)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert citizen.last().text and texts.ERROR_GENERIC not in citizen.last().text


async def test_a_button_pressed_in_a_group_shows_nothing_there(harness):
    citizen = harness.chat(8103)
    ref = await file_complaint(citizen)
    group = Chat(harness.app, SUPERVISOR_ID, chat_type="supergroup", chat_id=-100123)
    harness.request.clear()
    await group.press(f"vc:{ref}")
    await group.press(f"st:{ref}")
    assert harness.request.messages_to(-100123) == []
    assert alerts(harness, group) == [texts.PRIVATE_ONLY_BUTTON] * 2


async def test_the_same_update_delivered_twice_acts_once(harness):
    citizen = harness.chat(8104)
    await citizen.send("/complain")
    update = await citizen.send(PROCUREMENT_TEXT)
    replies = len(citizen.texts())
    again = Update.de_json(update.to_dict(), harness.app.bot)
    await harness.app.process_update(again)
    assert len(citizen.texts()) == replies
    async with harness.session() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)
                                    .where(ProcessedUpdate.update_id == update.update_id)) == 1


async def test_a_relayed_reply_survives_a_failed_send_and_shows_in_status(harness):
    citizen = harness.chat(8105)
    official = await bind_official(harness, 8205)
    ref = await accepted_case(harness, citizen, official)
    failures = []

    def bad_gateway_once(call):
        if call.chat_id == citizen.user_id and call.method == "sendMessage" and not failures:
            failures.append(call)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    harness.request.faults.append(bad_gateway_once)
    await official.send(f"/reply {ref} 已核实，本月底前支付全部货款")
    assert "已转达" in official.last().text
    assert failures and not any("本月底前支付" in t for t in citizen.texts())
    async with harness.session() as session:
        row = await session.scalar(select(OutboundMessage).where(OutboundMessage.chat_id == citizen.user_id,
                                                                 OutboundMessage.state == "pending"))
        assert row is not None and "本月底前支付" in row.text
    harness.clock.advance(minutes=10)
    await harness.app.job_queue.get_jobs_by_name("delivery_job")[0].run(harness.app)
    assert any("本月底前支付" in t for t in citizen.texts())
    await citizen.send(f"/status {ref}")
    assert "本月底前支付全部货款" in citizen.last().text


async def test_a_case_view_longer_than_a_message_arrives_in_parts(harness):
    citizen = harness.chat(8106)
    ref = await file_complaint(citizen)
    for n in range(12):
        await citizen.send(f"/supplement {ref} 第{n}次补充：" + "对方仍未付款，" * 60)
    supervisor = harness.supervisor()
    harness.request.clear()
    await supervisor.send(f"/case {ref}")
    parts = harness.request.messages_to(SUPERVISOR_ID)
    assert parts and all(len(p.text) <= 4096 for p in parts)
    assert ref in parts[0].text


def registered_commands(app) -> set[str]:
    names = set()
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                names |= set(handler.commands)
    return names


async def test_every_command_is_in_the_table_and_every_table_entry_works(harness):
    assert registered_commands(harness.app) == set(commands.NAMES)
    for command in commands.TABLE:
        assert command.name in texts.COMMAND_TEXTS
        for role in command.roles:
            assert f"/{command.name}" in commands.help_text(role) or command.name in ("complain", "mycases",
                                                                                      "status")


def test_every_refusal_the_code_raises_has_its_text():
    """A DomainError code without an entry in texts.REFUSALS would reach a person as the generic 'system
    problem' message: every code raised with a literal in bot/, handlers/ and scheduler/ has its text."""
    import re
    from pathlib import Path

    from handlers import door

    root = Path(__file__).resolve().parent.parent
    raised = re.compile(r"\b(?:DomainError|NotFound|Forbidden|InvalidTransition|RateLimited|StaleAction|InvalidInput)"
                        r"\(\s*\"([a-z_]+)\"")
    codes = {m.group(1) for folder in ("bot", "handlers", "scheduler") for path in (root / folder).rglob("*.py")
             for m in raised.finditer(path.read_text(encoding="utf-8"))}
    codes |= set(door._ROLE_REFUSALS.values()) | {"staff_only"} | set(texts.DATE_PROBLEMS)
    assert len(codes) > 40
    assert sorted(codes - set(texts.REFUSALS)) == []


async def test_help_and_menu_follow_the_role(harness):
    official = await bind_official(harness, 8207)
    menus = [c for c in harness.request.sent(method="setMyCommands")
             if "8207" in str(c.params.get("scope", ""))]
    assert menus, "binding sets the official's command menu"
    assert "tasks" in str(menus[-1].params["commands"]) and "assign" not in str(menus[-1].params["commands"])
    await official.send("/help")
    assert "/tasks" in official.last().text and "/accept" in official.last().text
    assert "/assign" not in official.last().text
    supervisor = harness.supervisor()
    await supervisor.send("/help")
    for name in ("domain", "register", "kept", "commitments", "find", "score", "unbind"):
        assert f"/{name}" in supervisor.last().text


async def test_an_official_bound_after_the_assignment_can_accept(harness):
    citizen = harness.chat(8108)
    ref = await assigned_case(harness, citizen)
    official = await bind_official(harness, 8208)
    await official.send(f"/case {ref}")
    assert ("受理", f"acc:{ref}") in official.last().buttons
    await official.send(f"/accept {ref}")
    assert "已受理" in official.last().text
    assert (await case_by_ref(harness, ref)).status == "in_progress"


async def test_refusal_advice_follows_the_role(harness):
    official = await bind_official(harness, 8209)
    await official.send("/case YC-20991231-9999")
    assert "/tasks" in official.last().text and "/mycases" not in official.last().text
    citizen = harness.chat(8109)
    await citizen.send("/status YC-20991231-9999")
    assert "/mycases" in citizen.last().text


async def test_a_withdrawal_tells_the_co_complainants(harness):
    first, second = harness.chat(8110), harness.chat(8111)
    ref = await file_complaint(first)
    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        from bot.domain.duplicates import join_case
        from bot.domain.roles import Actor, Role
        from bot.domain.accounts import resolve_actor

        actor = await resolve_actor(session=session, telegram_id=second.user_id, full_name="王五", username=None,
                                    supervisors=(), now=harness.clock.now())
        await join_case(session=session, case=case, actor=Actor(Role.CITIZEN, actor.account),
                        text="市财政局也欠我们的货款", now=harness.clock.now())
        await session.commit()
    await first.send(f"/withdraw {ref}")
    await first.tap(texts.BTN_WITHDRAW_CONFIRM)
    assert any(ref in t and "撤回" in t for t in second.texts())
    await second.send(f"/status {ref}")
    assert "市财政局也欠我们的货款" in second.last().text and "13812345678" not in second.last().text


def test_every_keyboard_builds_data_its_handler_parses():
    """Buttons are built in bot/keyboards.py (the scheduler uses it too) and parsed by each feature's codec:
    the two must agree, or a press ends in the stale-button alert."""
    from bot import keyboards
    from handlers import case_view, citizen, complaint, official, review

    ref = "YC-20261127-0042"
    built = [
        (keyboards.open_cases([ref]), case_view.VIEW_CASE),
        (keyboards.report_read(7, "2026-11"), review.REPORT_READ),
        (keyboards.accept_or_dispute(ref), None),
        (keyboards.dispute_reasons(ref), official.DISPUTE),
        (keyboards.evidence_finished(3), official.EVIDENCE_FINISHED),
        (keyboards.own_case_actions(ref), None),
        (keyboards.withdraw_confirm(ref), citizen.WITHDRAW),
        (keyboards.supplement_done(3), citizen.SUPPLEMENT_DONE),
        (keyboards.satisfaction(ref), citizen.SATISFACTION),
        (keyboards.new_or_old(3), complaint.BUTTONS),
        (keyboards.confirm_choice(3), complaint.BUTTONS),
        (keyboards.case_list([ref], "my", 1, 3), None),
    ]
    codecs = [official.ACCEPT, official.DISPUTE, citizen.SUPPLEMENT, citizen.WITHDRAW, citizen.STATUS,
              citizen.MY_PAGE, complaint.BUTTONS]
    for markup, codec in built:
        for row in markup.inline_keyboard:
            for button in row:
                candidates = [codec] if codec is not None else codecs
                assert any(_parses(c, button.callback_data) for c in candidates), button.callback_data


def _parses(codec, data: str) -> bool:
    from handlers.codec import BadData

    try:
        codec.parse(data)
        return True
    except BadData:
        return False


async def test_a_pressed_messages_buttons_close_while_the_answer_goes_out(harness, monkeypatch):
    """确认提交: closing the summary's buttons and sending 已立案 overlap (one round trip, not two). The close
    is held until 已立案 has been sent: done one after the other, the press would never finish."""
    import asyncio

    from bot import sends
    from tests.flows import reach_confirmation

    citizen = harness.chat(7301)
    await reach_confirmation(citizen)
    answer_sent = asyncio.Event()
    real_send, real_remove = sends.send_text, sends.remove_buttons

    async def send_text(bot, chat_id, text, **kwargs):
        result = await real_send(bot, chat_id, text, **kwargs)
        if "已立案" in text:
            answer_sent.set()
        return result

    async def remove_buttons(bot, message):
        await answer_sent.wait()
        return await real_remove(bot, message)

    monkeypatch.setattr(sends, "send_text", send_text)
    monkeypatch.setattr(sends, "remove_buttons", remove_buttons)
    await asyncio.wait_for(citizen.tap(texts.BTN_SUBMIT), timeout=10)
    calls = harness.request.calls
    assert max(i for i, call in enumerate(calls) if call.method == "editMessageReplyMarkup") > max(
        i for i, call in enumerate(calls)
        if call.method == "sendMessage" and "已立案" in (call.params.get("text") or ""))
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1


async def test_a_press_is_answered_while_its_reply_goes_out(harness, monkeypatch):
    """A case button under /mycases: the press's answer (the spinner stopped) and the case's status overlap,
    one round trip, not two. The answer is held until the status has been sent: done one after the other,
    the press would never finish."""
    import asyncio

    from bot import sends
    from handlers import door
    from tests.flows import file_complaint

    citizen = harness.chat(7302)
    ref = await file_complaint(citizen)
    status_sent = asyncio.Event()
    real_send, real_answer = sends.send_text, door.answer_press

    async def send_text(bot, chat_id, text, **kwargs):
        result = await real_send(bot, chat_id, text, **kwargs)
        if ref in text:
            status_sent.set()
        return result

    async def answer_press(update, context, text=None, *, alert=False):
        await status_sent.wait()
        return await real_answer(update, context, text, alert=alert)

    monkeypatch.setattr(sends, "send_text", send_text)
    monkeypatch.setattr(door, "answer_press", answer_press)
    await asyncio.wait_for(citizen.press(f"st:{ref}"), timeout=10)
    calls = harness.request.calls
    answered = max(i for i, call in enumerate(calls) if call.method == "answerCallbackQuery")
    assert answered > max(i for i, call in enumerate(calls)
                          if call.method == "sendMessage" and ref in (call.params.get("text") or ""))

"""A citizen files a complaint by chat: triage, department, evidence, consent, confirmation, case."""

from __future__ import annotations

import asyncio
import dataclasses
import re

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Account, Case, CaseEvent, Draft, Evidence
from bot.clock import FrozenClock
from tests.conftest import START, make_settings, start_harness, stop_harness
from tests.flows import (DEBT_TEXT, PROCUREMENT_TEXT, WAGE_TEXT, case_by_ref, file_complaint, reach_confirmation,
                         skip_details)


async def count(harness, model) -> int:
    async with harness.session() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_start_shows_welcome_and_menu(harness):
    chat = harness.chat(1001)
    await chat.send("/start")
    welcome = chat.last()
    assert "政务诚信" in welcome.text
    keyboard = welcome.params["reply_markup"]["keyboard"]
    labels = [button["text"] if isinstance(button, dict) else button for row in keyboard for button in row]
    assert labels == [texts.BTN_COMPLAIN, texts.BTN_MY_CASES, texts.BTN_STATUS, texts.BTN_HELP]


async def test_full_complaint_opens_case_after_commit(harness):
    # the supervisor-routed path: this clear, directory-confirmed complaint would otherwise be
    # routed automatically (confidence >= 0.95), which test_lifecycle's own test covers
    harness.services.policy = dataclasses.replace(harness.services.policy, auto_assign=False)
    chat = harness.chat(1001, first_name="王", last_name="女士", username="wang")
    await chat.send(texts.BTN_COMPLAIN)
    assert "请用文字描述" in chat.last().text

    await chat.send(DEBT_TEXT)
    triage = chat.last()
    assert "地方政府债务" in triage.text
    assert "工程款" in triage.text  # the words that made the bot think so
    assert triage.buttons[0][0] == "✅ 是，地方政府债务"
    assert any(label == "政府采购" for label, _ in triage.buttons)  # one tap to pick another

    await chat.tap("✅ 是，地方政府债务")
    department_prompt = chat.last()
    assert "亭湖区住房和城乡建设局" in [label for label, _ in department_prompt.buttons]
    await chat.tap("亭湖区住房和城乡建设局")

    # Follow-up questions for arrears: what the text says is offered, the rest is asked.
    assert "项目或合同名称" in chat.last().text
    await chat.send("城南安置房二期")
    assert "拖欠金额</b>：380万元" in chat.last().text
    await chat.tap(texts.BTN_DETAIL_OK)
    assert "从什么时候开始拖欠" in chat.last().text and "2022-12-31" in chat.last().text
    await chat.send("说不清楚")
    assert "没看懂时间" in chat.last().text
    await chat.send("2023年1月")
    assert "照片或文件" in chat.last().text
    await chat.photo(caption="竣工验收单")
    assert "第 1 份证据" in chat.last().text
    await chat.document("施工合同.pdf", caption="合同第五条约定付款")
    assert "第 2 份证据" in chat.last().text
    await chat.tap(texts.BTN_EVIDENCE_DONE)

    assert "不会向被投诉的部门公开" in chat.last().text
    await chat.tap(texts.BTN_CONTACT_YES)

    summary = chat.last().text
    assert "地方政府债务" in summary and "亭湖区住房和城乡建设局" in summary and "证据：2 份" in summary
    assert await count(harness, Case) == 0  # nothing is a case before 确认提交

    await chat.tap(texts.BTN_SUBMIT)
    reply = chat.last().text
    assert "已立案" in reply
    ref = re.search(r"YC-20261127-\d{4}", reply).group(0)

    case = await case_by_ref(harness, ref)
    assert case.status == "submitted"
    assert case.domain == "debt" and case.suggested_domain == "debt"
    assert case.department.name == "亭湖区住房和城乡建设局"
    assert case.contact_allowed is True
    assert case.details == {"project": "城南安置房二期", "amount": "380万元", "amount_yuan": "3800000",
                            "since": "2023年1月"}
    async with harness.session() as session:
        evidence = (await session.scalars(select(Evidence).where(Evidence.case_id == case.id))).all()
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
        drafts = await session.scalar(select(func.count(Draft.id)))
    assert sorted(e.kind for e in evidence) == ["document", "photo"]
    assert {e.caption for e in evidence} == {"竣工验收单", "合同第五条约定付款"}
    assert [e.action for e in events] == ["create"]
    assert drafts == 0


async def test_text_typed_straight_in_starts_a_complaint(harness):
    chat = harness.chat(1002)
    await chat.send(PROCUREMENT_TEXT)
    assert "政府采购" in chat.last().text
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.step == "domain" and draft.data["text"] == PROCUREMENT_TEXT


async def test_the_words_behind_the_domain_are_shown_once_each(harness):
    chat = harness.chat(1003)
    await chat.send(DEBT_TEXT)
    shown = re.search(r"判断依据：(.+)", chat.last().text).group(1).split("、")
    async with harness.session() as session:
        matched = (await session.scalar(select(Draft))).data["classification"]["terms"]
    assert "拖欠" in shown and "工程款" in shown
    # Every matched word is shown or is part of one that is, and none is part of another shown.
    assert all(any(term in word for word in shown) for term in matched)
    assert not [a for a in shown for b in shown if a != b and a in b]


async def test_complain_command_with_text_argument(harness):
    chat = harness.chat(1003)
    await chat.send("/complain " + PROCUREMENT_TEXT)
    assert "政府采购" in chat.last().text


async def test_personal_data_is_masked_for_officials_and_kept_for_supervisors(harness):
    chat = harness.chat(1004)
    ref = await file_complaint(chat, PROCUREMENT_TEXT)
    case = await case_by_ref(harness, ref)
    assert "13812345678" in case.text
    assert "13812345678" not in case.text_masked and "138" in case.text_masked


async def test_other_domain_is_redirected_and_opens_nothing_unless_insisted(harness):
    chat = harness.chat(1005)
    await chat.send(WAGE_TEXT)
    reply = chat.last()
    assert "不属于政务失信" in reply.text and "12345" in reply.text
    assert texts.BTN_KEEP_OTHER in [label for label, _ in reply.buttons]
    await chat.tap(texts.BTN_CANCEL)
    assert await count(harness, Case) == 0 and await count(harness, Draft) == 0

    await chat.send(WAGE_TEXT)
    await chat.tap(texts.BTN_KEEP_OTHER)
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(chat)
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_NO)
    await chat.tap(texts.BTN_SUBMIT)
    assert "已立案" in chat.last().text
    async with harness.session() as session:
        case = await session.scalar(select(Case))
    assert case.domain == "other" and case.department_id is None and case.contact_allowed is False


async def test_citizen_corrects_the_domain_with_one_tap(harness):
    chat = harness.chat(1006)
    await chat.send(DEBT_TEXT)
    await chat.tap("招商引资")
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.data["domain"] == "investment" and draft.data["classification"]["domain"] == "debt"


async def test_department_can_be_typed_or_left_unknown(harness):
    chat = harness.chat(1007)
    await chat.send("我们村的惠民补贴一直没有发放，街道办说过年前发，现在又说没钱了，公开承诺不兑现。")
    await chat.press(chat.last().buttons[0][1])
    await chat.tap(texts.BTN_DEPT_OTHER)
    assert "请直接输入部门名称" in chat.last().text
    await chat.send("不存在的火星局")
    assert "没有找到" in chat.last().text
    await chat.send("市财政局")
    assert "盐城市财政局" in [label for label, _ in chat.last().buttons]
    await chat.tap("盐城市财政局")
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.step == "evidence" and draft.data["department_name"] == "盐城市财政局"


async def test_cancel_leaves_the_flow_at_any_step(harness):
    chat = harness.chat(1008)
    await chat.send(DEBT_TEXT)
    await chat.send("/cancel")
    assert "已取消" in chat.last().text
    assert await count(harness, Draft) == 0
    await chat.send("/cancel")
    assert "没有正在填写" in chat.last().text


async def test_draft_survives_a_restart(harness, classifier):
    chat = harness.chat(1009)
    await chat.send(DEBT_TEXT)
    await chat.tap("✅ 是，地方政府债务")
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(chat)
    await stop_harness(harness)

    restarted = await start_harness(make_settings(harness.settings.database_url), classifier, harness.clock)
    try:
        again = restarted.chat(1009)
        await again.send(texts.BTN_COMPLAIN)
        assert "未完成的投诉" in again.texts()[-2]
        assert "照片或文件" in again.last().text  # right where they left off
        await again.photo()
        await again.tap(texts.BTN_EVIDENCE_DONE)
        await again.tap(texts.BTN_CONTACT_NO)
        await again.tap(texts.BTN_SUBMIT)
        assert "已立案" in again.last().text
    finally:
        await stop_harness(restarted)


async def test_confirm_pressed_twice_opens_one_case(harness):
    chat = harness.chat(1010)
    await reach_confirmation(chat)
    submit = [data for label, data in chat.last().buttons if label == texts.BTN_SUBMIT][0]
    await asyncio.gather(chat.press(submit), chat.press(submit))
    await chat.press(submit)
    assert await count(harness, Case) == 1
    alerts = [c.params.get("text", "") for c in harness.request.sent(method="answerCallbackQuery")]
    assert any("已经提交过" in a for a in alerts)


async def test_a_press_telegram_no_longer_accepts_still_gets_its_answer(harness):
    """After a restart a press may be too old to answer and its message gone: the case is still opened
    and the citizen is told so, never that something went wrong."""
    chat = harness.chat(1012)
    await reach_confirmation(chat)

    def too_old(call):
        if call.method == "answerCallbackQuery":
            return 400, {"ok": False, "error_code": 400,
                         "description": "Bad Request: query is too old and response timeout expired or query id is invalid"}
        if call.method == "editMessageReplyMarkup":
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}
        return None

    harness.request.faults.append(too_old)
    await chat.tap(texts.BTN_SUBMIT)
    assert "已立案" in chat.last().text
    assert texts.ERROR_GENERIC not in chat.texts()
    assert await count(harness, Case) == 1


async def test_button_from_an_ended_flow_is_stale(harness):
    chat = harness.chat(1011)
    await chat.send(DEBT_TEXT)
    old_buttons = chat.last().buttons
    await chat.send("/cancel")
    await chat.press(old_buttons[0][1])
    alert = harness.request.sent(method="answerCallbackQuery")[-1].params
    assert "已失效" in alert["text"]
    assert await count(harness, Draft) == 0


async def test_text_length_limits_are_stated_and_nothing_changes(harness):
    chat = harness.chat(1012)
    await chat.send(texts.BTN_COMPLAIN)
    await chat.send("太短了")
    assert "至少 10 个字" in chat.last().text
    await chat.send("很" * 4001)
    assert "4001 字" in chat.last().text and "4000" in chat.last().text
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.step == "text" and "text" not in draft.data


async def test_short_greeting_without_flow_gets_a_hint(harness):
    chat = harness.chat(1013)
    await chat.send("你好")
    assert "我要投诉" in chat.last().text
    assert await count(harness, Draft) == 0


async def test_stickers_voice_and_locations_where_text_is_expected(harness):
    chat = harness.chat(1014)
    await chat.send(texts.BTN_COMPLAIN)
    for send in (chat.sticker, chat.voice, chat.location):
        await send()
        assert "文字" in chat.last().text
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.step == "text"
    await chat.send(DEBT_TEXT)
    await chat.tap("✅ 是，地方政府债务")
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(chat)
    await chat.sticker()
    assert "照片或文件" in chat.last().text


async def test_daily_limit_refuses_politely_and_keeps_the_draft(database_url, classifier):
    running = await start_harness(make_settings(database_url, CHENGXIN_DAILY_CASE_LIMIT=2), classifier,
                                  FrozenClock(START))
    try:
        chat = running.chat(1015)
        await file_complaint(chat)
        second = await file_complaint(chat)
        await reach_confirmation(chat)
        await chat.tap(texts.BTN_SUBMIT)
        alert = running.request.sent(method="answerCallbackQuery")[-1].params["text"]
        assert "每日上限" in alert
        assert await count(running, Case) == 2
        assert await count(running, Draft) == 1
        running.clock.advance(days=1)
        await chat.tap(texts.BTN_SUBMIT)
        assert "已立案" in chat.last().text
        # The refused submit used up no case number: the next one follows the second case's.
        assert f"-{int(second.rsplit('-', 1)[1]) + 1:04d}" in chat.last().text
    finally:
        await stop_harness(running)


async def test_group_chats_are_refused_and_nothing_is_stored(harness):
    chat = harness.chat(1016, chat_type="group", chat_id=-100123)
    await chat.send("/complain " + DEBT_TEXT)
    assert "私聊" in harness.request.last_to(-100123).text
    assert await count(harness, Account) == 0 and await count(harness, Draft) == 0


async def test_a_burst_of_spam_is_throttled_with_one_warning(database_url, classifier):
    running = await start_harness(make_settings(database_url, CHENGXIN_FLOOD_MESSAGES=5), classifier,
                                  FrozenClock(START))
    try:
        chat = running.chat(1017)
        for _ in range(15):
            await chat.send("你好")
        warnings = [t for t in chat.texts() if "过于频繁" in t]
        assert len(warnings) == 1
        assert len(chat.texts()) == 5 + 1
        async with running.session() as session:
            assert await session.scalar(select(func.count(Draft.id))) == 0
    finally:
        await stop_harness(running)


async def test_edits_do_not_change_what_was_taken(harness):
    chat = harness.chat(1018)
    await chat.send(DEBT_TEXT)
    await chat.edit("改成别的内容改成别的内容")
    assert "不能通过编辑" in chat.last().text
    async with harness.session() as session:
        draft = await session.scalar(select(Draft))
    assert draft.data["text"] == DEBT_TEXT


async def test_unknown_command_is_answered(harness):
    chat = harness.chat(1019)
    await chat.send("/frobnicate")
    assert "没有这个命令" in chat.last().text

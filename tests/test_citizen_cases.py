"""A citizen's own cases: list, status and timeline, supplement, withdraw — and nobody else's."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import texts
from bot.db.models import CaseEvent, Evidence, Supplement
from tests.flows import DEBT_TEXT, case_by_ref, file_complaint


async def test_mycases_lists_newest_first_with_pages(harness):
    chat = harness.chat(2001)
    refs = []
    for minute in range(7):
        harness.clock.advance(minutes=1)
        refs.append(await file_complaint(chat))
    await chat.send("/mycases")
    first_page = chat.last()
    assert "共 7 件" in first_page.text and "第 1/2 页" in first_page.text
    listed = [label for label, data in first_page.buttons if data.startswith("st:")]
    assert listed == list(reversed(refs))[:5]
    await chat.tap(texts.BTN_NEXT)
    second_page = chat.last()
    assert [label for label, data in second_page.buttons if data.startswith("st:")] == [refs[1], refs[0]]
    assert "已受理登记" in second_page.text


async def test_mycases_when_there_are_none(harness):
    chat = harness.chat(2002)
    await chat.send(texts.BTN_MY_CASES)
    assert "还没有提交过投诉" in chat.last().text


async def test_status_shows_own_case_and_timeline(harness):
    chat = harness.chat(2003)
    ref = await file_complaint(chat, evidence=1)
    await chat.send(f"/status {ref.lower()}")  # typed in lower case on a phone
    status = chat.last()
    assert ref in status.text and "已受理登记" in status.text and "提交投诉" in status.text
    assert [label for label, _ in status.buttons] == [texts.BTN_SUPPLEMENT, texts.BTN_WITHDRAW]


async def test_status_without_reference_offers_recent_cases(harness):
    chat = harness.chat(2004)
    await chat.send("/status")
    assert "/status YC-20261127-0042" in chat.last().text
    ref = await file_complaint(chat)
    await chat.send(texts.BTN_STATUS)
    assert [label for label, _ in chat.last().buttons] == [ref]
    await chat.tap(ref)
    assert "办理经过" in chat.last().text


async def test_status_refuses_malformed_and_unknown_and_foreign_references_alike(harness):
    owner = harness.chat(2005)
    ref = await file_complaint(owner)
    stranger = harness.chat(2006)
    await stranger.send("/status 12345")
    assert "不是有效的投诉编号" in stranger.last().text
    await stranger.send("/status YC-20261127-9999")
    unknown = stranger.last().text
    await stranger.send(f"/status {ref}")
    foreign = stranger.last().text
    assert "没有找到" in foreign
    assert foreign.replace(ref, "X") == unknown.replace("YC-20261127-9999", "X")  # reveals nothing
    assert DEBT_TEXT[:10] not in foreign


async def test_supplement_with_text_in_the_command(harness):
    chat = harness.chat(2007)
    ref = await file_complaint(chat)
    await chat.send(f"/supplement {ref} 对方今天又说下个月才能付款")
    assert "已补充" in chat.last().text
    async with harness.session() as session:
        supplement = await session.scalar(select(Supplement))
        actions = (await session.scalars(select(CaseEvent.action).order_by(CaseEvent.id))).all()
    assert supplement.text == "对方今天又说下个月才能付款"
    assert actions == ["create", "supplement"]


async def test_supplement_conversation_takes_text_and_evidence(harness):
    chat = harness.chat(2008)
    ref = await file_complaint(chat)
    await chat.send(f"/status {ref}")
    await chat.tap(texts.BTN_SUPPLEMENT)
    assert "补充" in chat.last().text
    await chat.send("补充一下：验收单在财政局窗口签收过")
    await chat.photo(caption="签收单")
    await chat.tap(texts.BTN_SUPPLEMENT_DONE)
    assert "补充完毕" in chat.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Supplement.id))) == 1
        assert await session.scalar(select(func.count(Evidence.id))) == 1
    await chat.send("这条消息不再是补充内容了，应当开始一份新的投诉")
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Supplement.id))) == 1


async def test_supplement_usage_and_foreign_case(harness):
    owner = harness.chat(2009)
    ref = await file_complaint(owner)
    other = harness.chat(2010)
    await other.send("/supplement")
    assert "用法" in other.last().text
    await other.send(f"/supplement {ref} 我来捣乱")
    assert "没有找到" in other.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Supplement.id))) == 0


async def test_withdraw_after_confirmation(harness):
    chat = harness.chat(2011)
    ref = await file_complaint(chat)
    await chat.send(f"/withdraw {ref}")
    assert "确定要撤回" in chat.last().text
    await chat.tap(texts.BTN_KEEP)
    assert (await case_by_ref(harness, ref)).status == "submitted"
    await chat.send(f"/withdraw {ref}")
    await chat.tap(texts.BTN_WITHDRAW_CONFIRM)
    assert "已撤回" in chat.last().text
    case = await case_by_ref(harness, ref)
    assert case.status == "withdrawn" and case.closed_at is not None
    await chat.send(f"/withdraw {ref}")
    assert "不能再补充或撤回" in chat.last().text
    await chat.send(f"/supplement {ref} 还想补充")
    assert "不能再补充或撤回" in chat.last().text


async def test_withdraw_someone_elses_case_is_refused(harness):
    owner = harness.chat(2012)
    ref = await file_complaint(owner)
    other = harness.chat(2013)
    await other.send("/withdraw")
    assert "用法" in other.last().text
    await other.send(f"/withdraw {ref}")
    assert "没有找到" in other.last().text
    await other.press(f"wdy:{ref}")
    assert (await case_by_ref(harness, ref)).status == "submitted"

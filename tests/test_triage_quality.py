"""Triage in the bot: traditional characters, follow-up questions by domain, duplicates and co-complainants,
related cases and the systemic flag, and the supervisors' correction loop feeding `lexicon suggest`."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Case, CaseEvent, CoComplainant, DomainCorrection
from tests.flows import assigned_case, case_by_ref, file_complaint, skip_details
from tests.test_cli import chengxin

ARREARS = "亭湖区住建局拖欠我们城南安置房项目工程款380万元，2022年底竣工验收后一分钱没给，工人天天上门要钱"
SAME_ARREARS = "亭湖区住建局拖欠我们城南安置房项目的工程款380万元，2022年底就验收了到现在一分钱都没给，工人天天来要钱"


async def file_against_department(chat, text: str, department: str = "亭湖区住房和城乡建设局") -> None:
    """Up to the point where the department is chosen."""
    await chat.send(text)
    await chat.press(chat.last().buttons[0][1])
    await chat.tap(department)


async def test_traditional_characters_are_understood_and_answered_in_simplified(harness):
    chat = harness.chat(12001)
    await chat.send("亭湖區住建局拖欠我們工程款三百八十萬元，兩年了一分錢沒給，工人天天來要錢")
    reply = chat.last()
    assert "地方政府债务" in reply.text and "領域" not in reply.text
    await chat.tap("✅ 是，地方政府债务")
    assert "亭湖区住房和城乡建设局" in [label for label, _ in chat.last().buttons]


async def test_judgment_asks_for_the_case_number_found_in_the_text(harness):
    chat = harness.chat(12002)
    await chat.send("法院判了区政府支付我们工程款，（2023）苏0902执1234号，判决已经生效一年了，区政府就是拒不履行")
    assert "涉府失信被执行" in chat.last().text
    await chat.tap("✅ 是，涉府失信被执行")
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    assert "法院案号</b>：（2023）苏0902执1234号" in chat.last().text
    await chat.tap(texts.BTN_DETAIL_OK)
    assert "判决日期" in chat.last().text
    await chat.send("2023年3月15日")
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES)
    assert "法院案号：（2023）苏0902执1234号" in chat.last().text   # in the summary
    await chat.tap(texts.BTN_SUBMIT)
    async with harness.session() as session:
        case = await session.scalar(select(Case))
    assert case.details == {"case_number": "（2023）苏0902执1234号", "judgment_date": "2023-03-15"}


async def test_a_skipped_prefilled_answer_is_not_kept(harness):
    chat = harness.chat(12003)
    await chat.send(ARREARS)
    await chat.tap("✅ 是，地方政府债务")
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await chat.tap(texts.BTN_DETAIL_SKIP)               # project
    assert "380万元" in chat.last().text
    await chat.tap(texts.BTN_DETAIL_SKIP)               # amount found in the text, but the citizen skips it
    await chat.tap(texts.BTN_DETAIL_OK)                 # since 2022年底
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_NO)
    await chat.tap(texts.BTN_SUBMIT)
    async with harness.session() as session:
        case = await session.scalar(select(Case))
    assert case.details == {"since": "2022-12-31（约）"}


async def test_a_near_duplicate_offers_to_join_the_open_case(harness):
    first = harness.chat(12004, first_name="甲")
    await first.send(ARREARS)
    await first.tap("✅ 是，地方政府债务")
    await first.tap("亭湖区住房和城乡建设局")
    await skip_details(first)
    await first.tap(texts.BTN_EVIDENCE_SKIP)
    await first.tap(texts.BTN_CONTACT_YES)
    await first.tap(texts.BTN_SUBMIT)
    ref = (await _only_case(harness)).ref

    second = harness.chat(12005, first_name="乙")
    await file_against_department(second, SAME_ARREARS)
    offer = second.last()
    assert ref in offer.text and "很相似" in offer.text
    assert ARREARS[:12] not in offer.text and "甲" not in offer.text      # nothing of the other complaint
    await second.tap(texts.BTN_JOIN_CASE)
    assert "已加入" in second.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
        joined = await session.scalar(select(CoComplainant))
    assert joined.text == SAME_ARREARS
    await second.send(f"/status {ref}")
    assert "办理经过" in second.last().text and texts.BTN_WITHDRAW not in str(second.last().buttons)
    await second.send("/mycases")
    assert ref in second.last().text
    await harness.supervisor().send(f"/assign {ref} 亭湖区住房和城乡建设局")
    assert "已转交" in second.last().text and "已转交" in first.last().text   # co-complainants hear progress

    # The first complainant typing the same again is pointed to /supplement, not to joining.
    await file_against_department(first, SAME_ARREARS)
    assert "/supplement" in first.last().text
    assert texts.BTN_JOIN_CASE not in [label for label, _ in first.last().buttons]


async def test_different_complaints_are_not_called_duplicates(harness):
    await file_complaint(harness.chat(12006), ARREARS, department="亭湖区住房和城乡建设局")
    other = harness.chat(12007)
    await file_against_department(other, "亭湖区住建局招标的时候量身定制资格条件，只有一家公司能中标，明显是内定的")
    assert "很相似" not in other.last().text


async def test_supervisors_see_related_cases_and_the_systemic_flag(harness):
    for user_id, text in ((12008, ARREARS), (12009, SAME_ARREARS),
                          (12010, "亭湖区住建局欠我们砂石料款和工程款一百多万，项目早就完工了，就是拖着不给")):
        chat = harness.chat(user_id)
        await file_against_department(chat, text)
        if texts.BTN_FILE_SEPARATELY in [label for label, _ in chat.last().buttons]:
            await chat.tap(texts.BTN_FILE_SEPARATELY)
        await skip_details(chat)
        await chat.tap(texts.BTN_EVIDENCE_SKIP)
        await chat.tap(texts.BTN_CONTACT_YES)
        await chat.tap(texts.BTN_SUBMIT)
    async with harness.session() as session:
        cases = (await session.scalars(select(Case).order_by(Case.id))).all()
    assert len(cases) == 3
    supervisor = harness.supervisor()
    await supervisor.send(f"/case {cases[0].ref}")
    detail = supervisor.last().text
    assert "相似案件" in detail and cases[1].ref in detail
    assert "系统性失信预警" in detail and "3 名投诉人" in detail


async def test_domain_correction_is_recorded_and_feeds_lexicon_suggest(harness, tmp_path):
    ref = await assigned_case(harness, harness.chat(12011))
    supervisor = harness.supervisor()
    await supervisor.send(f"/domain {ref}")
    assert "用法" in supervisor.last().text
    await supervisor.send(f"/domain {ref} 火星")
    assert "不存在" in supervisor.last().text
    await supervisor.send(f"/domain {ref} 地方政府债务")
    assert "已改为 <b>地方政府债务</b>" in supervisor.last().text
    await harness.chat(12011).send(f"/domain {ref} bidding")
    assert "没有权限" in harness.chat(12011).last().text
    case = await case_by_ref(harness, ref)
    assert case.domain == "debt"
    async with harness.session() as session:
        correction = await session.scalar(select(DomainCorrection))
        events = (await session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))).all()
    assert (correction.from_domain, correction.to_domain) == ("procurement", "debt")
    assert "domain_changed" in events


def test_lexicon_check_and_suggest_from_the_command_line(tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"text": "区住建局拖欠工程款三年了", "domain": "debt"},
        {"text": "楼下烧烤店噪音扰民", "domain": "other"},
    ]), "utf-8")
    checked = chengxin("lexicon", "check", str(labelled), cwd=tmp_path)
    assert checked.returncode == 0 and "macro-F1" in checked.stdout and "confusion" in checked.stdout
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    empty = chengxin("lexicon", "suggest", cwd=tmp_path, env=env)
    assert empty.returncode == 0 and "还没有督办人员更正" in empty.stdout
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text("\n".join(json.dumps({"text": t, "domain": "statistics"}, ensure_ascii=False) for t in [
        "镇里让我们把产值报高一点，说是上面要的数字",
        "领导让统计员把产值报高，不然完不成任务",
        "乡里要求虚报产值，把数据做漂亮",
    ]), "utf-8")
    suggested = chengxin("lexicon", "suggest", str(corrections), "--labelled", str(labelled), cwd=tmp_path)
    assert suggested.returncode == 0 and "报高" in suggested.stdout and "accuracy" in suggested.stdout.lower()


async def _only_case(harness) -> Case:
    async with harness.session() as session:
        return await session.scalar(select(Case))

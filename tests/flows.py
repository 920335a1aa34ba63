"""Steps a citizen takes, shared by the tests."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import texts
from bot.db.models import Case
from bot.simulator import Chat

REF_IN_TEXT = re.compile(r"[A-Z]+-\d{8}-\d{4,}")

PROCUREMENT_TEXT = (
    "我公司2025年给市财政局做政府采购项目，供货验收合格已经一年了，采购人一直拖欠货款38万元，"
    "履约保证金也不退，联系电话13812345678。"
)
DEBT_TEXT = "亭湖区住建局拖欠我们工程款380万元，项目2022年底就竣工验收了，到现在一分钱没给，工人工资都发不出来。"
WAGE_TEXT = "我在一家私营服装厂打工，老板拖欠了我三个月工资一直不给，怎么办？"


async def file_complaint(chat: Chat, text: str = PROCUREMENT_TEXT, *, department: str | None = None,
                         evidence: int = 0, contact: bool = True) -> str:
    """Go through the whole conversation and return the new case reference."""
    await chat.send(texts.BTN_COMPLAIN)
    await chat.send(text)
    domain_message = chat.last()
    # Confirm the suggested domain (first button) or, when the bot was unsure, the first domain offered.
    await chat.press(domain_message.buttons[0][1])
    if department:
        await chat.tap(department)
    else:
        await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(chat)
    for index in range(evidence):
        await chat.photo(caption=f"证据{index + 1}")
    await chat.tap(texts.BTN_EVIDENCE_DONE if evidence else texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES if contact else texts.BTN_CONTACT_NO)
    seen = len(chat.texts())
    await chat.tap(texts.BTN_SUBMIT)
    opened = [t for t in chat.texts()[seen:] if "已立案" in t]
    assert opened, chat.texts()[seen:]
    return REF_IN_TEXT.search(opened[0]).group(0)


async def reach_confirmation(chat: Chat, text: str = PROCUREMENT_TEXT) -> None:
    """Type the complaint straight in and take every default up to the summary with 确认提交."""
    await chat.send(text)
    await chat.press(chat.last().buttons[0][1])
    await chat.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(chat)
    await chat.tap(texts.BTN_EVIDENCE_SKIP)
    await chat.tap(texts.BTN_CONTACT_YES)


async def skip_details(chat: Chat) -> None:
    """Leave the domain's follow-up questions (project, amount, since when…) unanswered."""
    while "补充信息" in chat.last().text and "/" in chat.last().text.split("）")[0]:
        await chat.tap(texts.BTN_DETAIL_SKIP)


async def case_by_ref(harness, ref: str) -> Case:
    async with harness.session() as session:
        return await session.scalar(select(Case).where(Case.ref == ref))


BIND_CODE = re.compile(r"/bind ([0-9A-Z]{5}-[0-9A-Z]{5})")


async def invite_code(harness, department: str = "市财政局", head: bool = False) -> str:
    supervisor = harness.supervisor()
    await supervisor.send(f"/invite {department}" + (" head" if head else ""))
    return BIND_CODE.search(supervisor.last().text).group(1)


async def bind_official(harness, user_id: int, department: str = "市财政局", head: bool = False, **names):
    """A new official of `department`, bound with a fresh invite code."""
    official = harness.chat(user_id, **(names or {"first_name": "承办", "last_name": str(user_id)}))
    await official.send(f"/bind {await invite_code(harness, department, head)}")
    assert "绑定成功" in official.last().text, official.last().text
    return official


async def assigned_case(harness, citizen, department: str = "市财政局", text: str = PROCUREMENT_TEXT) -> str:
    ref = await file_complaint(citizen, text)
    await harness.supervisor().send(f"/assign {ref} {department}")
    assert "已分派" in harness.supervisor().last().text
    return ref


async def accepted_case(harness, citizen, official, department: str = "市财政局") -> str:
    ref = await assigned_case(harness, citizen, department)
    await official.press(f"acc:{ref}")
    assert "已受理" in official.last().text, official.last().text
    return ref


async def rectified_case(harness, citizen, official) -> str:
    ref = await accepted_case(harness, citizen, official)
    await official.send(f"/reply {ref} 已核实，正在走付款流程")
    await official.send(f"/rectified {ref} 货款已全部支付，保证金已退还")
    assert "已报告整改完成" in official.last().text
    return ref


async def regional_supervisor(harness, user_id: int, region: str, by=None):
    """A supervisor invited (by the configured supervisor, or `by`) for `region` ("" for city-wide), bound."""
    inviter = by or harness.supervisor()
    await inviter.send(f"/invite supervisor {region}")
    code = BIND_CODE.search(inviter.last().text).group(1)
    person = harness.chat(user_id, first_name="区督办", last_name=region or "全市")
    await person.send(f"/bind {code}")
    assert "督办" in person.last().text, person.last().text
    return person

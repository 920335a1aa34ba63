"""Nothing that identifies a complainant reaches the department, its head or a co-complainant: every message
they receive across a whole case — assignment card, evidence, supplements, follow-up answers, replies,
decisions, reminders — is scanned for the complainant's name, username, id, phone, ID-card number and
e-mail, in the forms a citizen actually types them."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import texts
from bot.db.models import Case
from bot.domain.accounts import resolve_actor
from bot.domain.duplicates import join_case
from bot.domain.roles import Actor, Role
from tests.flows import bind_official, skip_details

CITIZEN_ID = 8501
TEXT = ("我是周大成，我公司给市财政局做政府采购项目，供货验收合格已经一年了，采购人一直拖欠货款38万元，"
        "履约保证金也不退。联系电话：１３８－１２３４－５６７８，身份证 3209 0219 8001 0112 34，邮箱 zhou@example.cn")
IDENTIFIERS = [re.compile(p) for p in (
    r"周大成", r"大成", r"zhou_dacheng", str(CITIZEN_ID), r"1234.?5678", r"１２３４", r"3209\s?0219",
    r"zhou@example", r"8001\s?0112",
)]


def leaks(calls) -> list[str]:
    found = []
    for call in calls:
        blob = str(call.params)
        found += [f"{call.method}: {p.pattern}: {blob[:300]}" for p in IDENTIFIERS if p.search(blob)]
    return found


async def test_no_identifier_reaches_the_department_its_head_or_a_co_complainant(harness):
    citizen = harness.chat(CITIZEN_ID, first_name="大成", last_name="周", username="zhou_dacheng")
    official = await bind_official(harness, 8601)
    head = await bind_official(harness, 8602, head=True)
    co = harness.chat(8701, first_name="王", last_name="五")
    supervisor = harness.supervisor()

    await citizen.send(texts.BTN_COMPLAIN)
    await citizen.send(TEXT)
    await citizen.press(citizen.last().buttons[0][1])
    await citizen.tap(texts.BTN_DEPT_UNKNOWN)
    # The project name answered with identifying data, as people do; the rest skipped.
    assert "项目或合同名称" in citizen.last().text
    await citizen.send("周大成的项目，电话13812345678")
    await skip_details(citizen)
    await citizen.photo(caption="周大成 13812345678 的合同")
    await citizen.document("周大成身份证.pdf", caption="身份证 320902198001011234")
    await citizen.tap(texts.BTN_EVIDENCE_DONE)
    await citizen.tap(texts.BTN_CONTACT_YES)
    await citizen.tap(texts.BTN_SUBMIT)
    ref = re.search(r"YC-\d{8}-\d{4}", citizen.last().text).group(0)

    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        joiner = await resolve_actor(session=session, telegram_id=co.user_id, full_name="王五", username=None,
                                     supervisors=(), now=harness.clock.now())
        await join_case(session=session, case=case, actor=Actor(Role.CITIZEN, joiner.account),
                        text="市财政局也拖欠我们的货款", now=harness.clock.now())
        await session.commit()

    await supervisor.send(f"/assign {ref} 市财政局")
    await citizen.send(f"/supplement {ref} 周大成补充：对方说下个月付，电话 138 1234 5678")
    await official.tap(texts.BTN_ACCEPT)
    await official.send(f"/case {ref}")
    await head.send(f"/case {ref}")
    await head.send("/tasks")
    await official.send(f"/reply {ref} 已核实，本月底前支付")
    await official.send(f"/commit {ref} 30个工作日内 支付全部货款")
    await supervisor.tap(texts.BTN_APPROVE)
    await co.send(f"/status {ref}")
    await co.send("/mycases")

    for person in (official, head, co):
        received = harness.request.sent(person.user_id)
        assert received, person.user_id
        assert leaks(received) == [], (person.user_id, leaks(received))
    # The complainant's own file name never reaches the department: documents are uploaded renamed.
    documents = harness.request.sent(official.user_id, method="sendDocument")
    assert documents and all(list(d.params["_files"].values()) == ["证据2.pdf"] for d in documents)

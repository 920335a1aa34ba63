"""Supervisors see any case in full, list cases and assign them; nobody else can, or learns anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import CaseEvent
from tests.flows import PROCUREMENT_TEXT, case_by_ref, file_complaint


@pytest.fixture
async def filed(harness):
    citizen = harness.chat(3001, first_name="张", last_name="三", username="zhangsan")
    ref = await file_complaint(citizen, PROCUREMENT_TEXT, evidence=1)
    return citizen, ref


async def test_case_shows_everything_including_the_complainant(harness, filed):
    _, ref = filed
    supervisor = harness.supervisor()
    await supervisor.send(f"/case {ref}")
    detail = supervisor.last().text
    assert ref in detail and "政府采购" in detail
    assert "张 三" in detail and "@zhangsan" in detail and "ID 3001" in detail
    assert "13812345678" in detail  # supervisors see the original text
    assert "证据：1 份" in detail
    await supervisor.tap("查看证据")
    photo = harness.request.last_to(supervisor.user_id)
    assert photo.method == "sendPhoto" and photo.params["caption"] == "证据1"


@pytest.mark.parametrize("command", ["/case {ref}", "/cases", "/assign {ref} 市财政局"])
async def test_citizens_are_refused_and_learn_nothing(harness, filed, command):
    citizen, ref = filed
    other = harness.chat(3002)
    await other.send(command.format(ref=ref))
    reply = other.last().text
    assert "没有权限" in reply
    assert ref not in reply and "张" not in reply
    assert (await case_by_ref(harness, ref)).status == "submitted"


async def test_case_usage_and_unknown_reference(harness):
    supervisor = harness.supervisor()
    await supervisor.send("/case")
    assert "用法" in supervisor.last().text
    await supervisor.send("/case YC-20261127-0999")
    assert "没有找到" in supervisor.last().text
    await supervisor.send("/case 乱写的")
    assert "不是有效的投诉编号" in supervisor.last().text


async def test_cases_lists_and_filters(harness, filed):
    citizen, ref = filed
    second = await file_complaint(citizen)
    await citizen.send(f"/withdraw {second}")
    await citizen.tap("确认撤回")
    supervisor = harness.supervisor()
    await supervisor.send("/cases")
    assert "共 2 件" in supervisor.last().text
    await supervisor.send("/cases withdrawn")
    listing = supervisor.last()
    assert "共 1 件" in listing.text and [label for label, _ in listing.buttons] == [second]
    await supervisor.send("/cases closed")
    assert "没有符合条件" in supervisor.last().text
    await supervisor.send("/cases 乱七八糟")
    assert "没有“乱七八糟”这种状态" in supervisor.last().text


async def test_assign_routes_the_case_and_tells_the_citizen(harness, filed):
    citizen, ref = filed
    supervisor = harness.supervisor()
    await supervisor.send(f"/assign {ref} 市财政局")
    assert "已分派至 <b>盐城市财政局</b>" in supervisor.last().text
    case = await case_by_ref(harness, ref)
    assert case.status == "assigned" and case.department.name == "盐城市财政局"
    assert "已转交 <b>盐城市财政局</b>" in citizen.last().text
    async with harness.session() as session:
        event = await session.scalar(select(CaseEvent).where(CaseEvent.action == "assign"))
    assert (event.from_status, event.to_status) == ("submitted", "assigned")


async def test_assign_with_an_ambiguous_alias_offers_a_choice(harness, filed):
    _, ref = filed
    supervisor = harness.supervisor()
    await supervisor.send(f"/assign {ref} 住建局")
    choice = supervisor.last()
    assert "对应多个部门" in choice.text and len(choice.buttons) > 1
    assert (await case_by_ref(harness, ref)).status == "submitted"
    label, _ = choice.buttons[0]
    await supervisor.tap(label)
    case = await case_by_ref(harness, ref)
    assert case.status == "assigned" and case.department.name == label


async def test_assign_bad_input(harness, filed):
    _, ref = filed
    supervisor = harness.supervisor()
    await supervisor.send("/assign")
    assert "用法" in supervisor.last().text
    await supervisor.send(f"/assign {ref}")
    assert "用法" in supervisor.last().text
    await supervisor.send(f"/assign {ref} 火星移民局")
    assert "没有找到部门" in supervisor.last().text
    await supervisor.send("/assign YC-20261127-0999 市财政局")
    assert "没有找到" in supervisor.last().text
    assert (await case_by_ref(harness, ref)).status == "submitted"


async def test_assign_a_withdrawn_case_is_refused(harness, filed):
    citizen, ref = filed
    await citizen.send(f"/withdraw {ref}")
    await citizen.tap("确认撤回")
    supervisor = harness.supervisor()
    await supervisor.send(f"/assign {ref} 市财政局")
    assert "不能进行这个操作" in supervisor.last().text
    case = await case_by_ref(harness, ref)
    assert case.status == "withdrawn" and case.department_id is None


async def test_blocked_citizen_is_marked_unreachable_and_assignment_still_succeeds(harness, filed):
    citizen, ref = filed

    def blocked(call):
        if call.method == "sendMessage" and call.chat_id == citizen.user_id:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        return None

    harness.request.faults.append(blocked)
    supervisor = harness.supervisor()
    await supervisor.send(f"/assign {ref} 市财政局")
    assert "已分派" in supervisor.last().text
    case = await case_by_ref(harness, ref)
    assert case.status == "assigned" and case.complainant.unreachable is True

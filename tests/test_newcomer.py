"""What a newcomer tripped on, each through the real Application: whose evidence it is in the timeline, the
commitment a complaint reports shown everywhere, the summary's order, and a new complaint typed into an
unfinished one."""

from __future__ import annotations

import re

from bot import texts
from tests.conftest import SUPERVISOR_ID
from tests.flows import DEBT_TEXT, PROCUREMENT_TEXT, bind_official, rectified_case, skip_details
from tests.test_commitments import register


async def test_rectification_evidence_is_the_departments_in_every_timeline(harness):
    citizen = harness.chat(8301)
    official = await bind_official(harness, 8401)
    ref = await rectified_case(harness, citizen, official)
    await official.photo(caption="付款凭证")
    await citizen.send(f"/status {ref}")
    assert "承办部门提交整改证据" in citizen.last().text
    assert "投诉人补充证据" not in citizen.last().text
    await harness.supervisor().send(f"/case {ref}")
    view = "\n".join(c.text for c in harness.request.messages_to(SUPERVISOR_ID)[-3:])
    assert "承办部门提交整改证据" in view and "投诉人补充证据" not in view


async def test_a_complaint_about_a_register_commitment_names_it(harness):
    public = await register(harness)
    citizen = harness.chat(8302)
    await citizen.send(f"/commitment {public}")
    await citizen.tap(texts.BTN_REPORT_UNKEPT)
    await citizen.send("到了约定时间补贴只拨付了一半，剩下的一直拖着不给，去问也说没钱")
    await citizen.tap(texts.BTN_EVIDENCE_SKIP)
    await citizen.tap(texts.BTN_CONTACT_YES)
    assert public in citizen.last().text                     # the summary
    await citizen.tap(texts.BTN_SUBMIT)
    ref = re.search(r"YC-\d{8}-\d{4}", citizen.last().text).group(0)
    await citizen.send(f"/status {ref}")
    assert public in citizen.last().text
    await harness.supervisor().send(f"/case {ref}")
    assert any(public in c.text for c in harness.request.messages_to(SUPERVISOR_ID)[-3:])


async def test_the_summary_starts_with_its_heading(harness):
    citizen = harness.chat(8303)
    await citizen.send(DEBT_TEXT)
    await citizen.press(citizen.last().buttons[0][1])
    await citizen.tap(texts.BTN_DEPT_UNKNOWN)
    await skip_details(citizen)
    await citizen.tap(texts.BTN_EVIDENCE_SKIP)
    await citizen.tap(texts.BTN_CONTACT_YES)
    assert citizen.last().text.startswith("<b>请确认投诉内容</b>")


async def test_a_new_complaint_typed_into_an_unfinished_one_is_not_swallowed(harness):
    citizen = harness.chat(8304)
    await citizen.send(PROCUREMENT_TEXT)
    await citizen.press(citizen.last().buttons[0][1])      # now at the department step
    assert "哪个部门" in citizen.last().text
    await citizen.send(DEBT_TEXT)
    assert "新的投诉" in citizen.last().text
    await citizen.tap(texts.BTN_START_NEW)
    assert "地方政府债务" in citizen.last().text           # the new text was classified, not searched
    await citizen.send("/start")
    assert texts.UNFINISHED_DRAFT in citizen.last().text


async def test_keeping_the_old_complaint_goes_back_to_where_it_was(harness):
    citizen = harness.chat(8305)
    await citizen.send(PROCUREMENT_TEXT)
    await citizen.press(citizen.last().buttons[0][1])
    await citizen.send(DEBT_TEXT)
    await citizen.tap(texts.BTN_CONTINUE_OLD)
    assert "哪个部门" in citizen.last().text
    await citizen.send("市财政局")                           # a short name is still a department search
    assert "财政局" in str(citizen.last().buttons)

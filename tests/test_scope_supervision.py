"""A regional supervisor acts on their region only, and learns nothing of the rest; forged button data is
answered as a stale button; invited supervisors can be unbound, and that is audited."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot import texts
from bot.db.models import Account, AccountEvent, Commitment
from handlers import commitments as commitment_handlers
from handlers import access, case_view, review, supervision, supervisor
from handlers.codec import BadData
from tests.flows import (
    BIND_CODE, PROCUREMENT_TEXT, accepted_case, assigned_case, bind_official, case_by_ref, file_complaint,
    regional_supervisor,
)

PHONE = "13812345678"
NAME, USERNAME = "吴", "wu_tousu"


def leaks(harness, chat_id: int, since: int) -> list[str]:
    """Anything sent to `chat_id` since call number `since` that names the complainant or their phone."""
    return [str(c.params) for c in harness.request.calls[since:]
            if c.chat_id == chat_id and any(s in str(c.params) for s in (NAME, USERNAME, PHONE, "采购人一直拖欠"))]


def not_found_text(ref: str) -> str:
    return texts.plain(texts.refusal("case_not_found", {"ref": ref}, role="supervisor"))


@pytest.fixture
async def world(harness):
    """Two cases: one assigned to a tinghu department, one to a city department, and one unassigned."""
    citizen = harness.chat(8001, first_name=NAME, last_name="投诉人", username=USERNAME)
    city_official = await bind_official(harness, 8101)
    tinghu_official = await bind_official(harness, 8102, department="亭湖区财政局")
    city_ref = await accepted_case(harness, citizen, city_official)
    tinghu_ref = await accepted_case(harness, citizen, tinghu_official, department="亭湖区财政局")
    loose_ref = await file_complaint(citizen)
    regional = await regional_supervisor(harness, 8201, "tinghu")
    return {"citizen": citizen, "city_official": city_official, "tinghu_official": tinghu_official,
            "city": city_ref, "tinghu": tinghu_ref, "loose": loose_ref, "regional": regional,
            "new": {"city": await assigned_case(harness, citizen),
                    "tinghu": await assigned_case(harness, citizen, "亭湖区财政局")}}


async def test_case_in_and_out_of_region(harness, world):
    regional = world["regional"]
    await regional.send(f"/case {world['tinghu']}")
    assert world["tinghu"] in regional.last().text and "采购人一直拖欠" in regional.last().text
    seen = len(harness.request.calls)
    for ref in (world["city"], world["loose"]):
        await regional.send(f"/case {ref}")
        refused = regional.last().text
        await regional.send("/case YC-20261127-0999")
        assert refused == regional.last().text.replace("YC-20261127-0999", ref)
    for data in (f"vc:{world['city']}", f"ev:{world['city']}", f"vc:{world['loose']}"):
        await regional.press(data)
        assert harness.request.calls[-1].method == "answerCallbackQuery", data
        assert "没有找到" in harness.request.calls[-1].params["text"], data
    for command in ("/overdue", "/stats", "/score", f"/domain {world['city']} debt"):
        await regional.send(command)
    assert (await case_by_ref(harness, world["city"])).domain == "procurement"
    assert not leaks(harness, regional.user_id, seen)


async def test_cases_and_find_list_the_region_only(harness, world):
    regional = world["regional"]
    await regional.send("/cases")
    listing = regional.last()
    mine = sorted([world["tinghu"], world["new"]["tinghu"]])
    assert sorted(label for label, _ in listing.buttons) == mine, listing.text
    assert world["city"] not in listing.text and world["loose"] not in listing.text
    await regional.send("/find 拖欠")
    found = regional.last()
    assert sorted(label for label, _ in found.buttons) == mine, found.text
    await regional.send("/cases dept=市财政局")
    assert "没有找到" in regional.last().text or "共" not in regional.last().text
    # The city supervisor still sees everything.
    await harness.supervisor().send("/cases")
    assert "共 5 件" in harness.supervisor().last().text


async def test_reject_and_assign_in_and_out_of_region(harness, world):
    regional, new = world["regional"], world["new"]
    seen = len(harness.request.calls)
    await regional.send(f"/reject {new['city']} 重复投诉")
    assert "没有找到" in regional.last().text
    assert (await case_by_ref(harness, new["city"])).status == "assigned"
    await regional.send(f"/assign {new['city']} 亭湖区财政局")
    assert "没有找到" in regional.last().text
    assert (await case_by_ref(harness, new["city"])).department.code == "city-czj"
    await regional.send(f"/assign {world['loose']} 亭湖区财政局")
    assert "没有找到" in regional.last().text
    assert (await case_by_ref(harness, world["loose"])).status == "submitted"
    await regional.press(f"as:{new['city']}:tinghu-czj")
    assert (await case_by_ref(harness, new["city"])).department.code == "city-czj"
    # In region, but to a department outside it: refused as out of region.
    await regional.send(f"/assign {new['tinghu']} 盐城市财政局")
    assert "不在您负责的区域" in regional.last().text
    assert (await case_by_ref(harness, new["tinghu"])).department.code == "tinghu-czj"
    assert not leaks(harness, regional.user_id, seen)

    await regional.send(f"/assign {new['tinghu']} 亭湖区住房和城乡建设局")
    assert "已分派" in regional.last().text
    assert (await case_by_ref(harness, new["tinghu"])).department.code == "tinghu-zjj"
    await regional.send(f"/reject {new['tinghu']} 重复投诉")
    assert "不予受理" in regional.last().text or (await case_by_ref(harness, new["tinghu"])).status == "rejected"
    assert (await case_by_ref(harness, new["tinghu"])).status == "rejected"


async def test_decisions_in_and_out_of_region(harness, world):
    regional = world["regional"]
    seen = len(harness.request.calls)
    await world["city_official"].send(f"/commit {world['city']} 2026年12月31日 支付全部货款")
    await world["tinghu_official"].send(f"/commit {world['tinghu']} 2026年12月31日 支付全部货款")
    # Only the tinghu commitment was announced to the regional supervisor.
    notices = [c.text for c in harness.request.calls[seen:] if c.chat_id == regional.user_id]
    assert any(world["tinghu"] in t for t in notices) and not any(world["city"] in t for t in notices)
    async with harness.session() as session:
        by_case = {c.case_id: c.id for c in (await session.scalars(select(Commitment))).all()}
    city_id = by_case[(await case_by_ref(harness, world["city"])).id]
    tinghu_id = by_case[(await case_by_ref(harness, world["tinghu"])).id]

    await regional.press(f"cmd:{city_id}:1")
    assert harness.request.calls[-1].params.get("text") == texts.STALE_BUTTON
    async with harness.session() as session:
        assert (await session.get(Commitment, city_id)).status == "proposed"
    await regional.press(f"cmd:{tinghu_id}:1")
    async with harness.session() as session:
        assert (await session.get(Commitment, tinghu_id)).status == "approved"
    assert not leaks(harness, regional.user_id, seen)


async def test_a_regional_supervisor_invites_only_their_region(harness, world):
    regional = world["regional"]
    for command in ("/invite supervisor", "/invite supervisor binhai"):
        await regional.send(command)
        assert "只能邀请本区域的督办人员" in regional.last().text, command
        assert not BIND_CODE.search(regional.last().text)
    await regional.send("/invite 市财政局")
    assert not BIND_CODE.search(regional.last().text)
    await regional.send("/invite 亭湖区财政局")
    assert BIND_CODE.search(regional.last().text)
    deputy = await regional_supervisor(harness, 8202, "tinghu", by=regional)
    await deputy.send("/cases")
    assert world["tinghu"] in str(deputy.last().buttons) and world["city"] not in str(deputy.last().buttons)


async def test_an_invited_supervisor_can_be_unbound_and_it_is_audited(harness, world, caplog):
    regional = world["regional"]
    city_wide = await regional_supervisor(harness, 8203, "")
    # A regional supervisor can neither unbind a city-wide one nor a configured one; same refusal as unknown.
    for target in (city_wide.user_id, harness.supervisor().user_id, 999999):
        await regional.send(f"/unbind {target}")
        assert "没有找到这位承办人或督办人员" in regional.last().text
    await regional.send("/unbind ²")
    assert "用法" in regional.last().text
    await regional.send("/unbind 99999999999999999999")
    assert "用法" in regional.last().text

    await regional.send("/officials supervisor")
    assert "没有可由您解除的督办人员" in regional.last().text
    await harness.supervisor().send("/officials supervisor")
    listing = harness.supervisor().last()
    assert f"ID {regional.user_id}" in listing.text and "tinghu" in listing.text
    assert f"ub:{regional.user_id}" in [data for _, data in listing.buttons]

    caplog.set_level(logging.INFO, logger="chengxin.audit")
    await harness.supervisor().send(f"/unbind {regional.user_id}")
    assert "督办人员身份" in harness.supervisor().last().text
    assert "督办人员身份已被解除" in regional.last().text
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == regional.user_id))
    assert account.role == "citizen" and account.region is None
    # The invitations and bindings before it are logged too (and are rows as well): one unbind line.
    audit = [r for r in caplog.records if r.name == "chengxin.audit" and "action=unbind" in r.getMessage()]
    assert len(audit) == 1
    assert audit[0].audit["before"] == {"role": "supervisor", "department_id": None, "is_head": False,
                                        "region": "tinghu"}
    async with harness.session() as session:
        row = await session.scalar(select(AccountEvent).where(AccountEvent.action == "unbind"))
    assert (row.account_id, row.before) == (account.id, audit[0].audit["before"])
    await regional.send("/cases")
    assert "没有权限" in regional.last().text


FORGED = [
    "as:", "as:YC-20261127-0001", "as:YC-20261127-0001:", "as:YC-20261127-0001:" + "x" * 41, "as:乱:city-czj",
    "ev:", "ev:YC-20261127-0001:x", "vc:", "vc:²",
    "cmd:", "cmd:1", "cmd:99999999999999999999:1", "cmd:²:1", "cmd:1:2", "exd:1:1:1", "obd:-1:1", "rpd:1:",
    "ub:", "ub:²", "ub:99999999999999999999",
    "cm:", "cm:XX", "cml:", "cml:x", "cml:x:0", "cml:x:²", "ck:1", "ck:1:2", "cr:99999999999999999999:1",
    "cv:1:x", "cv:1", "ru:", "ru:abc", "ru:²",
    "fd:", "fd:abc", "fd:abc:0", "fd::1", "cf:", "cf:9-0::::1", "cf:--0:x:::1", "cf:--0::20261301:20261131:1",
    "cf:--0::::99999999999999999999", "rr:", "rr:1:2026-13", "rr:²:2026-11",
]


@pytest.mark.parametrize("data", FORGED)
def test_forged_data_is_refused_by_the_codecs(data):
    codecs = [supervisor.ASSIGN, case_view.EVIDENCE, case_view.VIEW_CASE, supervisor.DECISION, access.UNBIND,
              commitment_handlers.COMMITMENT, commitment_handlers.COMMITMENTS_PAGE, commitment_handlers.CONCLUDE,
              commitment_handlers.REGISTRATION, commitment_handlers.AMEND_DECISION, commitment_handlers.REPORT_UNKEPT,
              supervision.FIND_PAGE, supervision.CASES_PAGE, review.REPORT_READ]
    import re

    matching = [c for c in codecs if re.match(c.pattern, data)]
    assert matching, data
    for codec in matching:
        with pytest.raises(BadData):
            codec.parse(data)


async def test_forged_presses_get_the_stale_alert_and_no_error(harness, caplog):
    caplog.set_level(logging.INFO)
    await file_complaint(harness.chat(8001), PROCUREMENT_TEXT)
    supervisor_chat = harness.supervisor()
    for data in FORGED:
        seen = len(harness.request.calls)
        await supervisor_chat.press(data)
        answers = [c for c in harness.request.calls[seen:] if c.method == "answerCallbackQuery"]
        assert len(answers) == 1 and answers[0].params.get("text") == texts.STALE_BUTTON, (data, answers)
        assert not [c for c in harness.request.calls[seen:] if c.method == "sendMessage"], data
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_codecs_build_what_they_parse():
    assert supervisor.ASSIGN.parse(supervisor.ASSIGN.build("YC-20261127-0001", "city-czj")) == \
        ("YC-20261127-0001", "city-czj")
    assert supervisor.DECISION.parse("cmd:12:1") == ("cmd", 12, "1")
    assert supervision.CASES_PAGE.parse("cf:3-1:12:20261101:20261130:2")[1:] == \
        (12, __import__("datetime").date(2026, 11, 1), __import__("datetime").date(2026, 11, 30), 2)
    assert commitment_handlers.COMMITMENTS_PAGE.parse("cml::2") == ("", 2)


async def test_a_long_case_view_is_split_and_sent(harness):
    citizen = harness.chat(8001, first_name=NAME, last_name="投诉人", username=USERNAME)
    ref = await file_complaint(citizen)
    for number in range(14):
        await citizen.send(f"/supplement {ref} 第{number}次补充：" + "对方仍未付款，" * 45)
    supervisor_chat = harness.supervisor()
    seen = len(harness.request.calls)
    await supervisor_chat.send(f"/case {ref}")
    parts = [c for c in harness.request.calls[seen:] if c.method == "sendMessage" and c.chat_id == SUPERVISOR]
    assert len(parts) >= 2 and all(len(c.text) <= 4096 for c in parts)
    assert ref in parts[0].text and "第13次补充" in "".join(c.text for c in parts)


SUPERVISOR = 90001

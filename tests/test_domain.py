"""Domain rules without Telegram: references, the state machine, the audit chain, the directory import."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from bot.db.models import Case, CaseEvent, Department
from bot.domain.audit import verify_chains
from bot.domain.cases import change_status
from bot.domain.departments import import_directory
from bot.domain.errors import Forbidden, InvalidTransition
from bot.domain.refs import next_sequence, normalize_ref
from bot.domain.roles import SYSTEM, Actor, Role
from tests.flows import case_by_ref, file_complaint


@pytest.mark.parametrize("raw, expected", [
    ("YC-20261127-0042", "YC-20261127-0042"),
    (" yc-20261127-0042 ", "YC-20261127-0042"),
    ("YC－20261127－0042", "YC-20261127-0042"),
    ("YC-20261127-12345", "YC-20261127-12345"),
    ("YC20261127-0042", None),
    ("20261127", None),
    ("<b>YC-1-1</b>", None),
])
def test_normalize_ref(raw, expected):
    assert normalize_ref(raw) == expected


async def test_sequence_never_repeats_under_concurrency(harness):
    async def bump() -> int:
        async with harness.session() as session:
            value = await next_sequence(session=session)
            await session.commit()
            return value

    values = await asyncio.gather(*(bump() for _ in range(20)))
    assert sorted(values) == list(range(1, 21))


async def test_state_machine_refuses_wrong_role_and_wrong_state(harness):
    ref = await file_complaint(harness.chat(4001))
    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        with pytest.raises(InvalidTransition):
            await change_status(session=session, case=case, action="verify", actor=Actor(Role.SUPERVISOR, None),
                                now=harness.clock.now(), deadlines=harness.services.deadlines)
        with pytest.raises(Forbidden):
            await change_status(session=session, case=case, action="withdraw", actor=SYSTEM,
                                now=harness.clock.now(), deadlines=harness.services.deadlines)
        assert case.status == "submitted"
        events = (await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
        assert len(events) == 1


async def test_audit_chain_detects_tampering(harness):
    citizen = harness.chat(4002)
    ref = await file_complaint(citizen)
    await citizen.send(f"/supplement {ref} 第一次补充")
    await harness.supervisor().send(f"/assign {ref} 市财政局")
    async with harness.session() as session:
        checked, broken = await verify_chains(session=session)
        assert (checked, broken) == (1, [])
        await session.execute(update(CaseEvent).where(CaseEvent.seq == 2).values(note="改过的"))
        await session.commit()
    async with harness.session() as session:
        _, broken = await verify_chains(session=session)
    assert [(b.case_ref, b.seq) for b in broken] == [(ref, 2)]


async def test_directory_import_is_all_or_nothing(harness):
    good = "code,name,kind,parent,region,aliases\nnew-bureau,新设局,municipal,,city,新局|新设局简称\n"
    bad = good + "broken,,municipal,,city,\nweird,奇怪局,planet,,city,\n"
    async with harness.session() as session:
        report = await import_directory(session=session, raw=bad.encode())
        assert any("第 3 行" in e for e in report.errors) and any("第 4 行" in e for e in report.errors)
        assert await session.scalar(select(Department).where(Department.code == "new-bureau")) is None
        report = await import_directory(session=session, raw="名称,代码\n财政局,x\n".encode("gbk"))
        assert "缺少列" in report.errors[0]  # GBK is read; the columns are wrong
        report = await import_directory(session=session, raw=good.encode())
        assert report.errors == [] and report.created == 1
        await session.commit()
    async with harness.session() as session:
        department = await session.scalar(select(Department).where(Department.code == "new-bureau"))
        assert sorted(a.alias for a in department.aliases) == ["新局", "新设局简称"]


async def test_case_ref_uses_local_date(harness):
    # 23:30 in Shanghai is still the same local day although UTC is 15:30.
    harness.clock.set(harness.clock.now().replace(hour=23, minute=30))
    ref = await file_complaint(harness.chat(4003))
    assert ref.startswith("YC-20261127-")
    case = await case_by_ref(harness, ref)
    assert case.created_at.tzinfo is not None

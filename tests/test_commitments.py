"""The commitment register (承诺台账): registered, reminded, kept or broken, amended only with approval,
imported from a ledger all-or-nothing, and open to citizens where public."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Case, Commitment, CommitmentEvent, CommitmentVersion, DishonestyRecord, Obligation, Reminder
from bot.domain.audit import verify_chains
from bot.domain.commitments import import_ledger
from bot.domain.roles import Actor, Role
from tests.conftest import SHANGHAI
from tests.flows import bind_official

REF = re.compile(r"CN-\d{4}-\d{4}")
REGISTER = "/register 亭湖区人民政府 | 2027年6月30日 | 兑现设备补贴500万元 | 亭湖区招商协议第5条 | 500万元 | 公开"


async def register(harness, line: str = REGISTER) -> str:
    supervisor = harness.supervisor()
    await supervisor.send(line)
    match = REF.search(supervisor.last().text)
    assert match and "已登记" in supervisor.last().text, supervisor.last().text
    return match.group(0)


async def clocks(harness, ref):
    async with harness.session() as session:
        commitment = await session.scalar(select(Commitment).where(Commitment.ref == ref))
        rows = (await session.scalars(select(Obligation).where(Obligation.commitment_id == commitment.id)
                                      .order_by(Obligation.id))).all()
    return [(o.state, o.due_at.astimezone(SHANGHAI).date()) for o in rows]


async def test_supervisor_registers_and_the_clock_and_ladder_start(harness):
    ref = await register(harness)
    assert await clocks(harness, ref) == [("open", date(2027, 6, 30))]
    async with harness.session() as session:
        commitment = await session.scalar(select(Commitment).where(Commitment.ref == ref))
        reminders = await session.scalar(select(func.count(Reminder.id)).join(Obligation)
                                         .where(Obligation.commitment_id == commitment.id))
    assert commitment.amount == 5_000_000 and commitment.is_public and commitment.source == "亭湖区招商协议第5条"
    assert reminders >= 4


async def test_registration_bad_input_changes_nothing(harness):
    supervisor = harness.supervisor()
    await supervisor.send("/register")
    assert "用法" in supervisor.last().text
    await supervisor.send("/register 火星局 | 2027年6月30日 | 内容")
    assert "没有找到部门" in supervisor.last().text
    await supervisor.send("/register 亭湖区人民政府 | 2020年1月1日 | 内容")
    assert "已经过去了" in supervisor.last().text
    await supervisor.send("/register 亭湖区人民政府 | 2027年6月30日 | 内容 | 来源 | 好多钱")
    assert "金额" in supervisor.last().text
    await harness.chat(11001).send(REGISTER)
    assert "没有权限" in harness.chat(11001).last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Commitment.id))) == 0


async def test_duplicate_registration_warns_and_links(harness):
    ref = await register(harness)
    supervisor = harness.supervisor()
    await supervisor.send(REGISTER.replace("兑现设备补贴500万元", "兑现设备补贴 500万元。"))
    assert "已经登记过了" in supervisor.last().text and ref in supervisor.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Commitment.id))) == 1


async def test_official_proposes_supervisor_approves(harness):
    official = await bind_official(harness, 11101, department="亭湖区人民政府")
    await official.send("/register 亭湖区人民政府 | 2027年3月31日 | 修复黄尖镇道路 | 镇政府公开承诺 | | 公开")
    assert "提交督办部门审核" in official.last().text
    ref = REF.search(official.last().text).group(0)
    await harness.chat(11002).send("/commitments 黄尖镇")
    assert "没有符合条件" in harness.chat(11002).last().text     # not public before approval
    assert await clocks(harness, ref) == []
    await harness.supervisor().tap(texts.BTN_APPROVE)
    assert await clocks(harness, ref) == [("open", date(2027, 3, 31))]
    other = await bind_official(harness, 11102, department="盐城市财政局")
    await other.send("/register 亭湖区人民政府 | 2027年3月31日 | 别的部门的承诺")
    assert "没有权限" in other.last().text


async def test_citizens_see_only_public_commitments_and_can_report_them(harness):
    public = await register(harness)
    hidden = await register(harness, REGISTER.replace("公开", "不公开").replace("500万元 | ", "100万元 | ")
                            .replace("设备补贴500万元", "厂房租金减免"))
    citizen = harness.chat(11003)
    await citizen.send("/commitments 亭湖区")
    listing = citizen.last()
    assert public in listing.text and hidden not in listing.text
    await citizen.send(f"/commitment {hidden}")
    assert "没有找到承诺" in citizen.last().text
    await citizen.send(f"/commitment {public}")
    assert "v1" in citizen.last().text
    await citizen.tap(texts.BTN_REPORT_UNKEPT)
    assert "举报承诺" in citizen.last().text
    await citizen.send("到了约定时间补贴只拨付了一半，剩下的一直拖着不给，去问也说没钱")
    assert "照片或文件" in citizen.last().text          # department and domain already known
    await citizen.tap(texts.BTN_EVIDENCE_SKIP)
    await citizen.tap(texts.BTN_CONTACT_YES)
    assert "亭湖区人民政府" in citizen.last().text
    await citizen.tap(texts.BTN_SUBMIT)
    assert "已立案" in citizen.last().text
    async with harness.session() as session:
        case = await session.scalar(select(Case))
        commitment = await session.scalar(select(Commitment).where(Commitment.ref == public))
    assert case.commitment_id == commitment.id and case.department_id == commitment.department_id


async def test_kept_on_time_and_broken_create_the_right_records(harness):
    official = await bind_official(harness, 11103, department="亭湖区人民政府")
    kept = await register(harness)
    broken = await register(harness, REGISTER.replace("设备补贴500万元", "人才公寓20套"))
    await official.send(f"/fulfilled {kept} 补贴已于今日全额拨付")
    supervisor = harness.supervisor()
    assert "报告承诺" in supervisor.last().text
    await supervisor.tap(texts.BTN_CONFIRM_KEPT)
    assert "按期" in supervisor.last().text
    assert await clocks(harness, kept) == [("met", date(2027, 6, 30))]

    harness.clock.set(datetime(2027, 7, 5, 10, 0, tzinfo=SHANGHAI))
    await supervisor.send(f"/broken {broken} 到期未交付")
    assert "未兑现" in supervisor.last().text
    assert "失信记录" in official.last().text
    async with harness.session() as session:
        records = (await session.scalars(select(DishonestyRecord))).all()
    assert len(records) == 1 and "人才公寓" in records[0].summary and records[0].case_id is None
    assert await clocks(harness, broken) == [("missed", date(2027, 6, 30))]
    await supervisor.send(f"/kept {broken}")
    assert "不能进行这个操作" in supervisor.last().text


async def test_a_promise_cannot_be_quietly_rewritten(harness):
    official = await bind_official(harness, 11104, department="亭湖区人民政府")
    ref = await register(harness)
    await official.send(f"/amend {ref} 日期 2027年9月30日")
    assert "理由" in official.last().text
    await official.send(f"/amend {ref} 颜色 红色 / 想改")
    assert "不能变更" in official.last().text
    await official.send(f"/amend {ref} 日期 2027年9月30日 / 设备进口延误，经协商顺延")
    assert "第 2 版" in official.last().text
    assert await clocks(harness, ref) == [("open", date(2027, 6, 30))]    # nothing moves before approval
    await official.send(f"/amend {ref} 金额 300万元 / 再改一次")
    assert "等待审批" in official.last().text
    await harness.supervisor().tap(texts.BTN_CHANGE_WITH_COMPENSATION)
    assert await clocks(harness, ref) == [("extended", date(2027, 6, 30)), ("open", date(2027, 9, 30))]
    async with harness.session() as session:
        commitment = await session.scalar(select(Commitment).where(Commitment.ref == ref))
        versions = (await session.scalars(select(CommitmentVersion).order_by(CommitmentVersion.version))).all()
        old_pending = await session.scalar(select(func.count(Reminder.id)).join(Obligation).where(
            Obligation.commitment_id == commitment.id, Obligation.state == "extended", Reminder.state == "pending"))
    assert commitment.due_on == date(2027, 9, 30) and commitment.version == 2
    assert [(v.version, v.due_on, v.state, v.compensation) for v in versions] == [
        (1, date(2027, 6, 30), "approved", None), (2, date(2027, 9, 30), "approved", "decided")]
    assert old_pending == 0
    await harness.chat(11004).send(f"/commitment {ref}")
    history = harness.chat(11004).last().text
    assert "v1" in history and "v2" in history and "设备进口延误" in history and "已决定补偿" in history
    async with harness.session() as session:
        actions = (await session.scalars(select(CommitmentEvent.action).order_by(CommitmentEvent.seq))).all()
        assert (await verify_chains(session=session))[1] == []
    assert actions == ["register", "change_proposed", "change_approved"]


async def test_overdue_list_and_fulfilment_rates_for_supervisors(harness):
    official = await bind_official(harness, 11105, department="亭湖区人民政府")
    on_time = await register(harness, REGISTER.replace("2027年6月30日", "2026年12月31日"))
    late = await register(harness, REGISTER.replace("2027年6月30日", "2026年12月15日").replace("设备", "场地"))
    await official.send(f"/fulfilled {on_time} 已拨付")
    await harness.supervisor().send(f"/kept {on_time}")
    harness.clock.set(datetime(2026, 12, 20, 10, 0, tzinfo=SHANGHAI))
    supervisor = harness.supervisor()
    await supervisor.send("/commitments overdue")
    assert late in supervisor.last().text and on_time not in supervisor.last().text
    await official.send(f"/fulfilled {late} 晚了几天才拨付")
    await supervisor.send(f"/kept {late}")
    assert "逾期" in supervisor.last().text
    await supervisor.send("/commitments rate 2026-12")
    assert "按期 1，逾期兑现 1，未兑现 0" in supervisor.last().text and "50%" in supervisor.last().text
    await harness.chat(11005).send("/commitments overdue")
    assert "没有权限" in harness.chat(11005).last().text


async def test_ledger_import_is_all_or_nothing_and_reads_gbk(harness):
    header = "department,content,source,due_date,amount,public,domain\n"
    good = (header + "亭湖区人民政府,兑现设备补贴500万元,招商协议第5条,2027-06-30,500万元,是,investment\n"
            "市财政局,支付采购尾款,合同2026-18号,2027年3月31日,38万元,否,procurement\n")
    bad = good + "火星局,内容,,2027-01-01,,是,\n亭湖区人民政府,,来源,明年某天,很多,也许,weird\n"
    actor = Actor(Role.SUPERVISOR)
    now, deadlines = harness.clock.now(), harness.services.deadlines
    async with harness.session() as session:
        report = await import_ledger(session=session, raw=bad.encode("utf-8"), actor=actor, now=now, deadlines=deadlines)
        assert [e.split("：")[0] for e in report.errors] == ["第 4 行", "第 5 行"]
        assert "火星局" in report.errors[0] and "缺少承诺内容" in report.errors[1] and "是/否" in report.errors[1]
        assert await session.scalar(select(func.count(Commitment.id))) == 0
        report = await import_ledger(session=session, raw=good.encode("gbk"), actor=actor, now=now, deadlines=deadlines)
        assert report.errors == [] and report.encoding == "gbk" and len(report.created) == 2
        await session.commit()
    async with harness.session() as session:
        again = await import_ledger(session=session, raw=good.encode("utf-8"), actor=actor, now=now, deadlines=deadlines)
        assert again.created == [] and len(again.duplicates) == 2
        private = await session.scalar(select(Commitment).where(Commitment.content == "支付采购尾款"))
    assert private.is_public is False and private.amount == 380000 and private.domain == "procurement"

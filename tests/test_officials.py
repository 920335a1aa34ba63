"""Invites, binding and unbinding of officials (and supervisors), each a row in account_events, and the
access log supervisors read, limited to their region."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.db.models import Account, AccountEvent, BindFailure, Department, Invite
from bot.domain.errors import DomainError
from bot.domain.officials import revoke_account
from bot.domain.roles import Actor, Role
from tests.flows import BIND_CODE, bind_official, invite_code, regional_supervisor


async def test_invite_and_bind(harness):
    code = await invite_code(harness, "市财政局", head=True)
    # The code is the one the /bind line shows (its random letters and digits may contain anything, e.g. 72).
    assert "部门负责人" in harness.supervisor().last().text and f"/bind {code}" in harness.supervisor().last().text
    official = harness.chat(6001, first_name="赵", last_name="科长")
    await official.send(f"/bind {code.lower()}")
    assert "盐城市财政局" in official.last().text and "负责人" in official.last().text
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == 6001))
        invite = await session.scalar(select(Invite))
    assert account.role == "official" and account.is_head and account.department.name == "盐城市财政局"
    assert invite.used_by_id == account.id and code not in invite.code_hash


async def test_codes_are_single_use_and_expire(harness):
    code = await invite_code(harness)
    await harness.chat(6002).send(f"/bind {code}")
    second = harness.chat(6003)
    await second.send(f"/bind {code}")
    assert "已经被使用过" in second.last().text
    stale = await invite_code(harness)
    harness.clock.advance(hours=73)
    await second.send(f"/bind {stale}")
    assert "已过期" in second.last().text
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == 6003))
    assert account.role == "citizen"


async def test_five_wrong_codes_lock_binding_for_an_hour(harness):
    good = await invite_code(harness)
    guesser = harness.chat(6004)
    for attempt in range(5):
        await guesser.send(f"/bind WRONG-CODE{attempt}")
        assert "不正确" in guesser.last().text
    await guesser.send(f"/bind {good}")
    assert "次数过多" in guesser.last().text
    harness.clock.advance(minutes=61)
    await guesser.send(f"/bind {good}")
    assert "绑定成功" in guesser.last().text


async def test_bind_without_code_and_invite_refused_to_non_supervisors(harness):
    citizen = harness.chat(6005)
    await citizen.send("/bind")
    assert "用法" in citizen.last().text
    await citizen.send("/invite 市财政局")
    assert "没有权限" in citizen.last().text and not BIND_CODE.search(citizen.last().text)
    supervisor = harness.supervisor()
    await supervisor.send("/invite")
    assert "用法" in supervisor.last().text
    await supervisor.send("/invite 火星局")
    assert "没有找到部门" in supervisor.last().text


async def test_list_and_unbind_officials(harness):
    await bind_official(harness, 6006, first_name="钱", last_name="一")
    await bind_official(harness, 6007, first_name="孙", last_name="二")
    supervisor = harness.supervisor()
    await supervisor.send("/officials 市财政局")
    listing = supervisor.last()
    assert "2 人" in listing.text and "钱 一" in listing.text and "ID 6007" in listing.text
    await supervisor.tap("解除绑定：孙 二")
    assert "已解除" in supervisor.last().text
    assert "已被督办部门解除" in harness.chat(6007).last().text
    await supervisor.send("/unbind 6006")
    await supervisor.send("/unbind 6006")
    assert "没有找到这位承办人" in supervisor.last().text
    await supervisor.send("/officials 市财政局")
    assert "还没有绑定承办人" in supervisor.last().text
    await harness.chat(6006).send("/tasks")
    assert "仅供承办人" in harness.chat(6006).last().text


async def test_supervisor_invites_another_supervisor(harness):
    supervisor = harness.supervisor()
    await supervisor.send("/invite supervisor tinghu")
    code = BIND_CODE.search(supervisor.last().text).group(1)
    newcomer = harness.chat(6008)
    await newcomer.send(f"/bind {code}")
    assert "督办人员" in newcomer.last().text
    await newcomer.send("/cases")
    assert "没有符合条件" in newcomer.last().text or "案件列表" in newcomer.last().text


# --- account_events: who was given or lost the right to act as staff --------------------------------------


async def account_events(harness) -> list[AccountEvent]:
    async with harness.session() as session:
        return list((await session.scalars(select(AccountEvent).order_by(AccountEvent.id))).all())


async def account_of(harness, telegram_id: int) -> Account:
    async with harness.session() as session:
        return await session.scalar(select(Account).where(Account.telegram_id == telegram_id))


ACCESS_KEYS = {"role", "department_id", "is_head", "region"}


async def test_invite_bind_and_unbind_each_write_an_account_event(harness):
    supervisor = harness.supervisor()
    await bind_official(harness, 6010, head=True, first_name="周", last_name="三")
    await supervisor.send("/unbind 6010")
    assert "已解除" in supervisor.last().text
    boss, official = await account_of(harness, supervisor.user_id), await account_of(harness, 6010)
    async with harness.session() as session:
        department = await session.scalar(select(Department).where(Department.code == "city-czj"))
        invite = await session.scalar(select(Invite))
    invited, bound, unbound = await account_events(harness)

    assert (invited.action, invited.account_id, invited.actor_account_id, invited.invite_id, invited.before) == \
        ("invite", None, boss.id, invite.id, None)
    assert invited.after == {"role": "official", "department_id": department.id, "is_head": True, "region": None}
    assert (bound.action, bound.account_id, bound.actor_account_id, bound.invite_id) == \
        ("bind", official.id, official.id, invite.id)
    assert bound.before == {"role": "citizen", "department_id": None, "is_head": False, "region": None}
    assert bound.after == invited.after
    assert (unbound.action, unbound.account_id, unbound.actor_account_id) == ("unbind", official.id, boss.id)
    assert (unbound.before, unbound.after) == (bound.after, bound.before)
    for event in (invited, bound, unbound):
        assert event.created_at.tzinfo is not None and event.created_at == harness.clock.now()
        # the access only: nothing a complainant wrote, no names
        assert all(set(side) == ACCESS_KEYS for side in (event.before, event.after) if side is not None)

    await supervisor.send("/accesslog")
    log = supervisor.last().text
    assert "权限变更记录" in log and "3 条" in log
    lines = log.split("\n")[1:]
    assert "解除绑定" in lines[0] and "周 三（ID 6010）" in lines[0] and "承办人 · 盐城市财政局（部门负责人） → 群众" in lines[0]
    assert "凭邀请码绑定" in lines[1] and "群众 → 承办人 · 盐城市财政局" in lines[1] and "邀请人" in lines[1]
    assert "发出邀请码" in lines[2] and "操作人" in lines[2]


async def test_refused_changes_leave_no_account_event(harness):
    supervisor = harness.supervisor()
    await bind_official(harness, 6011)
    before = len(await account_events(harness))
    assert before == 2  # invite and bind
    guesser = harness.chat(6012)
    await guesser.send("/bind WRONG-CODE1")  # refused, but the failed attempt is committed
    assert "不正确" in guesser.last().text
    await supervisor.send("/unbind 999999")
    assert "没有找到" in supervisor.last().text
    await supervisor.send("/invite 火星局")
    assert "没有找到部门" in supervisor.last().text
    await guesser.send("/invite 市财政局")
    assert "没有权限" in guesser.last().text
    async with harness.session() as session:
        assert await session.scalar(select(func.count(BindFailure.id))) == 1
    assert len(await account_events(harness)) == before

    # A change whose transaction is refused after the event was written: both roll back together.
    async with harness.session() as session:
        with pytest.raises(DomainError):
            async with session.begin():
                actor = Actor(Role.SUPERVISOR, await session.scalar(
                    select(Account).where(Account.telegram_id == supervisor.user_id)))
                await revoke_account(session=session, actor=actor, telegram_id=6011, now=harness.clock.now())
                await session.flush()
                assert await session.scalar(select(func.count(AccountEvent.id))) == before + 1
                raise DomainError("stale")
    assert len(await account_events(harness)) == before
    assert (await account_of(harness, 6011)).role == "official"


async def test_account_events_are_append_only(harness):
    await bind_official(harness, 6013)
    for statement in ("UPDATE account_events SET action = 'unbind'", "DELETE FROM account_events"):
        async with harness.session() as session:
            with pytest.raises(DBAPIError):
                async with session.begin():
                    await session.execute(text(statement))
    assert [e.action for e in await account_events(harness)] == ["invite", "bind"]


async def test_the_access_log_shows_a_regional_supervisor_their_region_only(harness):
    city = harness.supervisor()
    await city.send("/accesslog")
    assert "还没有权限变更记录" in city.last().text
    await bind_official(harness, 6014, first_name="城", last_name="市")
    await bind_official(harness, 6015, department="亭湖区财政局", first_name="亭", last_name="湖")
    regional = await regional_supervisor(harness, 6016, "tinghu")
    await regional_supervisor(harness, 6017, "yandu")
    await city.send("/unbind 6015")

    await regional.send("/accesslog")
    seen = regional.last().text
    assert "（区域：tinghu）" in seen
    assert "亭 湖（ID 6015）" in seen and "承办人 · 亭湖区财政局 → 群众" in seen  # bind and unbind
    assert "督办人员 · tinghu" in seen and "区督办 tinghu（ID 6016）" in seen
    assert "城 市" not in seen and "盐城市财政局" not in seen and "yandu" not in seen
    assert "5 条" in seen  # invite, bind, unbind of the official; invite and bind of the regional supervisor

    await city.send("/accesslog")
    everything = city.last().text
    assert "城 市（ID 6014）" in everything and "yandu" in everything and "亭 湖（ID 6015）" in everything

    official = harness.chat(6014)
    await official.send("/accesslog")
    assert "没有权限" in official.last().text
    dafeng = await regional_supervisor(harness, 6018, "dafeng")
    await dafeng.send("/accesslog")
    assert "2 条" in dafeng.last().text and "tinghu" not in dafeng.last().text


async def test_a_supervisor_is_invited_for_a_region_by_its_name_and_an_unknown_region_is_refused(harness):
    supervisor = harness.supervisor()
    await supervisor.send("/invite supervisor 火星区")
    refusal = supervisor.last().text
    assert "没有找到区域“火星区”" in refusal and "亭湖区（tinghu）" in refusal and not BIND_CODE.search(refusal)
    async with harness.session() as session:
        assert await session.scalar(select(func.count(Invite.id))) == 0
    await supervisor.send("/invite supervisor 亭湖")
    created = supervisor.last().text
    assert "亭湖区" in created and "tinghu" not in created
    newcomer = harness.chat(6009)
    await newcomer.send(f"/bind {BIND_CODE.search(created).group(1)}")
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == 6009))
        assert account.role == "supervisor" and account.region == "tinghu"

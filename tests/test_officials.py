"""Invites, binding and unbinding of officials (and supervisors)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import Account, Invite
from tests.flows import BIND_CODE, bind_official, invite_code


async def test_invite_and_bind(harness):
    code = await invite_code(harness, "市财政局", head=True)
    assert "部门负责人" in harness.supervisor().last().text and "72" not in code
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

"""The web side under test: the real Application (offline harness) plus the aiohttp server with the
public pages, feed and dashboard on a localhost port, and a small seeded world to look at."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.db.models import Case, Department
from bot.web.server import web_app
from bot.web.site import WEB
from tests.conftest import START, Harness, make_settings, start_harness, stop_harness
from tests.flows import DEBT_TEXT, bind_official, file_complaint

BOT_USERNAME = "chengxin_test_bot"
COMPLAINANT_NAME = "王小明"
COMPLAINANT_PHONE = "13812345678"
COMPLAINANT_ID = "320902198001011234"
PERSONAL_TEXT = (
    f"我叫{COMPLAINANT_NAME}，身份证{COMPLAINANT_ID}。我公司给市财政局做政府采购项目，验收合格一年了，"
    f"采购人一直拖欠货款38万元，履约保证金也不退，联系电话{COMPLAINANT_PHONE}。"
)
TINGHU_TEXT = DEBT_TEXT + f"联系人{COMPLAINANT_NAME}，电话{COMPLAINANT_PHONE}。"
PUBLIC_COMMITMENT = ("/register 亭湖区人民政府 | 2027年6月30日 | 兑现设备补贴500万元，联系人电话13900001111 | "
                     "亭湖区招商协议第5条 | 500万元 | 公开")
PRIVATE_COMMITMENT = "/register 亭湖区人民政府 | 2027年5月31日 | 内部协调事项 | 内部 | | 不公开"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Site:
    harness: Harness
    base_url: str
    runner: web.AppRunner

    def url(self, path: str) -> str:
        return self.base_url + path


async def start_site(database_url: str, classifier, **overrides) -> Site:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, CHENGXIN_WEB=True, CHENGXIN_WEB_BASE_URL=base_url,
                             CHENGXIN_BOT_USERNAME=BOT_USERNAME, CHENGXIN_WEB_COOKIE_SECRET="test-cookie-secret",
                             **overrides)
    harness = await start_harness(settings, classifier, FrozenClock(START))
    app = web_app(harness.app, pages=True)
    app[WEB].warm_scores = False   # the tests change the data and look at once; no background recomputation
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Site(harness, base_url, runner)


async def stop_site(site: Site) -> None:
    await site.runner.cleanup()
    await stop_harness(site.harness)


# --- a small world ------------------------------------------------------------------------------------


async def department_id(harness, code: str) -> int:
    async with harness.session() as session:
        return await session.scalar(select(Department.id).where(Department.code == code))


async def regional_supervisor(harness, user_id: int, region: str):
    from tests.flows import BIND_CODE

    await harness.supervisor().send(f"/invite supervisor {region}")
    code = BIND_CODE.search(harness.supervisor().last().text).group(1)
    person = harness.chat(user_id, first_name="区督办", last_name=region)
    await person.send(f"/bind {code}")
    assert "绑定成功" in person.last().text, person.last().text
    return person


@dataclass
class World:
    city_ref: str          # 市财政局's case: verified, a published record (已整改)
    tinghu_ref: str        # 亭湖区住建局's case: in progress, an extension requested
    commitment_ref: str    # a public register commitment of 亭湖区人民政府
    city_official: object
    tinghu_official: object


async def seed_world(harness) -> World:
    """Two complaints by a citizen who typed their name, ID number and phone; one verified into a record,
    the other with an extension request; one public and one private commitment."""
    supervisor = harness.supervisor()
    citizen = harness.chat(20001, first_name=COMPLAINANT_NAME)
    city_official = await bind_official(harness, 30001, "市财政局")
    tinghu_official = await bind_official(harness, 30002, "亭湖区住建局")

    city_ref = await file_complaint(citizen, PERSONAL_TEXT)
    await supervisor.send(f"/assign {city_ref} 市财政局")
    await city_official.press(f"acc:{city_ref}")
    await city_official.send(f"/reply {city_ref} 已核实，正在走付款流程")
    await city_official.send(f"/rectified {city_ref} 货款已全部支付，保证金已退还")
    await supervisor.send(f"/verify {city_ref} 属实 拖欠事实成立")

    tinghu_ref = await file_complaint(citizen, TINGHU_TEXT)
    await supervisor.send(f"/assign {tinghu_ref} 亭湖区住建局")
    await tinghu_official.press(f"acc:{tinghu_ref}")
    await tinghu_official.send(f"/extend {tinghu_ref} 2027年1月29日 需要财政审批")
    assert "延期" in tinghu_official.last().text, tinghu_official.last().text

    await supervisor.send(PUBLIC_COMMITMENT)
    commitment_ref = supervisor.last().text.split("<code>")[1].split("</code>")[0]
    await supervisor.send(PRIVATE_COMMITMENT)
    async with harness.session() as session:
        cases = (await session.scalars(select(Case))).all()
        assert {c.ref: c.status for c in cases} == {city_ref: "closed", tinghu_ref: "in_progress"}
    return World(city_ref, tinghu_ref, commitment_ref, city_official, tinghu_official)

"""The dashboard's doors over HTTP: login links (one use, short-lived, for supervisors and officials only),
the session cookie, CSRF on every form, scope on every route, decisions by form through the domain and
the audit log, the workbook download, the login rate limit."""

from __future__ import annotations

import re

import aiohttp
import pytest
from sqlalchemy import select
from yarl import URL

from bot.db.models import CaseEvent, DishonestyRecord, Extension, OutboundMessage
from bot.domain.audit import verify_chains
from tests.web_support import regional_supervisor, seed_world, start_site, stop_site

LOGIN_LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/([A-Za-z0-9_-]+)")
ROUTES = ["/dashboard", "/dashboard/overdue", "/dashboard/stats", "/dashboard/stats/chart.png",
          "/dashboard/report.xlsx", "/dashboard/cases/YC-20261127-0001"]


@pytest.fixture
async def site(database_url, classifier):
    running = await start_site(database_url, classifier)
    running.world = await seed_world(running.harness)
    yield running
    await stop_site(running)


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def token_for(chat) -> str:
    await chat.send("/web")
    return LOGIN_LINK.search(chat.last().text).group(1)


async def logged_in(site, chat) -> aiohttp.ClientSession:
    http = client()
    token = await token_for(chat)
    async with http.get(site.url(f"/login/{token}")) as page:
        assert page.status == 200 and "一次性登录链接" in await page.text()
    async with http.post(site.url("/login"), data={"token": token}, allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/dashboard", await response.text()
    return http


async def csrf_of(http, site, path: str) -> str:
    async with http.get(site.url(path)) as page:
        return re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text()).group(1)


async def test_every_dashboard_route_needs_a_live_session(site):
    async with client() as http:
        for path in ROUTES:
            async with http.get(site.url(path), allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/dashboard/login", path
        http.cookie_jar.update_cookies({"chengxin_session": "forged.0123"}, URL(site.base_url))
        for path in ROUTES:
            async with http.get(site.url(path), allow_redirects=False) as response:
                assert response.status == 303, path
        async with http.post(site.url("/dashboard/decide"), data={"kind": "exd", "id": "1", "verdict": "1"},
                             allow_redirects=False) as response:
            assert response.status == 303
    async with site.harness.session() as session:
        assert (await session.scalar(select(Extension))).state == "requested"


async def test_a_link_is_single_use_short_lived_and_only_for_supervisors_and_officials(site):
    harness = site.harness
    citizen = harness.chat(20001)
    await citizen.send("/web")
    assert "仅供督办人员" in citizen.last().text and "/login/" not in citizen.last().text

    token = await token_for(harness.supervisor())
    harness.clock.advance(minutes=11)
    async with client() as http:
        async with http.post(site.url("/login"), data={"token": token}, allow_redirects=False) as response:
            assert response.status == 403 and "已过期" in await response.text()
    harness.clock.advance(minutes=-11)
    async with client() as http:
        async with http.post(site.url("/login"), data={"token": token}, allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.cookies["chengxin_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    async with client() as http:
        async with http.post(site.url("/login"), data={"token": token}, allow_redirects=False) as response:
            assert response.status == 403  # used already
    token = await token_for(harness.supervisor())
    async with client() as http:
        async with http.post(site.url("/login"), data={"token": token}, allow_redirects=False,
                             headers={"X-Forwarded-Proto": "https"}) as response:
            assert response.cookies["chengxin_session"]["secure"]


async def test_forms_need_the_csrf_token_and_officials_cannot_decide(site):
    harness, world = site.harness, site.world
    async with site.harness.session() as session:
        extension = await session.scalar(select(Extension))
    http = await logged_in(site, harness.supervisor())
    async with http:
        async with http.post(site.url("/dashboard/decide"), data={"kind": "exd", "id": str(extension.id),
                                                                  "verdict": "1"}) as response:
            assert response.status == 403 and "表单已失效" in await response.text()
        async with http.post(site.url("/logout"), allow_redirects=False) as response:
            assert response.status == 403
    official = await logged_in(site, world.tinghu_official)
    async with official:
        csrf = await csrf_of(official, site, f"/dashboard/cases/{world.tinghu_ref}")
        async with official.post(site.url("/dashboard/decide"), data={
                "kind": "exd", "id": str(extension.id), "verdict": "1", "csrf": csrf}) as response:
            assert response.status == 403
        for path in ("/dashboard/stats", "/dashboard/stats/chart.png"):
            async with official.get(site.url(path)) as response:
                assert response.status == 403
        async with official.get(site.url(f"/dashboard/cases/{world.city_ref}")) as response:
            assert response.status == 404
    async with site.harness.session() as session:
        assert (await session.scalar(select(Extension))).state == "requested"


async def test_a_regional_supervisor_cannot_decide_outside_their_region(site):
    harness, world = site.harness, site.world
    await world.city_official.send(f"/objection {world.city_ref} 款项在投诉前已安排支付")
    async with harness.session() as session:
        record = await session.scalar(select(DishonestyRecord))
    regional = await regional_supervisor(harness, 4100, "tinghu")
    http = await logged_in(site, regional)
    async with http:
        async with http.get(site.url("/dashboard")) as response:
            page = await response.text()
        # The scope line names the region as the directory does (亭湖区), not by its code.
        assert "（督办 · 亭湖区）" in page and "· tinghu" not in page  # (their Telegram name is 区督办 tinghu)
        assert '<optgroup label="亭湖区">' in page and '<optgroup label="市本级">' not in page
        csrf = await csrf_of(http, site, "/dashboard")
        async with http.post(site.url("/dashboard/decide"), data={
                "kind": "obd", "id": str(record.id), "verdict": "1", "csrf": csrf}) as response:
            assert response.status == 404
        async with http.get(site.url("/dashboard?status=closed")) as response:
            assert world.city_ref not in await response.text()
    async with harness.session() as session:
        assert (await session.get(DishonestyRecord, record.id)).status == "objection_pending"


async def test_objection_decided_by_form_goes_through_the_domain_and_the_audit_log(site):
    harness, world = site.harness, site.world
    await world.city_official.send(f"/objection {world.city_ref} 款项在投诉前已安排支付")
    async with harness.session() as session:
        record = await session.scalar(select(DishonestyRecord))
    http = await logged_in(site, harness.supervisor())
    async with http:
        csrf = await csrf_of(http, site, f"/dashboard/cases/{world.city_ref}")
        async with http.get(site.url(f"/dashboard/cases/{world.city_ref}")) as page:
            detail = await page.text()
        assert "异议理由：款项在投诉前已安排支付" in detail and "王小明" in detail  # the supervisor sees who filed
        async with http.post(site.url("/dashboard/decide"), data={
                "kind": "obd", "id": str(record.id), "verdict": "0", "csrf": csrf}) as response:
            assert response.status == 200 and "已处理：异议不成立" in await response.text()
        async with http.post(site.url("/dashboard/decide"), data={
                "kind": "obd", "id": str(record.id), "verdict": "1", "csrf": csrf}) as response:
            assert response.status == 409  # decided already: the domain refuses, nothing changes
        async with http.get(site.url("/dashboard/report.xlsx?month=2026-11")) as response:
            assert response.status == 200 and (await response.read())[:2] == b"PK"
        async with http.post(site.url("/logout"), data={"csrf": csrf}, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get(site.url("/dashboard"), allow_redirects=False) as response:
            assert response.status == 303
    async with harness.session() as session:
        record = await session.get(DishonestyRecord, record.id)
        actions = (await session.scalars(select(CaseEvent.action).order_by(CaseEvent.id))).all()
        queued = (await session.scalars(select(OutboundMessage).where(OutboundMessage.chat_id == 30001))).all()
        assert (await verify_chains(session=session))[1] == []
    assert record.status == "active" and record.objection_decision == "rejected"
    assert actions[-2:] == ["objection", "objection_rejected"]
    # Everything the official heard of the case is an outbound row now (the assignment card, already
    # sent); the decision made by form is the one still owed.
    owed = [m for m in queued if m.state == "pending"]
    assert len(owed) == 1 and "异议不成立" in owed[0].text


async def test_login_is_rate_limited(site):
    async with client() as http:
        codes = []
        for _ in range(12):
            async with http.post(site.url("/login"), data={"token": "wrong"}, allow_redirects=False) as response:
                codes.append(response.status)
    assert codes[:10] == [403] * 10 and codes[10:] == [429, 429]

"""The web pages in a real Chromium (Debian's package, driven by Playwright): the public pages render and
filter; a regional supervisor logs in with the link /web sent in the bot, sees only their region, approves
an extension by form, and the official gets the bot's message once the delivery job runs.

Skipped, with the reason, only when no Chromium binary is installed (CI installs it: .ci/run). Set
CHENGXIN_SCREENSHOTS=1 to write the screenshots into docs/screenshots/ (otherwise a temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import OutboundMessage
from tests.web_support import regional_supervisor, seed_world, start_site, stop_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
LOGIN_LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/[A-Za-z0-9_-]+")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no Chromium binary (apt-get install chromium); browser tests skipped")


@pytest.fixture
async def site(database_url, classifier):
    running = await start_site(database_url, classifier)
    running.world = await seed_world(running.harness)
    yield running
    await stop_site(running)


@pytest.fixture
async def browser():
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
def shots(tmp_path, database_url):
    folder = SCREENSHOTS if os.environ.get("CHENGXIN_SCREENSHOTS") and "sqlite" in database_url else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_public_pages_render_and_filter(site, browser, shots):
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    await page.goto(site.url("/"))
    assert await page.title() == "首页 · 盐城市政务诚信公示"
    await page.screenshot(path=str(shots / "home.png"), full_page=True)

    await page.click("text=失信记录公示")
    assert "共 1 条公示记录" in await page.locator("p.count").inner_text()
    await page.screenshot(path=str(shots / "records.png"), full_page=True)
    await page.select_option("#f-department", "tinghu-zjj")
    await page.click("button:has-text('筛选')")
    assert "department=tinghu-zjj" in page.url
    assert "共 0 条公示记录" in await page.locator("p.count").inner_text()
    await page.select_option("#f-department", "city-czj")
    await page.select_option("#f-domain", "procurement")
    await page.click("button:has-text('筛选')")
    assert "共 1 条公示记录" in await page.locator("p.count").inner_text()
    assert await page.locator("td .status").inner_text() == "已整改"

    await page.click("header >> text=承诺公开")
    assert site.world.commitment_ref in await page.content()
    link = page.locator("a:has-text('在机器人中举报未兑现')").first
    assert (await link.get_attribute("href")).startswith("https://t.me/chengxin_test_bot?start=ru_")
    await page.screenshot(path=str(shots / "commitments.png"), full_page=True)

    await page.click("header >> text=部门诚信评价")
    assert "计分办法" in await page.content()
    await page.screenshot(path=str(shots / "scores.png"), full_page=True)

    await page.goto(site.url("/departments/city-czj"))
    assert await page.locator("h1").inner_text() == "盐城市财政局"
    await page.screenshot(path=str(shots / "department.png"), full_page=True)

    phone = await browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    await phone.goto(site.url("/records"))
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width  # nothing pushes the page sideways on a phone (tables scroll in place)
    await phone.screenshot(path=str(shots / "records-phone.png"), full_page=True)


async def test_supervisor_logs_in_from_the_bot_sees_only_their_region_and_approves_an_extension(
        site, browser, shots):
    harness, world = site.harness, site.world
    regional = await regional_supervisor(harness, 4100, "tinghu")
    await regional.send("/web")
    link = LOGIN_LINK.search(regional.last().text).group(0)

    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    await page.goto(link)
    await page.click("button:has-text('登录')")
    assert page.url == site.url("/dashboard")
    listing = await page.content()
    assert world.tinghu_ref in listing and world.city_ref not in listing
    assert "区督办" in await page.locator(".who").inner_text()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "chengxin_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    await page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    await page.goto(site.url(f"/dashboard/cases/{world.city_ref}"))   # another region's case: as if missing
    assert "没有找到" in await page.content()

    await page.goto(site.url("/dashboard"))
    await page.click(f"text={world.tinghu_ref}")
    assert "申请延期至 2027-01-29" in await page.content()
    await page.screenshot(path=str(shots / "dashboard-case.png"), full_page=True)
    await page.click("button:has-text('同意延期')")
    assert "已处理：同意延期" in await page.locator(".notice").inner_text()
    assert "已同意" in await page.content()

    async with harness.session() as session:
        queued = (await session.scalars(select(OutboundMessage).where(OutboundMessage.chat_id == 30002))).all()
    owed = [m for m in queued if m.state == "pending"]   # the assignment card went out when the case was assigned
    assert len(owed) == 1 and "延期至 2027-01-29" in owed[0].text
    official = world.tinghu_official
    delivery = harness.app.job_queue.get_jobs_by_name("delivery_job")[0]
    await delivery.run(harness.app)
    assert "同意案件" in official.last().text and "2027-01-29" in official.last().text

    await page.click("text=逾期看板")
    assert await page.locator("h1").inner_text() == "逾期看板"
    await page.goto(site.url("/dashboard/stats?month=2026-11"))
    assert "新增" in await page.content()
    chart = await page.request.get(site.url("/dashboard/stats/chart.png?month=2026-11"))
    assert chart.ok and chart.headers["content-type"] == "image/png"
    await page.screenshot(path=str(shots / "dashboard-stats.png"), full_page=True)

    await page.click("button:has-text('退出登录')")
    await page.goto(site.url("/dashboard"))
    assert page.url == site.url("/dashboard/login")

    await page.goto(link)                           # the link was used: it opens nothing again
    await page.click("button:has-text('登录')")
    assert "已使用或已过期" in await page.content()


async def test_an_official_gets_a_read_only_view_of_their_department(site, browser):
    harness, world = site.harness, site.world
    await world.tinghu_official.send("/web")
    link = LOGIN_LINK.search(world.tinghu_official.last().text).group(0)
    page = await browser.new_page(locale="zh-CN")
    await page.goto(link)
    await page.click("button:has-text('登录')")
    listing = await page.content()
    assert world.tinghu_ref in listing and world.city_ref not in listing and "只读" in listing
    await page.click(f"text={world.tinghu_ref}")
    content = await page.content()
    assert "申请延期至 2027-01-29" in content and "同意延期" not in content
    assert "王小明" not in content and "13812345678" not in content   # the official sees the masked text
    await page.goto(site.url("/dashboard/stats"))
    assert "无权" in await page.content()

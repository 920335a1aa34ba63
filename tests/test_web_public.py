"""The public pages and the open-data feed, over HTTP on localhost: what a visitor and the city's
credit system see, and what they never see (anyone's personal data)."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest
from multidict import CIMultiDict
from sqlalchemy import select

from sqlalchemy import update

from bot.db.models import Department, DishonestyRecord
from bot.web.site import SCHEMA_FILE
from tests.flows import file_complaint
from tests.web_support import (
    BOT_USERNAME, COMPLAINANT_ID, COMPLAINANT_NAME, COMPLAINANT_PHONE, PERSONAL_TEXT, seed_world, start_site,
    stop_site,
)

# The complainant's name, phone and ID number (typed into the complaint), a phone in a commitment's text,
# the officials' and the supervisor's names and everyone's Telegram ids.
PERSONAL = (COMPLAINANT_NAME, COMPLAINANT_PHONE, COMPLAINANT_ID, "13900001111", "承办 30001", "承办 30002", "督办 李",
            "20001", "30001", "30002", "90001")


@pytest.fixture
async def site(database_url, classifier):
    running = await start_site(database_url, classifier)
    running.world = await seed_world(running.harness)
    yield running
    await stop_site(running)


async def get(site, path: str, **headers) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(site.url(path), headers=headers, allow_redirects=False) as response:
            return response.status, await response.text(), CIMultiDict(response.headers)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_records_page_shows_the_verified_record_masked_with_its_status_and_rules(site):
    status, html, headers = await get(site, "/records")
    assert status == 200
    text = visible_text(html)
    assert "政务失信记录公示" in text and "共 1 条公示记录" in text
    assert "盐城市财政局" in text and "政府采购" in text and "已整改" in text
    assert "拖欠货款38万元" in text and "138****5678" in text
    assert "容错纠错" in text and "disclosure.tolerated" in text and "公示 3 年" in text
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in html


async def test_records_filter_by_department_domain_and_year(site):
    _, html, _ = await get(site, "/records?department=tinghu-zjj")
    assert "共 0 条公示记录" in visible_text(html)
    _, html, _ = await get(site, "/records?department=city-czj&domain=procurement&year=2026")
    assert "共 1 条公示记录" in visible_text(html)
    _, html, _ = await get(site, "/records?year=2025")
    assert "共 0 条公示记录" in visible_text(html)
    _, html, _ = await get(site, "/records?domain=nonsense&department=%3Cscript%3E")
    assert "共 1 条公示记录" in visible_text(html)


async def test_repair_and_objection_are_shown_by_the_policy_rules(site):
    harness = site.harness
    official, ref = site.world.city_official, site.world.city_ref
    await official.send(f"/objection {ref} 款项在投诉前已安排支付")
    _, html, _ = await get(site, "/records")
    assert "异议处理中" in visible_text(html) and "disclosure.objection_pending" in html
    async with harness.session() as session:
        record = await session.scalar(select(DishonestyRecord))
    await harness.supervisor().press(f"obd:{record.id}:0")
    await official.send(f"/repair {ref} 已全额支付并书面致歉")
    await harness.supervisor().press(f"rpd:{record.id}:1")
    _, html, _ = await get(site, "/records")
    text = visible_text(html)
    assert "已修复" in text and "依信用修复规则标注" in text


async def test_a_tolerated_case_takes_its_record_off_the_page(site):
    supervisor, ref = site.harness.supervisor(), site.world.city_ref
    await supervisor.send(f"/reopen {ref} 复查")
    await supervisor.send(f"/tolerate {ref} 主动纠错，已挽回损失")
    _, html, _ = await get(site, "/records")
    text = visible_text(html)
    assert "共 0 条公示记录" in text and "依此规则未公示 1 条" in text


async def test_regions_are_shown_by_the_names_the_directory_gives(site):
    _, html, _ = await get(site, "/departments/tinghu-zjj")
    text = visible_text(html)
    assert "亭湖区住房和城乡建设局" in text and "区域 亭湖区" in text and "tinghu" not in text
    _, html, _ = await get(site, "/departments/city-czj")
    assert "区域 市本级" in visible_text(html)
    for path in ("/records", "/commitments"):
        _, html, _ = await get(site, path)
        assert '<optgroup label="亭湖区">' in html and '<optgroup label="市本级">' in html, path
        assert 'label="tinghu"' not in html
    _, html, _ = await get(site, "/departments")
    assert re.search(r"<h2[^>]*>亭湖区</h2>", html) and re.search(r"<h2[^>]*>响水县</h2>", html)
    # A region the directory gave no name keeps its code (nothing is invented).
    async with site.harness.session() as session:
        await session.execute(update(Department).where(Department.code == "city-czj").values(region="newzone"))
        await session.commit()
    _, html, _ = await get(site, "/departments/city-czj")
    assert "区域 newzone" in visible_text(html)
    _, body, _ = await get(site, "/open-data/records.json")
    assert [(r["region"], r["region_name"]) for r in json.loads(body)["items"]] == [("newzone", "newzone")]


async def test_counts_follow_every_committed_change_with_no_stale_page(site):
    """The totals are kept between requests by the records' version: each write below goes through the
    bot (not the web), and the very next page and feed show its count."""
    harness, supervisor, ref = site.harness, site.harness.supervisor(), site.world.city_ref
    from bot.web.site import WEB

    totals = site.runner.app[WEB].totals
    for _ in range(2):  # the second time from the cache
        _, html, _ = await get(site, "/records")
        assert "共 1 条公示记录" in visible_text(html)
    assert totals._entries
    citizen = harness.chat(20001)
    official = site.world.city_official
    second = await file_complaint(citizen, PERSONAL_TEXT.replace("38万元", "12万元"))
    await supervisor.send(f"/assign {second} 市财政局")
    await official.press(f"acc:{second}")
    await official.send(f"/reply {second} 已核实")
    await official.send(f"/rectified {second} 已支付")
    await supervisor.send(f"/verify {second} 属实")
    _, html, _ = await get(site, "/records")
    assert "共 2 条公示记录" in visible_text(html)
    _, body, _ = await get(site, "/open-data/records.json")
    assert json.loads(body)["total"] == 2
    _, html, _ = await get(site, "/departments/city-czj")
    assert "失信记录（2 条公示）" in visible_text(html)
    await supervisor.send(f"/reopen {ref} 复查")
    await supervisor.send(f"/tolerate {ref} 主动纠错，已挽回损失")
    _, html, _ = await get(site, "/records")
    text = visible_text(html)
    assert "共 1 条公示记录" in text and "依此规则未公示 1 条" in text
    _, body, _ = await get(site, "/open-data/records.json")
    assert json.loads(body)["total"] == 1
    await supervisor.send(f"/reopen {ref} 再次复查")  # no longer tolerated: public again
    _, html, _ = await get(site, "/records")
    assert "共 2 条公示记录" in visible_text(html)
    async with harness.session() as session:
        flags = sorted((await session.scalars(select(DishonestyRecord.case_tolerated))).all())
    assert flags == [False, False]


async def test_commitment_register_with_deep_link_and_no_private_commitment(site):
    ref = site.world.commitment_ref
    _, html, _ = await get(site, "/commitments")
    text = visible_text(html)
    assert ref in text and "兑现设备补贴500万元" in text and "5,000,000.00 元" in text and "履行中" in text
    assert "内部协调事项" not in text
    assert f"https://t.me/{BOT_USERNAME}?start=ru_" in html
    _, detail, _ = await get(site, f"/commitments/{ref}")
    assert "版本记录" in detail and "亭湖区招商协议第5条" in detail
    status, _, _ = await get(site, "/commitments/CN-2099-9999")
    assert status == 404


async def test_the_deep_link_opens_the_bot_at_report_unkept(site):
    harness = site.harness
    _, html, _ = await get(site, "/commitments")
    start = re.search(r"\?start=(ru_[A-Za-z0-9-]+)", html).group(1)
    visitor = harness.chat(20009, first_name="访客")
    await visitor.send(f"/start {start}")
    assert site.world.commitment_ref in visitor.last().text and "未兑现" in visitor.last().text
    assert len(visitor.texts()) == 1  # no welcome after it
    await visitor.send("/start ru_999999")
    assert "欢迎" not in visitor.last().text


async def test_scores_page_matches_score_and_department_page(site):
    _, html, _ = await get(site, "/scores?month=2026-11")
    text = visible_text(html)
    assert "部门诚信评价" in text and "计分办法" in text and "盐城市财政局" in text
    await site.harness.supervisor().send("/score 市财政局 2026-11")
    bot_score = re.search(r"得分：<b>([\d.]+)</b>（(\S+?)）", site.harness.supervisor().last().text)
    row = re.search(r'盐城市财政局</a></td><td class="num">([\d.]+)</td><td>(\S+?)</td>', html)
    assert row and bot_score and row.groups() == bot_score.groups() == ("90", "优秀")
    status, _, _ = await get(site, "/scores?month=2026-13")
    assert status == 400
    _, html, _ = await get(site, "/departments/city-czj")
    text = visible_text(html)
    assert "盐城市财政局" in text and "统一社会信用代码" in text and "2026-11" in text and "已整改" in text
    status, _, _ = await get(site, "/departments/nowhere")
    assert status == 404


async def test_feed_validates_paginates_and_answers_304(site):
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for dataset in ("records", "commitments", "scores"):
        status, body, headers = await get(site, f"/open-data/{dataset}.json?per_page=1")
        assert status == 200, body
        document = json.loads(body)
        jsonschema.validate(document, schema)
        assert headers["Content-Type"].startswith("application/json")
        assert headers["ETag"] and headers["Last-Modified"]
        again, _, _ = await get(site, f"/open-data/{dataset}.json?per_page=1", **{"If-None-Match": headers["ETag"]})
        assert again == 304
    async with site.harness.session() as session:
        await session.execute(update(Department).where(Department.code == "city-czj")
                              .values(credit_code="11320900014123456K"))
        await session.commit()
    _, body, _ = await get(site, "/open-data/records.json")
    document = json.loads(body)
    record = document["items"][0]
    assert record["department_name"] == "盐城市财政局" and record["status"] == "rectified"
    assert record["credit_code"] == "11320900014123456K" and record["status_name"] == "已整改"
    assert record["region"] == "city" and record["region_name"] == "市本级"
    _, body, _ = await get(site, "/open-data/commitments.json?per_page=1")
    document = json.loads(body)
    assert document["total"] == 1 and document["next"] is None and document["items"][0]["amount"] == "5000000.00"
    status, csv_text, headers = await get(site, "/open-data/records.csv")
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_text.lstrip("\ufeff").splitlines()[0].startswith("id,department_code,department_name,credit_code")
    assert ",city-czj,盐城市财政局,11320900014123456K,city,市本级,procurement,政府采购," in csv_text
    status, body, _ = await get(site, "/open-data/schema.json")
    assert status == 200 and json.loads(body)["$defs"]["record"]


async def test_no_personal_data_on_any_public_page_or_feed_item(site):
    """Crawl every public page linked from the home page (and their links), and every feed page."""
    seen: set[str] = set()
    queue = ["/", "/records", "/commitments", "/scores", "/departments", "/open-data"]
    pages = 0
    while queue and pages < 400:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        status, body, _ = await get(site, path)
        pages += 1
        if status != 200:
            continue
        for identifier in PERSONAL:
            assert identifier not in body, (identifier, path)
        if path.startswith("/open-data/"):
            continue
        for link in re.findall(r'href="(/[^"#]*)"', body):
            link = link.replace("&amp;", "&")
            if not link.startswith(("/dashboard", "/static", "/login")) and link not in seen:
                queue.append(link)
    assert pages > 20
    for dataset in ("records", "commitments", "scores"):
        for fmt in ("json", "csv"):
            _, body, _ = await get(site, f"/open-data/{dataset}.{fmt}?per_page=500")
            for identifier in PERSONAL:
                assert identifier not in body, (identifier, dataset, fmt)


async def test_feed_is_rate_limited(site):
    from bot.web.site import WEB

    state = site.runner.app[WEB]
    state.feed_limit.limit = 3
    codes = [(await get(site, "/open-data/records.json"))[0] for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]

"""A citizen's data lifecycle through the real Application: the notice, the export, erasure refused while a
case is open and done after it closed (the audit chain still verifying), and anonymisation after the
retention period."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot import texts
from bot.db.models import Account, Case
from bot.domain.audit import verify_chains
from tests.flows import PROCUREMENT_TEXT, file_complaint


async def test_privacy_notice_and_the_first_complaint_mentions_it(harness):
    citizen = harness.chat(8801)
    await citizen.send("/privacy")
    assert "不会知道是谁投诉的" in citizen.last().text and "3 年" in citizen.last().text
    await citizen.send(texts.BTN_COMPLAIN)
    assert "/privacy" in citizen.last().text


async def test_mydata_sends_everything_stored_as_a_document(harness):
    citizen = harness.chat(8802, first_name="小明", last_name="李")
    ref = await file_complaint(citizen)
    await citizen.send("/mydata")
    document = harness.request.sent(citizen.user_id, method="sendDocument")[-1]
    assert list(document.params["_files"].values()) == [texts.MYDATA_FILENAME]
    # The document's bytes are what the export made; read them back from the domain.
    from bot.domain.personal_data import export_personal_data

    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == citizen.user_id))
        data = await export_personal_data(session=session, account=account)
    assert data["account"]["name"] == "李 小明" or "小明" in data["account"]["name"]
    assert data["cases"][0]["ref"] == ref and "38万元" in data["cases"][0]["text"]
    json.dumps(data, ensure_ascii=False, default=str)


async def test_forgetme_is_refused_while_a_case_is_open_and_erases_after(harness):
    citizen = harness.chat(8803, first_name="大成", last_name="周")
    ref = await file_complaint(citizen, PROCUREMENT_TEXT)
    await citizen.send("/forgetme")
    assert ref in citizen.last().text and "/withdraw" in citizen.last().text
    async with harness.session() as session:
        assert (await session.scalar(select(Case).where(Case.ref == ref))).complainant.telegram_id == citizen.user_id
    await citizen.send(f"/withdraw {ref}")
    await citizen.tap(texts.BTN_WITHDRAW_CONFIRM)
    await citizen.send("/forgetme")
    await citizen.tap(texts.BTN_FORGET_YES)
    assert "已完成" in citizen.last().text
    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        assert case.complainant.telegram_id == 0 and "13812345678" not in case.text
        assert (await verify_chains(session=session))[1] == []
    await citizen.send("/mycases")
    assert ref not in citizen.last().text
    await harness.supervisor().send(f"/case {ref}")
    assert "投诉人身份信息已匿名化" in "\n".join(harness.supervisor().texts()[-3:])


async def test_closed_cases_are_anonymised_after_the_retention_period(harness):
    citizen = harness.chat(8804)
    ref = await file_complaint(citizen)
    await citizen.send(f"/withdraw {ref}")
    await citizen.tap(texts.BTN_WITHDRAW_CONFIRM)
    job = harness.app.job_queue.get_jobs_by_name("retention_job")[0]
    harness.clock.advance(days=365 * 2)
    await job.run(harness.app)
    async with harness.session() as session:
        assert (await session.scalar(select(Case).where(Case.ref == ref))).complainant.telegram_id == citizen.user_id
    harness.clock.advance(days=365 + 2)
    await job.run(harness.app)
    async with harness.session() as session:
        case = await session.scalar(select(Case).where(Case.ref == ref))
        assert case.complainant.telegram_id == 0
        assert (await verify_chains(session=session))[1] == []

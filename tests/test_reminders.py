"""Clocks, reminders and escalation: on working days, once, after downtime too, through Telegram's errors."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot import texts
from bot.db.models import Account, OutboundMessage, Reminder
from tests.conftest import SHANGHAI, make_settings, start_harness, stop_harness
from tests.flows import accepted_case, assigned_case, bind_official


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def sweep(harness, when: datetime | None = None) -> None:
    if when is not None:
        harness.clock.set(when)
    await harness.app.job_queue.get_jobs_by_name("reminder_sweep_job")[0].run(harness.app)


def reminders_to(harness, chat) -> list[str]:
    """Messages carrying ladder reminders (a morning digest may share the message)."""
    return [t for t in chat.texts() if "办理提醒" in t]


async def reminder_states(harness) -> dict[str, int]:
    async with harness.session() as session:
        rows = (await session.execute(select(Reminder.state, func.count()).group_by(Reminder.state))).all()
    return dict(rows)


async def test_ladder_across_a_weekend_sends_each_rung_once(harness):
    official = await bind_official(harness, 9101)
    citizen = harness.chat(9001)
    ref = await assigned_case(harness, citizen)          # Friday 2026-11-27 10:00; accept due Tuesday 12-01
    await sweep(harness, at(2026, 11, 28, 10, 0))        # Saturday: nothing
    await sweep(harness, at(2026, 11, 30, 8, 59))        # Monday before 09:00: nothing yet
    assert reminders_to(harness, official) == []

    await sweep(harness, at(2026, 11, 30, 9, 0))
    first = reminders_to(harness, official)
    assert len(first) == 1
    assert f"<code>{ref}</code> 受理：截止 2026-12-01（剩 1 个工作日）" in first[0]
    assert official.last().buttons == [(f"查看 {ref}", f"vc:{ref}")]
    await sweep(harness, at(2026, 11, 30, 9, 5))
    assert len(reminders_to(harness, official)) == 1    # never twice

    await official.tap(f"查看 {ref}")
    assert "隐去个人信息" in official.last().text

    await sweep(harness, at(2026, 12, 1, 9, 0))
    assert "今天到期" in reminders_to(harness, official)[-1]
    await sweep(harness, at(2026, 12, 2, 9, 0))
    assert "已逾期 1 个工作日" in reminders_to(harness, official)[-1]
    await sweep(harness, at(2026, 12, 3, 9, 0))           # overdue: every working day
    assert "已逾期 2 个工作日" in reminders_to(harness, official)[-1]


async def test_meeting_the_deadline_cancels_its_reminders(harness):
    official = await bind_official(harness, 9102)
    ref = await assigned_case(harness, harness.chat(9002))
    await official.press(f"acc:{ref}")
    states = await reminder_states(harness)
    assert states.get("cancelled", 0) >= 4                # the accept ladder
    await sweep(harness, at(2026, 11, 30, 9, 0))
    await sweep(harness, at(2026, 12, 2, 9, 0))
    assert reminders_to(harness, official) == []          # the reply clock is due later


async def test_one_digest_for_several_items(harness):
    official = await bind_official(harness, 9103)
    citizen = harness.chat(9003)
    refs = [await assigned_case(harness, citizen) for _ in range(3)]
    await sweep(harness, at(2026, 11, 30, 9, 0))
    messages = reminders_to(harness, official)
    assert len(messages) == 1 and "（3 项）" in messages[0]
    assert all(ref in messages[0] for ref in refs)


async def test_escalation_to_head_then_supervisors_with_history(database_url, classifier):
    from bot.clock import FrozenClock
    from tests.conftest import START

    running = await start_harness(make_settings(database_url, CHENGXIN_SUPERVISOR_CHAT="-100777"), classifier,
                                  FrozenClock(START))
    try:
        official = await bind_official(running, 9104)
        head = await bind_official(running, 9105, head=True)
        ref = await assigned_case(running, running.chat(9004))   # accept due Tue 12-01
        for day in (30,):
            await sweep(running, at(2026, 11, day, 9, 0))
        for day in (1, 2, 3, 4):
            await sweep(running, at(2026, 12, day, 9, 0))
        head_messages = [t for t in head.texts() if "部门督办" in t]
        assert len(head_messages) == 1 and ref in head_messages[0] and "此前已提醒" in head_messages[0]
        assert "已逾期 3 个工作日" in head_messages[0]
        supervisor = running.supervisor()
        assert not [t for t in supervisor.texts() if "逾期督办" in t]
        await sweep(running, at(2026, 12, 7, 9, 0))
        await sweep(running, at(2026, 12, 8, 9, 0))
        escalations = [t for t in supervisor.texts() if "逾期督办" in t]
        assert len(escalations) == 1 and "已逾期 5 个工作日" in escalations[0]
        group = [c.text for c in running.request.messages_to(-100777)]
        assert any("逾期督办" in t for t in group)
        assert len([t for t in official.texts() if "办理提醒" in t]) >= 5
    finally:
        await stop_harness(running)


async def test_no_reminders_at_night_or_on_holidays_and_catch_up_after_downtime(harness):
    official = await bind_official(harness, 9106)
    citizen = harness.chat(9006)
    ref = await assigned_case(harness, citizen)
    # The bot is down from Friday until the next Thursday evening 22:00: quiet hours, nothing goes out.
    await sweep(harness, at(2026, 12, 3, 22, 0))
    assert reminders_to(harness, official) == []
    # Friday 08:00 is the next allowed moment: one catch-up message, not one per missed rung.
    await sweep(harness, at(2026, 12, 4, 8, 0))
    messages = reminders_to(harness, official)
    assert len(messages) == 1 and "补发" in messages[0] and ref in messages[0]
    assert "已逾期 3 个工作日" in messages[0]
    states = await reminder_states(harness)
    assert states["superseded"] >= 2
    await sweep(harness, at(2026, 12, 4, 8, 1))
    assert len(reminders_to(harness, official)) == 1


async def test_national_day_holiday_and_its_make_up_working_days(harness):
    harness.clock.set(at(2026, 9, 28, 10, 0))            # Monday before National Day
    official = await bind_official(harness, 9107)
    ref = await assigned_case(harness, harness.chat(9007))  # accept due Wed 09-30
    await sweep(harness, at(2026, 9, 29, 9, 0))
    assert "剩 1 个工作日" in reminders_to(harness, official)[-1]
    await sweep(harness, at(2026, 9, 30, 9, 0))
    assert "今天到期" in reminders_to(harness, official)[-1]
    for day in range(1, 8):                                # 10-01 … 10-07 are days off
        await sweep(harness, at(2026, 10, day, 10, 0))
    assert len(reminders_to(harness, official)) == 2       # T−1 and due day only
    await sweep(harness, at(2026, 10, 8, 9, 0))
    assert "已逾期 1 个工作日" in reminders_to(harness, official)[-1]
    await sweep(harness, at(2026, 10, 9, 9, 0))
    await sweep(harness, at(2026, 10, 10, 9, 0))           # Saturday, but a make-up working day
    assert "已逾期 3 个工作日" in reminders_to(harness, official)[-1]
    assert ref in reminders_to(harness, official)[-1]


async def test_an_extension_moves_the_ladder(harness):
    official = await bind_official(harness, 9108)
    ref = await accepted_case(harness, harness.chat(9008), official)   # reply due 12-11
    await official.send(f"/extend {ref} 2026年12月31日 需要审计")
    await harness.supervisor().tap(texts.BTN_GRANT)
    await sweep(harness, at(2026, 12, 10, 9, 0))           # old ladder's T−1: cancelled
    assert reminders_to(harness, official) == []
    await sweep(harness, at(2026, 12, 30, 9, 0))
    assert "截止 2026-12-31（剩 1 个工作日）" in reminders_to(harness, official)[-1]


async def test_morning_digest_and_supervisors_daily_list(harness):
    official = await bind_official(harness, 9109)
    for _ in range(2):
        await assigned_case(harness, harness.chat(9009))
    await sweep(harness, at(2026, 12, 2, 9, 0))            # both accept clocks overdue now
    morning = [t for t in official.texts() if "今日待办" in t]
    assert len(morning) == 1 and "共 2 项" in morning[0]
    assert len(official.texts()) == len(set(official.texts()))
    await sweep(harness, at(2026, 12, 2, 9, 30))
    daily = [t for t in harness.supervisor().texts() if "每日逾期清单" in t]
    assert len(daily) == 1 and "（2 项）" in daily[0]
    await sweep(harness, at(2026, 12, 2, 11, 0))
    assert len([t for t in official.texts() if "今日待办" in t]) == 1


async def test_telegram_errors_are_retried_or_recorded_and_never_stop_the_sweep(harness):
    blocked = await bind_official(harness, 9110, department="亭湖区住房和城乡建设局")
    head = await bind_official(harness, 9111, department="亭湖区住房和城乡建设局", head=True)
    flaky = await bind_official(harness, 9112)
    busy = await bind_official(harness, 9113, department="盐都区住房和城乡建设局")
    await assigned_case(harness, harness.chat(9010), department="亭湖区住房和城乡建设局")
    await assigned_case(harness, harness.chat(9011))
    await assigned_case(harness, harness.chat(9012), department="盐都区住房和城乡建设局")
    failures = {"flaky": 2, "busy": 1}

    def transport(call):
        if call.method != "sendMessage":
            return None
        if call.chat_id == blocked.user_id:
            return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        if call.chat_id == flaky.user_id and failures["flaky"]:
            failures["flaky"] -= 1
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        if call.chat_id == busy.user_id and failures["busy"]:
            failures["busy"] -= 1
            return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                         "parameters": {"retry_after": 7}}
        return None

    harness.request.faults.append(transport)
    await sweep(harness, at(2026, 11, 30, 9, 0))
    assert reminders_to(harness, head) and not reminders_to(harness, flaky) and not reminders_to(harness, busy)
    async with harness.session() as session:
        account = await session.scalar(select(Account).where(Account.telegram_id == blocked.user_id))
        states = dict((await session.execute(select(OutboundMessage.state, func.count())
                                             .group_by(OutboundMessage.state))).all())
    assert account.unreachable is True and states.get("unreachable") == 1
    notices = [t for t in head.texts() if "已屏蔽本机器人" in t]
    assert len(notices) == 1

    await sweep(harness, at(2026, 11, 30, 9, 0, 8))       # 429 waited 7 s; the 502 backs off 30 s
    assert len(reminders_to(harness, busy)) == 1 and not reminders_to(harness, flaky)
    await sweep(harness, at(2026, 11, 30, 9, 1))
    await sweep(harness, at(2026, 11, 30, 9, 3))
    assert len(reminders_to(harness, flaky)) == 1
    async with harness.session() as session:
        flaky_row = await session.scalar(select(OutboundMessage).where(OutboundMessage.chat_id == flaky.user_id,
                                                                       OutboundMessage.kind == "digest"))
    assert flaky_row.state == "sent" and flaky_row.attempts == 3
    await sweep(harness, at(2026, 12, 1, 9, 0))
    assert len([t for t in head.texts() if "已屏蔽本机器人" in t]) == 1   # told once
    assert not [c for c in harness.request.calls if c.chat_id == blocked.user_id and "办理提醒" in c.text]


async def test_a_message_that_keeps_failing_is_given_up(harness):
    flaky = await bind_official(harness, 9114)
    await assigned_case(harness, harness.chat(9013))
    harness.request.faults.append(
        lambda call: (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
        if call.method == "sendMessage" and call.chat_id == flaky.user_id else None)
    moment = at(2026, 11, 30, 9, 0)
    for _ in range(8):
        await sweep(harness, moment)
        moment += timedelta(minutes=20)
    async with harness.session() as session:
        row = await session.scalar(select(OutboundMessage).where(OutboundMessage.chat_id == flaky.user_id,
                                                                 OutboundMessage.kind == "digest"))
    assert row.state == "failed" and row.attempts == harness.services.policy.max_send_attempts
    assert "Internal Server Error" in row.last_error


async def test_two_instances_sweep_side_by_side_and_each_reminder_goes_once(database_url, classifier):
    """Thousands of due rungs, two Applications sweeping the same database at once."""
    import asyncio

    from sqlalchemy import insert

    from bot.clock import FrozenClock
    from bot.db.models import Case, Department, Obligation

    clock = FrozenClock(at(2026, 11, 30, 9, 0))
    first = await start_harness(make_settings(database_url), classifier, clock)
    second = await start_harness(make_settings(database_url), classifier, clock)
    try:
        now = clock.now()
        async with first.session() as session:
            citizen = Account(telegram_id=1, role="citizen", created_at=now, last_seen_at=now)
            session.add(citizen)
            await session.flush()
            departments = (await session.scalars(select(Department).order_by(Department.id).limit(100))).all()
            await session.execute(insert(Account), [
                {"telegram_id": 500000 + d.id, "role": "official", "department_id": d.id, "is_head": False,
                 "created_at": now, "last_seen_at": now} for d in departments])
            await session.execute(insert(Case), [
                {"ref": f"YC-20261127-{n:05d}", "status": "in_progress", "domain": "debt", "domain_confidence": 1.0,
                 "domain_terms": [], "suggested_domain": "debt", "department_id": departments[n % 100].id,
                 "complainant_id": citizen.id, "text": "x", "text_masked": "x", "contact_allowed": False,
                 "created_at": now, "updated_at": now, "reopen_count": 0} for n in range(3000)])
            case_ids = (await session.scalars(select(Case.id).order_by(Case.id))).all()
            await session.execute(insert(Obligation), [
                {"case_id": case_id, "kind": "reply", "department_id": departments[n % 100].id,
                 "due_at": now + timedelta(days=1), "state": "open", "created_at": now}
                for n, case_id in enumerate(case_ids)])
            obligation_ids = (await session.scalars(select(Obligation.id))).all()
            await session.execute(insert(Reminder), [
                {"obligation_id": oid, "stage": "before", "overdue_days": -1, "send_at": now - timedelta(minutes=1),
                 "state": "pending", "created_at": now} for oid in obligation_ids])
            await session.commit()

        await asyncio.gather(*(sweep(h) for h in (first, second)))
        sent = [c.text for h in (first, second) for c in h.request.sent(method="sendMessage")]
        items = sum(int(n) for text in sent for n in re.findall(r"办理提醒</b>（(\d+) 项", text))
        assert items == 3000                                   # every rung in exactly one digest
        assert await reminder_states(first) == {"dispatched": 3000}
        assert sum("今日待办" in text for text in sent) == 100    # one morning list per official, not two
    finally:
        await stop_harness(second)
        await stop_harness(first)

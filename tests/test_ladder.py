"""The reminder ladder: before, on and after the due day, in working days, outside quiet hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from bot.domain.ladder import PlannedReminder, next_overdue_reminder, plan_reminders, working_days_left
from bot.domain.workdays import WorkCalendar
from bot.policy import Policy

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.china()
POLICY = Policy()


def at(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def plan(due_at: datetime, policy: Policy = POLICY) -> list[tuple[str, datetime, int]]:
    return [(r.stage, r.send_at, r.overdue_days)
            for r in plan_reminders(due_at, policy=policy, calendar=CAL, tz=TZ)]


def test_ladder_across_a_weekend():
    # Due Tuesday 17 March 2026: T-3 is the Thursday before, T-1 Monday.
    assert plan(at(2026, 3, 17, 18, 0)) == [
        ("before", at(2026, 3, 12), -3),
        ("before", at(2026, 3, 16), -1),
        ("due", at(2026, 3, 17), 0),
        ("overdue", at(2026, 3, 18), 1),
        ("escalate_head", at(2026, 3, 20), 3),
        ("escalate_supervisors", at(2026, 3, 24), 5),
    ]


def test_ladder_across_national_day():
    # Due Thursday 8 Oct 2026, first working day after the holiday.
    assert plan(at(2026, 10, 8, 23, 59)) == [
        ("before", at(2026, 9, 28), -3),
        ("before", at(2026, 9, 30), -1),
        ("due", at(2026, 10, 8), 0),
        ("overdue", at(2026, 10, 9), 1),
        ("escalate_head", at(2026, 10, 12), 3),  # Sat 10 Oct is a 调休 working day
        ("escalate_supervisors", at(2026, 10, 14), 5),
    ]
    # Due Wednesday 30 Sep: overdue only once work resumes, and the make-up Saturday counts.
    assert plan(at(2026, 9, 30, 17, 0))[-3:] == [
        ("overdue", at(2026, 10, 8), 1),
        ("escalate_head", at(2026, 10, 10), 3),
        ("escalate_supervisors", at(2026, 10, 13), 5),
    ]


def test_due_day_is_the_local_date():
    # 17:00 UTC on the 16th is 01:00 on the 17th in Shanghai: due the 17th.
    utc = datetime(2026, 3, 16, 17, 0, tzinfo=timezone.utc)
    due = [r for r in plan_reminders(utc, policy=POLICY, calendar=CAL, tz=TZ) if r.stage == "due"]
    assert due[0].send_at == at(2026, 3, 17)
    assert due[0].send_at.tzinfo is not None


def test_due_on_a_day_off_reminds_on_the_last_working_day_before():
    # Due Saturday 14 March: "due" on Friday 13, T-1 Thursday, overdue Monday 16.
    stages = plan(at(2026, 3, 14, 12, 0))
    assert stages[:3] == [("before", at(2026, 3, 10), -3), ("before", at(2026, 3, 12), -1),
                          ("due", at(2026, 3, 13), 0)]
    assert stages[3] == ("overdue", at(2026, 3, 16), 1)


def test_send_time_in_quiet_hours_is_moved():
    early = replace(POLICY, send_time=time(7, 0))
    stages = plan(at(2026, 3, 17), early)
    assert all(send_at.time() == time(8, 0) for _, send_at, _ in stages)


def test_ladder_follows_the_policy():
    custom = replace(POLICY, ladder_before=(5,), remind_on_due_day=False,
                     escalate_head_after=1, escalate_supervisors_after=2, send_time=time(10, 30))
    assert plan(at(2026, 3, 17), custom) == [
        ("before", at(2026, 3, 10, 10, 30), -5),
        ("overdue", at(2026, 3, 18, 10, 30), 1),
        ("escalate_head", at(2026, 3, 18, 10, 30), 1),
        ("escalate_supervisors", at(2026, 3, 19, 10, 30), 2),
    ]


def test_ladder_is_sorted_and_includes_the_past():
    reminders = plan_reminders(at(2020, 1, 6), policy=POLICY, calendar=CAL, tz=TZ)
    assert len(reminders) == 6 and all(isinstance(r, PlannedReminder) for r in reminders)
    assert [r.send_at for r in reminders] == sorted(r.send_at for r in reminders)


def test_next_overdue_reminder_every_working_day():
    due = at(2026, 9, 29, 18, 0)
    first = next_overdue_reminder(due, at(2026, 9, 29, 20, 0), policy=POLICY, calendar=CAL, tz=TZ)
    assert first == PlannedReminder("overdue", at(2026, 9, 30), 1)
    second = next_overdue_reminder(due, first.send_at, policy=POLICY, calendar=CAL, tz=TZ)
    assert second == PlannedReminder("overdue", at(2026, 10, 8), 2)
    third = next_overdue_reminder(due, second.send_at, policy=POLICY, calendar=CAL, tz=TZ)
    fourth = next_overdue_reminder(due, third.send_at, policy=POLICY, calendar=CAL, tz=TZ)
    assert (third.send_at, fourth.send_at, fourth.overdue_days) == (at(2026, 10, 9), at(2026, 10, 10), 4)


def test_next_overdue_reminder_before_the_due_day_gives_the_first():
    due = at(2026, 3, 17)
    r = next_overdue_reminder(due, at(2026, 3, 1), policy=POLICY, calendar=CAL, tz=TZ)
    assert r == PlannedReminder("overdue", at(2026, 3, 18), 1)


def test_next_overdue_reminder_off_by_policy():
    once = replace(POLICY, overdue_every_working_day=False)
    assert next_overdue_reminder(at(2026, 3, 17), at(2026, 3, 18), policy=once, calendar=CAL, tz=TZ) is None


def test_working_days_left():
    due = at(2026, 10, 8, 18, 0)
    left = lambda now: working_days_left(due, now, calendar=CAL, tz=TZ)  # noqa: E731
    assert left(at(2026, 9, 28)) == 3
    assert left(at(2026, 9, 30, 23, 0)) == 1
    assert left(at(2026, 10, 3)) == 1  # on holiday: the 8th is the next working day
    assert left(at(2026, 10, 8, 20, 0)) == 0
    assert left(at(2026, 10, 9)) == -1
    assert left(at(2026, 10, 10)) == -2  # 调休 Saturday counts
    assert left(at(2026, 10, 11)) == -2
    assert left(at(2026, 10, 12)) == -3


def test_working_days_left_after_a_due_day_off():
    due = at(2026, 3, 14)  # Saturday
    assert working_days_left(due, at(2026, 3, 13), calendar=CAL, tz=TZ) == 0
    assert working_days_left(due, at(2026, 3, 15), calendar=CAL, tz=TZ) == -1  # past is overdue
    assert working_days_left(due, at(2026, 3, 16), calendar=CAL, tz=TZ) == -1
    assert working_days_left(due, at(2026, 3, 17), calendar=CAL, tz=TZ) == -2


def test_domain_modules_stay_free_of_telegram():
    import ast
    import pathlib

    import bot.domain.dates as dates_mod
    import bot.domain.ladder as ladder_mod
    import bot.domain.workdays as workdays_mod
    for mod in (dates_mod, ladder_mod, workdays_mod):
        tree = ast.parse(pathlib.Path(mod.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("telegram", "handlers", "scheduler")), (mod.__name__, name)

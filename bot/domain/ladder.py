"""The reminder ladder for one obligation: before, on and after its due day.

The deadline is the END of the due day (due_at's local date). The ladder, by default:
T−3 and T−1 working days at send_time, the due day, the first working day overdue, the
department head at +3 working days overdue and the supervisors at +5. Every moment is
moved out of quiet hours and off days off by WorkCalendar.next_allowed_moment.

When the due day itself is not a working day (a date the official chose, e.g. a
Saturday), the "due" reminder and the "before" steps count from the last working day
before it — the last day anyone is at work to act — while overdue counts from the due
day itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.domain.workdays import WorkCalendar

if TYPE_CHECKING:  # bot.policy lives outside the domain; only its shape is used here
    from bot.policy import Policy

STAGES = ("before", "due", "overdue", "escalate_head", "escalate_supervisors")


@dataclass(frozen=True)
class PlannedReminder:
    stage: str  # one of STAGES
    send_at: datetime  # timezone-aware, in the ladder's tz
    overdue_days: int  # working days overdue; negative = working days left; 0 on the due day


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the reminder ladder needs timezone-aware datetimes")
    return moment.astimezone(tz).date()


def _at(day: date, policy: Policy, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    moment = datetime.combine(day, policy.send_time, tzinfo=tz)
    return calendar.next_allowed_moment(moment, quiet_start=policy.quiet_start, quiet_end=policy.quiet_end)


def plan_reminders(due_at: datetime, *, policy: Policy, calendar: WorkCalendar, tz: ZoneInfo) -> list[PlannedReminder]:
    """Every reminder for an obligation due at `due_at`, past ones included, ordered by send_at."""
    due_day = _local_day(due_at, tz)
    last_working = calendar.subtract_working_days(due_day, 0)  # due_day, or the working day before it
    plan: list[PlannedReminder] = []
    for k in sorted(set(policy.ladder_before), reverse=True):
        day = calendar.subtract_working_days(last_working, k)
        plan.append(PlannedReminder("before", _at(day, policy, calendar, tz), -k))
    if policy.remind_on_due_day:
        plan.append(PlannedReminder("due", _at(last_working, policy, calendar, tz), 0))
    first_overdue = calendar.next_working_day(due_day)
    plan.append(PlannedReminder("overdue", _at(first_overdue, policy, calendar, tz), 1))
    for stage, n in (("escalate_head", policy.escalate_head_after),
                     ("escalate_supervisors", policy.escalate_supervisors_after)):
        day = calendar.add_working_days(due_day, n)
        plan.append(PlannedReminder(stage, _at(day, policy, calendar, tz), n))
    plan.sort(key=lambda r: (r.send_at, STAGES.index(r.stage)))
    return plan


def next_overdue_reminder(due_at: datetime, after: datetime, *, policy: Policy, calendar: WorkCalendar,
                          tz: ZoneInfo) -> PlannedReminder | None:
    """The daily overdue reminder for the first working day strictly after `after`'s local date
    (and after the due day); None when the policy does not repeat overdue reminders."""
    if not policy.overdue_every_working_day:
        return None
    due_day = _local_day(due_at, tz)
    day = calendar.next_working_day(max(_local_day(after, tz), due_day))
    return PlannedReminder("overdue", _at(day, policy, calendar, tz), calendar.working_days_between(due_day, day))


def working_days_left(due_at: datetime, now: datetime, *, calendar: WorkCalendar, tz: ZoneInfo) -> int:
    """Working days in (today, due day]: > 0 left, 0 due today, < 0 overdue by that many working days.

    A day past the due day is always overdue (at least -1), even before the next working day.
    """
    due_day, today = _local_day(due_at, tz), _local_day(now, tz)
    if today > due_day:
        return -max(1, calendar.working_days_between(due_day, today))
    return calendar.working_days_between(today, due_day)

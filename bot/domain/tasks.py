"""An official's work list: the department's open cases, nearest deadline first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, Department, Obligation
from bot.domain.lifecycle import OPEN_STATUSES


@dataclass(frozen=True)
class Task:
    ref: str
    status: str
    clock: str | None
    due_at: datetime | None


async def department_tasks(*, session: AsyncSession, department_id: int) -> tuple[Department, list[Task]]:
    """The department and its open cases, each with its nearest open clock; cases without a clock last."""
    department = await session.get(Department, department_id)
    nearest: dict[int, tuple[str, datetime]] = {}
    for case_id, kind, due_at in (await session.execute(
        select(Obligation.case_id, Obligation.kind, Obligation.due_at)
        .where(Obligation.department_id == department_id, Obligation.state == "open",
               Obligation.case_id.is_not(None))
        .order_by(Obligation.due_at)
    )).all():
        nearest.setdefault(case_id, (kind, due_at))
    cases = (await session.execute(
        select(Case.id, Case.ref, Case.status)
        .where(Case.department_id == department_id, Case.status.in_(OPEN_STATUSES))
    )).all()
    tasks = [Task(ref, status, *nearest.get(case_id, (None, None))) for case_id, ref, status in cases]
    tasks.sort(key=lambda t: (t.due_at is None, t.due_at or datetime.min, t.ref))
    return department, tasks

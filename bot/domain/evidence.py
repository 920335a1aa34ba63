"""Evidence attached to cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Evidence


async def evidence_of(*, session: AsyncSession, case_id: int) -> list[Evidence]:
    return list((await session.scalars(select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id))).all())

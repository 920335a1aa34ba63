"""Reads of one case that several audiences share: relayed replies, a co-complainant's own words."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Case, CoComplainant, Commitment, Reply


async def replies_of(*, session: AsyncSession, case_id: int) -> list[Reply]:
    """What the department answered, oldest first (the texts the complainants were sent)."""
    return list((await session.scalars(select(Reply).where(Reply.case_id == case_id).order_by(Reply.id))).all())


async def co_complaint_text(*, session: AsyncSession, case_id: int, account_id: int | None) -> str | None:
    """The words a co-complainant wrote when joining: all they see of the case's text."""
    if account_id is None:
        return None
    return await session.scalar(select(CoComplainant.text).where(
        CoComplainant.case_id == case_id, CoComplainant.account_id == account_id))


async def linked_commitment_ref(*, session: AsyncSession, case: Case) -> str | None:
    """The register commitment a case reports as unkept (举报未兑现), if any."""
    if case.commitment_id is None:
        return None
    return await session.scalar(select(Commitment.ref).where(Commitment.id == case.commitment_id))

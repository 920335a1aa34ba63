"""Duplicate and related cases: near-identical complaints against the same department.

Each process keeps a MinHash/LSH index of open cases' fingerprints (stored on the case row), topped up
from the database before every query, so cases opened by another instance are found too. A candidate
is confirmed against the database (still open) before anyone is told about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Account, Case, CoComplainant
from bot.domain.audit import append_event
from bot.domain.errors import DomainError
from bot.domain.lifecycle import OPEN_STATUSES
from bot.domain.roles import Actor
from nlp.similarity import Fingerprint, SimilarityIndex

DUPLICATE_THRESHOLD = 0.5
RELATED_THRESHOLD = 0.3
SYSTEMIC_COMPLAINANTS = 3


@dataclass(frozen=True)
class SimilarCase:
    case: Case
    similarity: float


class DuplicateFinder:
    """The per-process index of open cases, grouped by department."""

    def __init__(self) -> None:
        self.index = SimilarityIndex()
        self._last_id = 0

    async def refresh(self, *, session: AsyncSession) -> None:
        rows = (await session.execute(
            select(Case.id, Case.department_id, Case.fingerprint)
            .where(Case.id > self._last_id, Case.fingerprint.is_not(None), Case.status.in_(OPEN_STATUSES))
            .order_by(Case.id)
        )).all()
        for case_id, department_id, packed in rows:
            self.index.add(case_id, Fingerprint.from_bytes(packed), department_id)
            self._last_id = max(self._last_id, case_id)

    async def similar_open_cases(self, *, session: AsyncSession, fingerprint: Fingerprint, department_id: int,
                                 threshold: float = DUPLICATE_THRESHOLD) -> list[SimilarCase]:
        """Open cases against the same department whose text is nearly the same, most similar first."""
        await self.refresh(session=session)
        found = []
        for case_id, _ in self.index.query(fingerprint, group=department_id, threshold=threshold):
            case = await session.get(Case, case_id)
            if case is None or case.status not in OPEN_STATUSES:
                self.index.remove(case_id)
                continue
            score = fingerprint.similarity(Fingerprint.from_bytes(case.fingerprint))
            if score >= threshold:
                found.append(SimilarCase(case, score))
        return sorted(found, key=lambda s: -s.similarity)


async def join_case(*, session: AsyncSession, case: Case, actor: Actor, text: str, now: datetime) -> CoComplainant:
    """Join an open case as a co-complainant instead of opening a duplicate."""
    if case.status not in OPEN_STATUSES:
        raise DomainError("case_closed", ref=case.ref, status=case.status)
    if case.complainant_id == actor.account_id or await session.scalar(
        select(CoComplainant.id).where(CoComplainant.case_id == case.id, CoComplainant.account_id == actor.account_id)
    ):
        raise DomainError("already_joined", ref=case.ref)
    joined = CoComplainant(case_id=case.id, account_id=actor.account_id, text=text, created_at=now)
    session.add(joined)
    case.updated_at = now
    await append_event(session=session, case=case, action="co_complainant", actor=actor, now=now)
    return joined


async def related_cases(*, session: AsyncSession, case: Case, limit: int = 5) -> list[SimilarCase]:
    """Other cases against the same department with similar text, any status (for supervisors)."""
    if case.fingerprint is None or case.department_id is None:
        return []
    mine = Fingerprint.from_bytes(case.fingerprint)
    candidates = (await session.scalars(
        select(Case).where(Case.department_id == case.department_id, Case.id != case.id,
                           Case.fingerprint.is_not(None)).order_by(Case.id.desc()).limit(500)
    )).all()
    scored = [SimilarCase(c, mine.similarity(Fingerprint.from_bytes(c.fingerprint))) for c in candidates]
    return sorted((s for s in scored if s.similarity >= RELATED_THRESHOLD), key=lambda s: -s.similarity)[:limit]


async def complainants_against(*, session: AsyncSession, department_id: int, domain: str) -> int:
    """Distinct people with open cases against one department in one domain (filers and co-complainants)."""
    open_cases = select(Case.id).where(Case.department_id == department_id, Case.domain == domain,
                                       Case.status.in_(OPEN_STATUSES))
    filers = select(Case.complainant_id.label("who")).where(Case.id.in_(open_cases))
    joined = select(CoComplainant.account_id.label("who")).where(CoComplainant.case_id.in_(open_cases))
    people = filers.union(joined).subquery()
    return await session.scalar(select(func.count()).select_from(people)) or 0


async def co_complainants_of(*, session: AsyncSession, case_id: int) -> list[Account]:
    """Accounts that joined a case, so they hear of its progress too."""
    return list((await session.scalars(
        select(Account).join(CoComplainant, CoComplainant.account_id == Account.id)
        .where(CoComplainant.case_id == case_id).order_by(CoComplainant.id)
    )).all())
